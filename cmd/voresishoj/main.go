// Command voresishoj is the Vores Ishøj backend: the GraphQL server and the
// few commands an operator needs beside it.
//
//	voresishoj                      serve the API (same as "serve")
//	voresishoj serve                serve the API
//	voresishoj migrate              bring the database schema up to date and exit
//	voresishoj token --email E      print a sign-in token for E (local sign-in mode only,
//	                                with the key the server made in DATA_DIR)
//	voresishoj grant-secretariat --email E | --uid U
//	                                give a person the secretariat role
//	voresishoj backup FILE          write a consistent copy of the database to FILE
//	                                while the server runs (SQLite; pg_dump for PostgreSQL)
//	voresishoj restore [--replace] FILE
//	                                put a backup in place of the database and migrate it
//	                                (the server must be stopped)
//	voresishoj version              print the version and commit of this build
//
// Settings come from environment variables; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ishoj/voresishoj/internal/app"
	"github.com/ishoj/voresishoj/internal/auth"
	"github.com/ishoj/voresishoj/internal/buildinfo"
	"github.com/ishoj/voresishoj/internal/config"
	"github.com/ishoj/voresishoj/internal/logging"
	"github.com/ishoj/voresishoj/internal/organisation"
	"github.com/ishoj/voresishoj/internal/user"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal starts a graceful shutdown; a second one, with
		// the default behaviour restored, ends the process at once.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// JSON like every other line, one entry per problem.
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("voresishoj did not run", slog.Any("errors", strings.Split(err.Error(), "\n")))
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := logging.New(stderr, cfg.LogLevel, nil)

	switch cmd {
	case "serve":
		// People appear in the server's log as pseudonyms; the other
		// commands log no one.
		p, warning := logging.LoadPseudonyms(cfg.LogCallerKey, cfg.DataDir)
		log = logging.New(stderr, cfg.LogLevel, p)
		// The log package, slog's default and through it the libraries'
		// logs (go-redis, see internal/redisconn) write JSON lines too.
		logging.Install(log)
		if warning != "" {
			log.Warn(warning)
		}
		return serve(ctx, cfg, log)
	case "migrate":
		db, err := app.OpenDB(ctx, cfg, log)
		if err != nil {
			return err
		}
		return db.Close()
	case "token":
		return token(ctx, cfg, log, args, stdout)
	case "grant-secretariat":
		return grantSecretariat(ctx, cfg, log, args, stdout)
	case "backup":
		return backup(ctx, cfg, args, stdout)
	case "restore":
		return restore(ctx, cfg, log, args, stdout)
	case "version":
		_, err := fmt.Fprintln(stdout, buildinfo.Read())
		return err
	case "help", "-h", "--help":
		_, _ = fmt.Fprintln(stdout, "usage: voresishoj [serve | migrate | token --email E | grant-secretariat --email E | --uid U |\n"+
			"                  backup FILE | restore [--replace] FILE | version]")
		return nil
	}
	return fmt.Errorf("unknown command %q (try: serve, migrate, token, grant-secretariat, backup, restore, version)", cmd)
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	app.TuneRuntime()
	return app.Run(ctx, cfg, log)
}

// token prints a local sign-in token, alone on stdout so scripts can use
// it: TOKEN=$(voresishoj token --email anna@example.dk).
func token(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	email := fs.String("email", "", "e-mail of the person to sign in as")
	name := fs.String("name", "", "the token's name claim, as Firebase has the account's display name: a new person takes it as their display name; without one they are asked for a name before they claim a slot or write a story")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("token: --email is required")
	}
	if !cfg.LocalAuth() {
		return errors.New("token: only in local sign-in mode (FIREBASE_PROJECT_ID unset); with Firebase, sign in through Firebase")
	}
	// The server makes the signing key when it first starts. Making one
	// here would sign tokens that server refuses (and leave a second
	// database beside it), so a missing key is an error, before anything
	// is written.
	keyPath, err := filepath.Abs(filepath.Join(cfg.DataDir, auth.LocalKeyFile))
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("token: no sign-in key at %s. The server makes it in its DATA_DIR when it first starts: "+
			"start the server first, or run token with the server's DATA_DIR (and DATABASE_URL)", keyPath)
	}
	db, err := app.OpenDB(ctx, cfg, discard(log))
	if err != nil {
		return err
	}
	defer db.Close()
	// Signing in may apply invitations waiting for the address, as the
	// server's sign-in does.
	users := user.NewService(db, app.Clock(cfg))
	users.OnEmailProven(organisation.NewService(db, app.Clock(cfg)).EmailProvenTx)
	local, err := auth.NewLocal(cfg.DataDir, users)
	if err != nil {
		return err
	}
	t, err := local.IssueForEmail(ctx, *email, *name)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, t)
	return err
}

func grantSecretariat(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("grant-secretariat", flag.ContinueOnError)
	email := fs.String("email", "", "e-mail of the person")
	uid := fs.String("uid", "", "Firebase uid of the person")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*email == "") == (*uid == "") {
		return errors.New("grant-secretariat: give exactly one of --email or --uid")
	}
	db, err := app.OpenDB(ctx, cfg, discard(log))
	if err != nil {
		return err
	}
	defer db.Close()
	u, pending, err := user.NewService(db, app.Clock(cfg)).GrantSecretariat(ctx, *email, *uid)
	if err != nil {
		return err
	}
	if pending {
		// Granting to an address binds only to an account that proves it:
		// an unverified account someone made for the address gets nothing.
		_, err = fmt.Fprintf(stdout, "no account has verified %s yet: the secretariat role is granted when one signs in with it verified\n", strings.ToLower(strings.TrimSpace(*email)))
		return err
	}
	_, err = fmt.Fprintf(stdout, "user %d now has the secretariat role\n", u.ID)
	return err
}

// discard keeps commands whose stdout is read by scripts quiet unless
// something goes wrong.
func discard(log *slog.Logger) *slog.Logger {
	if log.Enabled(context.Background(), slog.LevelDebug) {
		return log
	}
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}
