package privacy

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ishoj/voresishoj/internal/media"
	"github.com/ishoj/voresishoj/internal/store"
	"github.com/ishoj/voresishoj/internal/user"
)

// DownloadPrefix is where the export downloads are served:
// DownloadPrefix + token + ".zip".
const DownloadPrefix = "/export/"

// DownloadFor is how long a download link works. Long enough to tap it
// and let a slow phone fetch the photos; short enough that a link left in
// a browser history or a shared screenshot is soon worth nothing.
const DownloadFor = 15 * time.Minute

// Download is a link to the caller's export as a ZIP file.
type Download struct {
	// Path is DownloadPrefix + token + ".zip"; the caller puts the
	// server's public address in front.
	Path      string
	ExpiresAt time.Time
}

// LinkRecord is a download link that still works, as the export lists it
// (without its secret).
type LinkRecord struct {
	CreatedAt time.Time `json:"createdAt" db:"created_at"`
	ExpiresAt time.Time `json:"expiresAt" db:"expires_at"`
}

// CreateDownload makes a new link to the caller's export, good for
// DownloadFor. The link is the only key: whoever holds it may download,
// as with a personal calendar address, which lets the app hand it to the
// phone's browser or download manager. Only the SHA-256 of its secret is
// stored, and a person has one live link at a time: a new one ends the
// one before.
func (s *Service) CreateDownload(ctx context.Context, c user.Caller) (Download, error) {
	if err := c.RequireSignedIn(); err != nil {
		return Download{}, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Download{}, fmt.Errorf("export link secret: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now().UTC()
	d := Download{Path: DownloadPrefix + token + ".zip", ExpiresAt: now.Add(DownloadFor)}
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		if err := forgetLinksTx(ctx, tx, c.UserID); err != nil {
			return err
		}
		if _, err := store.Exec(ctx, tx, `INSERT INTO data_exports (token_sha256, user_id, created_at, expires_at)
			VALUES (?, ?, ?, ?)`, tokenHash(token), c.UserID, now, d.ExpiresAt); err != nil {
			return fmt.Errorf("record export link of %d: %w", c.UserID, err)
		}
		return nil
	})
	if err != nil {
		return Download{}, err
	}
	return d, nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// forgetLinksTx removes every download link of a person (a new link
// replaces them; a deletion ends them).
func forgetLinksTx(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM data_exports WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("remove export links of %d: %w", userID, err)
	}
	return nil
}

// exportLinks reads the person's links that still work.
func exportLinks(ctx context.Context, q store.Querier, userID int64, now time.Time) ([]LinkRecord, error) {
	out := []LinkRecord{}
	if err := store.Select(ctx, q, &out, `SELECT created_at, expires_at FROM data_exports
		WHERE user_id = ? AND expires_at > ? ORDER BY created_at`, userID, now); err != nil {
		return nil, fmt.Errorf("export links of %d: %w", userID, err)
	}
	return out, nil
}

// removeExpiredLinks is the housekeeping's part for the links.
func removeExpiredLinks(ctx context.Context, db *store.DB, now time.Time) (int64, error) {
	n, err := store.Exec(ctx, db, `DELETE FROM data_exports WHERE expires_at <= ?`, now)
	if err != nil {
		return 0, fmt.Errorf("remove expired export links: %w", err)
	}
	return n, nil
}

// tokenLength is the length of a link's secret: 32 bytes, base64url.
var tokenLength = base64.RawURLEncoding.EncodedLen(32)

// DownloadHandler serves GET DownloadPrefix + token + ".zip": the ZIP of
// the link's owner, made at the moment of the download, with export.json
// and photos/. A link that is unknown, expired, replaced or of a deleted
// account is a 404, which says nothing about whether it ever existed.
func (s *Service) DownloadHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet {
			h.Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		token, ok := strings.CutPrefix(r.URL.Path, DownloadPrefix)
		token, zipped := strings.CutSuffix(token, ".zip")
		if !ok || !zipped || len(token) != tokenLength || strings.Trim(token,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			http.NotFound(w, r)
			return
		}
		ctx := r.Context()
		now := s.now().UTC()
		var ids []int64
		if err := store.Select(ctx, s.db, &ids, `SELECT d.user_id FROM data_exports d JOIN users u ON u.id = d.user_id
			WHERE d.token_sha256 = ? AND d.expires_at > ? AND u.deleted_at IS NULL`, tokenHash(token), now); err != nil {
			slog.ErrorContext(ctx, "look up export link", slog.Any("error", err))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if len(ids) == 0 {
			http.NotFound(w, r)
			return
		}
		x, err := exportPerson(ctx, s.db, ids[0], now)
		if err != nil {
			slog.ErrorContext(ctx, "make export", slog.Any("error", err))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="voresishoj-%s.zip"`, now.Format("2006-01-02")))
		if err := s.writeArchive(ctx, w, x); err != nil {
			// The answer has begun; breaking the connection is the way
			// to tell the client that the file is not whole.
			slog.ErrorContext(ctx, "write export archive", slog.Any("error", err))
			panic(http.ErrAbortHandler)
		}
	})
}

// writeArchive writes the ZIP of x: the photos under photos/, then
// export.json, which lists the photo files written. A photo whose file is
// gone (its story was deleted a moment ago) is left out of both.
func (s *Service) writeArchive(ctx context.Context, w io.Writer, x Export) error {
	zw := zip.NewWriter(w)
	written := []PhotoFile{}
	for _, p := range x.PhotoFiles {
		if s.blobs == nil {
			break
		}
		ok, err := s.copyBlob(ctx, zw, p, x.GeneratedAt)
		if err != nil {
			return err
		}
		if ok {
			written = append(written, p)
		}
	}
	x.PhotoFiles = written
	doc, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return fmt.Errorf("encode export: %w", err)
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "export.json", Method: zip.Deflate, Modified: x.GeneratedAt})
	if err != nil {
		return err
	}
	if _, err := f.Write(doc); err != nil {
		return err
	}
	return zw.Close()
}

// copyBlob adds one photo file to the archive; false when it is gone.
func (s *Service) copyBlob(ctx context.Context, zw *zip.Writer, p PhotoFile, at time.Time) (bool, error) {
	rc, err := s.blobs.Open(ctx, p.key)
	if errors.Is(err, media.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open photo %s: %w", p.File, err)
	}
	defer rc.Close()
	// JPEG does not shrink; storing spares the CPU.
	f, err := zw.CreateHeader(&zip.FileHeader{Name: p.File, Method: zip.Store, Modified: at})
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(f, rc); err != nil {
		return false, fmt.Errorf("copy photo %s: %w", p.File, err)
	}
	return true, nil
}
