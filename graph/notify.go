package graph

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/notify"
	"github.com/ishoj/voresishoj/internal/pubsub"
	"github.com/ishoj/voresishoj/internal/user"
)

// followTarget translates FollowInput; exactly one target must be given.
func (r *Resolver) followTarget(ctx context.Context, in model.FollowInput) (notify.Target, error) {
	var t notify.Target
	n := 0
	if in.OrganisationID != nil {
		id, err := idOf(typeOrganisation, *in.OrganisationID, "organisationId")
		if err != nil {
			return t, err
		}
		t, n = notify.Target{Kind: notify.TargetOrganisation, OrganisationID: id}, n+1
	}
	if in.PlaceID != nil {
		id, err := idOf(typePlace, *in.PlaceID, "placeId")
		if err != nil {
			return t, err
		}
		t, n = notify.Target{Kind: notify.TargetPlace, PlaceID: id}, n+1
	}
	if in.Theme != nil {
		if err := r.Domain.Themes.Validate(ctx, []string{*in.Theme}, "theme"); err != nil {
			return t, err
		}
		t, n = notify.Target{Kind: notify.TargetTheme, Theme: *in.Theme}, n+1
	}
	if n != 1 {
		return t, apperr.New("EXACTLY_ONE_TARGET")
	}
	return t, nil
}

func (r *Resolver) followPayload(ctx context.Context, c user.Caller, err error) (*model.FollowPayload, error) {
	if err != nil {
		ues, err := userErrors(ctx, err)
		return &model.FollowPayload{UserErrors: ues}, err
	}
	fs, err := r.Domain.Notify.Follows(ctx, c)
	if err != nil {
		return nil, err
	}
	return &model.FollowPayload{Follows: fs, UserErrors: []model.UserError{}}, nil
}

// parseClock reads "HH:MM" as minutes after midnight.
func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

func formatClock(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

// NotifyLive returns the hook that tells the subscribers of
// notificationReceived about new inbox entries, across replicas.
func NotifyLive(broker pubsub.Broker, log *slog.Logger) func(ctx context.Context, created []notify.Created) {
	return func(ctx context.Context, created []notify.Created) {
		for _, c := range created {
			payload, err := pubsub.Signal{Kind: "notification", NotificationID: c.ID, UserID: c.UserID}.Encode()
			if err == nil {
				err = broker.Publish(context.WithoutCancel(ctx), pubsub.TopicNotification(c.UserID), payload)
			}
			if err != nil {
				log.Warn("live notification not sent", slog.Int64("notification_id", c.ID), slog.String("error", err.Error()))
			}
		}
	}
}
