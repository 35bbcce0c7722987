package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// The migrations, one folder per dialect. A migration that has shipped is
// never edited; migrations/README.md says how to add one, and
// migrations/SHA256SUMS (checked by a test) records them.
//
//go:embed migrations
var migrations embed.FS

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several replicas may start at once; one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.DB.DB, sub, opts...)
}

// Migrate brings the schema up to date and reports how many migrations ran.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("prepare migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrate: %w", err)
	}
	return len(results), nil
}

// MigrateTo brings the schema up to version and no further, for tests of
// a migration that moves data: they write rows as the version before had
// them, then run the rest.
func (db *DB) MigrateTo(ctx context.Context, version int64) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("prepare migrations: %w", err)
	}
	results, err := p.UpTo(ctx, version)
	if err != nil {
		return len(results), fmt.Errorf("migrate to %d: %w", version, err)
	}
	return len(results), nil
}

// SchemaCurrent reports whether every embedded migration has been applied;
// /readyz uses it so a replica with an old schema is not sent traffic.
func (db *DB) SchemaCurrent(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", err)
	}
	return !pending, nil
}

// SchemaVersion reports the last migration applied to the database and the
// last one this binary carries.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	return current, latest, nil
}
