// Package theme holds the fixed vocabulary of themes that activities,
// stories and follows are tagged with. A fixed list keeps filters and
// follows meaningful; the secretariat extends it with a migration.
package theme

import (
	"context"
	"fmt"
	"sync"

	"github.com/ishoj/voresishoj/internal/apperr"
	"github.com/ishoj/voresishoj/internal/store"
)

// Theme is one entry of the vocabulary.
type Theme struct {
	Slug     string `db:"slug"`
	NameDA   string `db:"name_da"`
	NameEN   string `db:"name_en"`
	Position int    `db:"position"`
}

// Name returns the theme's name in lang, Danish when there is none.
func (t Theme) Name(lang string) string {
	if lang == "en" {
		return t.NameEN
	}
	return t.NameDA
}

// Service reads the vocabulary, cached after the first read since it only
// changes with a migration.
type Service struct {
	db  *store.DB
	mu  sync.Mutex
	all []Theme
}

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// All returns every theme in display order.
func (s *Service) All(ctx context.Context) ([]Theme, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all != nil {
		return s.all, nil
	}
	var all []Theme
	if err := store.Select(ctx, s.db, &all, `SELECT slug, name_da, name_en, position FROM themes ORDER BY position`); err != nil {
		return nil, fmt.Errorf("themes: %w", err)
	}
	s.all = all
	return all, nil
}

// Validate checks that every slug names a theme; field is the input path.
func (s *Service) Validate(ctx context.Context, slugs []string, field ...string) error {
	all, err := s.All(ctx)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(all))
	for _, t := range all {
		known[t.Slug] = true
	}
	var errs apperr.List
	for _, slug := range slugs {
		if !known[slug] {
			errs.Add("UNKNOWN_THEME", field...).With("Theme", slug)
		}
	}
	if len(slugs) > 10 {
		errs.Add(apperr.CodeTooLong, field...).With("Max", 10)
	}
	return errs.Err()
}
