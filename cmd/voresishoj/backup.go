package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/store"
)

// backup writes a consistent copy of the configured database to FILE while
// the server keeps serving. It does not migrate: a newer binary run beside
// an older server must not change the schema under it.
func backup(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		return errors.New("usage: voresishoj backup FILE")
	}
	info, err := store.Backup(ctx, cfg.DatabaseURL, args[0])
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "backup of %s written to %s: %d bytes, schema version %d\n"+
		"Back up the media too (%s, or the bucket), taken after this backup.\n",
		cfg.RedactedDatabaseURL(), info.Path, info.Bytes, info.Version, filepath.Join(cfg.DataDir, "media"))
	return err
}

// restore puts a backup in place of the configured database, then
// migrates it as the server would at start.
func restore(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	replace := fs.Bool("replace", false, "replace an existing SQLite database (the server must be stopped; the old file is kept beside it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) > 1 { // restore FILE --replace
		if err := fs.Parse(rest[1:]); err != nil {
			return err
		}
		rest = append(rest[:1], fs.Args()...)
	}
	if len(rest) != 1 {
		return errors.New("usage: voresishoj restore [--replace] FILE")
	}
	res, err := store.Restore(ctx, cfg.DatabaseURL, rest[0], store.RestoreOptions{Replace: *replace})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	db, err := app.OpenDB(ctx, cfg, discard(log))
	if err != nil {
		return fmt.Errorf("restored, but the migration failed: %w", err)
	}
	current, _, err := db.SchemaVersion(ctx)
	db.Close()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "restored %s (schema version %d) into %s; migrated to version %d\n",
		res.Path, res.Version, cfg.RedactedDatabaseURL(), current)
	if err == nil && res.Previous != "" {
		_, err = fmt.Fprintf(stdout, "the database it replaced is kept at %s\n", res.Previous)
	}
	if err == nil {
		_, err = fmt.Fprintf(stdout, "Restore the media (%s, or the bucket) from the same time before starting the server.\n",
			filepath.Join(cfg.DataDir, "media"))
	}
	return err
}
