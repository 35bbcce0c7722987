// Package explorer serves the GraphiQL explorer with everything it loads
// from the binary, so it works without internet and on a locked-down
// network. gqlgen's page loads GraphiQL and React from a CDN; here the same
// page points at the files in assets/, which
// mobile-contract/scripts/vendor-explorer.mjs fetches from the npm
// registry (versions, licences and checksums in assets/VERSIONS.txt).
package explorer

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/ishoj/voresishoj/internal/httpcache"
)

// Prefix is the path the explorer's files are served under.
const Prefix = "/explorer/"

//go:embed assets
var assets embed.FS

// Page returns the explorer's page for the GraphQL endpoint.
func Page(title, endpoint string) http.Handler {
	return playground.Handler(title, endpoint,
		playground.WithGraphiqlVersion(Prefix+"graphiql.min.js", Prefix+"graphiql.min.css",
			integrity("graphiql.min.js"), integrity("graphiql.min.css")),
		playground.WithGraphiqlReactVersion(Prefix+"react.production.min.js", Prefix+"react-dom.production.min.js",
			integrity("react.production.min.js"), integrity("react-dom.production.min.js")),
	)
}

// Assets serves the explorer's files under Prefix. They change only with
// the binary: browsers revalidate them by ETag and get a 304.
func Assets() http.Handler {
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded directory is there by construction
	}
	etags := map[string]string{}
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		b, _ := fs.ReadFile(files, e.Name())
		etags[e.Name()] = httpcache.ETag(b)
	}
	static := http.StripPrefix(Prefix, http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The file server answers If-None-Match from this header.
		if tag, ok := etags[strings.TrimPrefix(r.URL.Path, Prefix)]; ok {
			w.Header().Set("ETag", tag)
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		static.ServeHTTP(w, r)
	})
}

// integrity is the subresource integrity of an embedded file, so the page
// only runs the files it was built with.
func integrity(name string) string {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic("explorer: " + name + " is not embedded; run mobile-contract/scripts/vendor-explorer.mjs")
	}
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
