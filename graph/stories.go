package graph

import (
	"context"
	"fmt"
	"time"

	"github.com/ishoj/voresishoj/graph/model"
	"github.com/ishoj/voresishoj/internal/story"
	"github.com/ishoj/voresishoj/internal/tz"
	"github.com/ishoj/voresishoj/internal/user"
)

// listStories pages through published stories, newest first.
func (r *Resolver) listStories(ctx context.Context, f story.Filter, first *int, after *string) (*model.StoryConnection, error) {
	limit, c, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	var key *story.Key
	if c != nil {
		t, err := cursorTime(c)
		if err != nil {
			return nil, err
		}
		key = &story.Key{PublishedAt: t, ID: c.ID}
	}
	sts, err := r.Domain.Stories.ListPublished(ctx, user.CallerFrom(ctx), f, key, limit+1)
	if err != nil {
		return nil, err
	}
	return storyConnection(sts, limit, func(s *story.Story) cursor { return cursor{T: s.PublishedAt, ID: s.ID} }), nil
}

func storyConnection(sts []story.Story, limit int, cursorOf func(*story.Story) cursor) *model.StoryConnection {
	edges, info := connection(sts, limit, cursorOf,
		func(cur string, s *story.Story) model.StoryEdge { return model.StoryEdge{Cursor: cur, Node: s} })
	return &model.StoryConnection{Edges: edges, PageInfo: info}
}

// storyInput translates the submit and edit inputs.
func storyInput(title, body string, authorName, activityID, orgID, callID *string, themes []string,
	links []model.StoryLinkInput, photos []model.PhotoInput, removePhotoIDs []string,
	consentPeople, hasChildren bool, consentGuardian *bool) (story.Input, error) {
	in := story.Input{Title: title, Body: body, AuthorName: deref(authorName), Themes: themes,
		ConsentPeople: consentPeople, HasChildren: hasChildren, ConsentGuardian: deref(consentGuardian)}
	var err error
	if in.ActivityID, err = optionalID(typeActivity, activityID, "activityId"); err != nil {
		return in, err
	}
	if in.OrganisationID, err = optionalID(typeOrganisation, orgID, "organisationId"); err != nil {
		return in, err
	}
	if in.CallID, err = optionalID(typeCall, callID, "callId"); err != nil {
		return in, err
	}
	for _, l := range links {
		in.Links = append(in.Links, story.LinkInput{Kind: l.Kind, URL: l.URL, Label: deref(l.Label)})
	}
	for _, p := range photos {
		in.Photos = append(in.Photos, story.PhotoInput{Reader: p.File.File, Alt: deref(p.Alt)})
	}
	for i, gid := range removePhotoIDs {
		id, err := idOf(typePhoto, gid, "removePhotoIds", fmt.Sprint(i))
		if err != nil {
			return in, err
		}
		in.RemovePhotoIDs = append(in.RemovePhotoIDs, id)
	}
	return in, nil
}

func months(ms []story.Month) []model.MonthCount {
	out := make([]model.MonthCount, len(ms))
	for i, m := range ms {
		first := time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, tz.Copenhagen)
		out[i] = model.MonthCount{Month: first.Format("2006-01-02"), Count: m.Count, Hours: m.Hours}
	}
	return out
}
