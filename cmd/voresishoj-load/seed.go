package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/loadgen"
)

func runSeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dbURL := fs.String("db", "", "SQLite path or postgres:// URL")
	n := fs.Int("activities", 1000, "activities to generate")
	_ = fs.Parse(args)
	if *dbURL == "" {
		return fmt.Errorf("seed needs --db")
	}
	db, err := app.OpenDB(ctx, config.Config{DatabaseURL: *dbURL}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	c, err := loadgen.Seed(ctx, db, loadgen.Scale{Activities: *n}, time.Now())
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Printf("seed %s: %d activities, %d occurrences, %d themes, %d slots, %d claims, %d organisations, %d places, %d users\n",
		db.Dialect, c.Activities, c.Occurrences, c.Themes, c.Slots, c.Claims, c.Organisations, c.Places, c.Users)
	fmt.Printf("seed %s: %d rows in %s = %.0f rows/s\n", db.Dialect, c.Rows(), took.Round(time.Millisecond), float64(c.Rows())/took.Seconds())
	return nil
}
