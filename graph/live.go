package graph

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ishoj/voresishoj/internal/activity"
	"github.com/ishoj/voresishoj/internal/event"
	"github.com/ishoj/voresishoj/internal/participation"
	"github.com/ishoj/voresishoj/internal/pubsub"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/user"
	"github.com/ishoj/voresishoj/internal/volunteer"
)

// ForwardEvents returns the event-bus handler that turns domain events into
// signals for the subscriptions of every replica. A signal only says what
// changed; each replica reads the current state when it sends.
func ForwardEvents(broker pubsub.Broker, log *slog.Logger) event.Handler {
	return func(ctx context.Context, e event.Event) {
		var topic string
		sig := pubsub.Signal{ID: pubsub.NewSignalID(), Kind: string(e.Kind), ActivityID: e.ActivityID, SlotID: e.SlotID,
			StoryID: e.StoryID, UserID: e.UserID, OrganisationID: e.OrganisationID}
		switch e.Kind {
		case event.ActivityPublished:
			topic = pubsub.TopicActivityPublished()
		case event.SlotChanged:
			topic = pubsub.TopicSlotChanged(e.ActivityID)
		case event.StoryPublished:
			topic = pubsub.TopicStoryPublished()
		case event.ParticipationChanged:
			topic = pubsub.TopicHeadcountChanged(e.ActivityID)
			sig.OccurrenceStartsAt = e.StartsAt
		default:
			return
		}
		payload, err := sig.Encode()
		if err == nil {
			// The change is committed whatever happens here; a lost signal
			// costs a live update, which the app recovers by refetching.
			err = broker.Publish(context.WithoutCancel(ctx), topic, payload)
		}
		if err != nil {
			log.Warn("live update not sent", slog.String("topic", topic), slog.String("error", err.Error()))
		}
	}
}

// shared makes the subscribers one signal wakes read its state once per
// replica. Singleflight alone is not enough: 10,000 subscribers wake over
// hundreds of milliseconds, so most arrive after the first read finished
// and would each start another (a third of them did). The result is kept
// under the signal's id, which every signal carries; a later signal for
// the same thing has a new id and reads afresh.
type shared struct {
	group singleflight.Group
	mu    sync.Mutex
	done  map[string]any
}

// sharedDone bounds the memory of read signals; when full it starts over,
// which costs a fan-out in progress one more read, not a wrong answer.
const sharedDone = 1024

