package publish

import (
	"path"
	"strings"

	"github.com/garage-release/garage-release/ci/manifest"
)

// Content types stored with objects. Browsers render the page and the docs
// from the bucket, so these must be right; they are fixed here rather than
// taken from the host's mime database, which differs between machines.
const (
	typeBinary = "application/octet-stream"
	typeText   = "text/plain; charset=utf-8"
	typeJSON   = "application/json"
	typeHTML   = "text/html; charset=utf-8"
)

var typesByExt = map[string]string{
	".html":   typeHTML,
	".htm":    typeHTML,
	".css":    "text/css; charset=utf-8",
	".js":     "text/javascript; charset=utf-8",
	".mjs":    "text/javascript; charset=utf-8",
	".json":   typeJSON,
	".map":    typeJSON,
	".txt":    typeText,
	".md":     "text/markdown; charset=utf-8",
	".xml":    "application/xml",
	".svg":    "image/svg+xml",
	".png":    "image/png",
	".jpg":    "image/jpeg",
	".jpeg":   "image/jpeg",
	".gif":    "image/gif",
	".webp":   "image/webp",
	".ico":    "image/x-icon",
	".woff":   "font/woff",
	".woff2":  "font/woff2",
	".ttf":    "font/ttf",
	".otf":    "font/otf",
	".eot":    "application/vnd.ms-fontobject",
	".wasm":   "application/wasm",
	".sha256": typeText,
	".log":    typeText,
}

// contentType returns the type for a key by its name; unknown names
// (binaries have no extension) are application/octet-stream.
func contentType(key string) string {
	base := path.Base(key)
	if base == manifest.SumsName {
		return typeText
	}
	if t, ok := typesByExt[strings.ToLower(path.Ext(base))]; ok {
		return t
	}
	return typeBinary
}
