package index

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
)

//go:embed page.html.tmpl
var pageTemplate string

// tmpl is parsed once; html/template escapes every value for its context,
// which is what keeps a hostile manifest from injecting markup.
var tmpl = template.Must(template.New("page").Parse(pageTemplate))

// HTML renders the release page written to HTMLKey at the bucket root; its
// links follow the bucket layout of layout.go.
func (idx Index) HTML() ([]byte, error) { return idx.render(HTMLKey, bucketLinks) }

// LocalHTML renders the page written as dist/index.html, next to one
// release's files: binaries at <triple>/<binary>, SHA256SUMS, manifest.json
// and the docs folder, all relative to dist/.
func (idx Index) LocalHTML() ([]byte, error) { return idx.render(LocalHTMLName, localLinks) }

func (idx Index) render(name string, l links) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, idx.page(l)); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return b.Bytes(), nil
}