func sharedLoad[T any](s *shared, key, signalID string, load func() (T, error)) (T, error) {
	if signalID == "" {
		// A signal from a replica that does not number them yet.
		v, err, _ := s.group.Do(key, func() (any, error) { return load() })
		if err != nil {
			var zero T
			return zero, err
		}
		return v.(T), nil
	}
	k := key + "@" + signalID
	s.mu.Lock()
	v, ok := s.done[k]
	s.mu.Unlock()
	if ok {
		return v.(T), nil
	}
	v, err, _ := s.group.Do(k, func() (any, error) {
		v, err := load()
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.done == nil || len(s.done) >= sharedDone {
			s.done = make(map[string]any)
		}
		s.done[k] = v
		s.mu.Unlock()
		return v, nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// subscribe runs one subscription: for every signal on topic, load turns
// it into the payload (or skips it with ok false), which goes to the
// client. A slow client blocks only its own loop; meanwhile the broker
// drops what its bounded buffer cannot hold.
func subscribe[T any](ctx context.Context, r *Resolver, topic string, load func(pubsub.Signal) (*T, bool, error)) (<-chan *T, error) {
	return subscribeEach(ctx, r, topic, func(sig pubsub.Signal) ([]*T, error) {
		v, ok, err := load(sig)
		if err != nil || !ok {
			return nil, err
		}
		return []*T{v}, nil
	})
}

// subscribeEach is subscribe for a signal that may make several
// payloads (headcountUpdated: one per occurrence), sent in order.
func subscribeEach[T any](ctx context.Context, r *Resolver, topic string, load func(pubsub.Signal) ([]*T, error)) (<-chan *T, error) {
	sub, err := r.Broker.Subscribe(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	out := make(chan *T, 1)
	go func() {
		defer close(out)
		defer sub.Close()
		for payload := range sub.C {
			sig, err := pubsub.Decode(payload)
			if err != nil {
				r.Log.Warn("bad live signal", slog.String("topic", topic), slog.String("error", err.Error()))
				continue
			}
			vs, err := load(sig)
			if err != nil {
				r.Log.Error("live update: load failed", slog.String("topic", topic), slog.String("error", err.Error()))
				continue
			}
			for _, v := range vs {
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// The reads one signal shares between its subscribers are of what a
// visitor may see, which is the same for every one of them; what differs
// per subscriber (myClaim, a slot's roster) is read in their own response.
var visitor user.Caller

// watchedActivity is the id of the activity a subscription asks to watch,
// refused as not found when the caller may not see it: a subscription
// must not tell a stranger that a draft exists.
func (r *Resolver) watchedActivity(ctx context.Context, activityID string) (int64, error) {
	id, err := idOf(typeActivity, activityID, "activityId")
	if err != nil {
		return 0, err
	}
	if _, err := r.Domain.Activities.Activity(ctx, user.CallerFrom(ctx), id); err != nil {
		if isNotFound(err) {
			return 0, errNotFound
		}
		return 0, err
	}
	return id, nil
}

func (r *Resolver) liveSlot(id int64, signalID string) (volunteer.Slot, error) {
	return sharedLoad(&r.live, "slot:"+strconv.FormatInt(id, 10), signalID, func() (volunteer.Slot, error) {
		return r.Domain.Volunteer.Slot(context.Background(), visitor, id)
	})
}

func (r *Resolver) liveActivity(id int64, signalID string) (activity.Activity, []string, error) {
	type loaded struct {
		a      activity.Activity
		themes []string
	}
	l, err := sharedLoad(&r.live, "activity:"+strconv.FormatInt(id, 10), signalID, func() (loaded, error) {
		a, err := r.Domain.Activities.Activity(context.Background(), visitor, id)
		if err != nil {
			return loaded{}, err
		}
		themes, err := r.Domain.Activities.ThemesByIDs(context.Background(), []int64{id})
		return loaded{a, themes[id]}, err
	})
	return l.a, l.themes, err
}

func (r *Resolver) liveStory(id int64, signalID string) (story.Story, error) {
	return sharedLoad(&r.live, "story:"+strconv.FormatInt(id, 10), signalID, func() (story.Story, error) {
		return r.Domain.Stories.Story(context.Background(), visitor, id)
	})
}

// liveHeadcounts reads the counts a headcount signal for the activity id
// asks for, once per signal on this replica: of the occurrence at occ,
// or, when occ is zero, of each that has not ended (the first
// liveHeadcountOccurrences). Counts are public wherever the activity is,
// so every subscriber gets the same.
func (r *Resolver) liveHeadcounts(id int64, occ time.Time, signalID string) ([]participation.Headcount, error) {
	key := "headcount:" + strconv.FormatInt(id, 10) + ":"
	if !occ.IsZero() {
		key += strconv.FormatInt(occ.UnixNano(), 10)
	}
	return sharedLoad(&r.live, key, signalID, func() ([]participation.Headcount, error) {
		ctx := context.Background()
		if occ.IsZero() {
			return r.Domain.Participation.UpcomingHeadcounts(ctx, id, liveHeadcountOccurrences)
		}
		o := participation.Occurrence{ActivityID: id, StartsAt: occ.UTC()}
		hs, err := r.Domain.Participation.Headcounts(ctx, []participation.Occurrence{o})
		if err != nil {
			return nil, err
		}
		return []participation.Headcount{hs[o]}, nil
	})
}

// liveHeadcountOccurrences bounds the messages a change of a whole
// activity makes per subscriber: a weekly activity has 52 dates a year,
// and the app shows the next few.
const liveHeadcountOccurrences = 20
