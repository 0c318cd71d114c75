package publish

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
)

// wantDocsTypes is the content type each docs file must be served with.
var wantDocsTypes = map[string]string{
	"index.html":            "text/html; charset=utf-8",
	"guide/install.html":    "text/html; charset=utf-8",
	"css/book.css":          "text/css; charset=utf-8",
	"book.js":               "text/javascript; charset=utf-8",
	"favicon.svg":           "image/svg+xml",
	"img/logo.png":          "image/png",
	"fonts/open-sans.woff2": "font/woff2",
	"fonts/open-sans.woff":  "font/woff",
	"searchindex.json":      "application/json",
}

func TestPublishUploadsEverythingOnceAndIndexesIt(t *testing.T) {
	s := newTestS3(t)
	s.cfg.Prefix = "garage/" // keys must carry the prefix everywhere
	ctx := testCtx(t)
	b := writeDist(t, "v1.2.3")
	var progress bytes.Buffer

	rep, err := Publish(ctx, s.cfg, b.Dir, b.Manifest, Options{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	want := expectedKeys("garage/", b)
	if got := rep.Keys(Uploaded); !slices.Equal(sorted(got), want) {
		t.Errorf("report says uploaded\n%v\nwant\n%v", got, want)
	}
	// The manifest comes after every other file.
	if last := rep.Objects[len(rep.Objects)-1].Key; last != "garage/"+index.ManifestKey("v1.2.3") {
		t.Errorf("last object written is %s, want the manifest", last)
	}
	// Exactly these keys plus the index: image.tar, index.html and
	// releases.json of dist/ stay out of the bucket.
	wantAll := sorted(append(slices.Clone(want), "garage/"+index.JSONKey, "garage/"+index.HTMLKey))
	if got := s.keys(t, ""); !slices.Equal(got, wantAll) {
		t.Errorf("bucket holds\n%v\nwant\n%v", got, wantAll)
	}
	if !strings.Contains(progress.String(), "uploaded") || !strings.Contains(progress.String(), "indexed") {
		t.Errorf("progress output lacks upload or index lines:\n%s", progress.String())
	}

	checkBinaries(t, s, "garage/", b)
	checkObject(t, s, "garage/"+index.SumsKey("v1.2.3"), readFile(t, filepath.Join(b.Dir, manifest.SumsName)), "text/plain; charset=utf-8")
	mdata, err := b.Manifest.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	checkObject(t, s, "garage/"+index.ManifestKey("v1.2.3"), mdata, "application/json")
	for f, data := range b.Docs {
		checkObject(t, s, "garage/"+index.DocsPrefix("v1.2.3")+f, data, wantDocsTypes[f])
	}
	checkObject(t, s, "garage/"+index.HTMLKey, nil, "text/html; charset=utf-8")
	checkObject(t, s, "garage/"+index.JSONKey, nil, "application/json")
	// Every stage's log is published, and the page links it and shows the
	// check findings the project reports as warnings.
	page := string(s.get(t, "garage/"+index.HTMLKey))
	for _, l := range b.Manifest.Logs {
		checkObject(t, s, "garage/"+index.ReleasePrefix("v1.2.3")+l, readFile(t, filepath.Join(b.Dir, l)), "text/plain; charset=utf-8")
		if !strings.Contains(page, `href="`+index.ReleasePrefix("v1.2.3")+l+`"`) {
			t.Errorf("the page does not link %s", l)
		}
	}
	if !strings.Contains(page, "warning: clippy: 2 lint findings") {
		t.Errorf("the page does not show the release's warning")
	}

	idx := s.indexJSON(t, "garage/")
	if len(idx.Stable) != 1 || idx.Stable[0].Version != "v1.2.3" || idx.Latest != "v1.2.3" {
		t.Fatalf("index: stable %+v, latest %q; want v1.2.3 alone", idx.Stable, idx.Latest)
	}
	if got := idx.Stable[0]; got.Prefix != index.ReleasePrefix("v1.2.3") || !slices.Equal(got.Targets, b.Manifest.Targets) {
		t.Errorf("index entry %+v does not match the manifest's targets %+v", got, b.Manifest.Targets)
	}

	// The same publish again writes nothing but the index.
	rep, err = Publish(ctx, s.cfg, b.Dir, b.Manifest, Options{})
	if err != nil {
		t.Fatalf("re-running the same publish: %v", err)
	}
	if up := rep.Keys(Uploaded); len(up) != 0 {
		t.Errorf("re-run uploaded %v, want nothing", up)
	}
	if got := sorted(rep.Keys(Skipped)); !slices.Equal(got, want) {
		t.Errorf("re-run skipped %v, want %v", got, want)
	}
}

// checkBinaries checks each binary's bytes, type and metadata, and its
// .sha256 file.
func checkBinaries(t *testing.T, s testS3, prefix string, b fakeBuild) {
	t.Helper()
	for _, a := range b.Manifest.Targets {
		key := prefix + index.BinaryKey(b.Manifest.Version, a)
		checkObject(t, s, key, readFile(t, filepath.Join(b.Dir, a.Path)), "application/octet-stream")
		sumFile := fmt.Sprintf("%s  %s\n", a.SHA256, testBinary)
		checkObject(t, s, prefix+index.ChecksumKey(b.Manifest.Version, a), []byte(sumFile), "text/plain; charset=utf-8")
	}
}

// checkObject checks an object's content type, its sha256 metadata against
// its bytes, and the bytes themselves when want is not nil.
func checkObject(t *testing.T, s testS3, key string, want []byte, contentType string) {
	t.Helper()
	info := s.stat(t, key)
	if info.ContentType != contentType {
		t.Errorf("%s: content type %q, want %q", key, info.ContentType, contentType)
	}
	got := s.get(t, key)
	if want != nil && !bytes.Equal(got, want) {
		t.Errorf("%s: remote bytes differ from the local file", key)
	}
	if meta := info.UserMetadata[metaSHA256]; meta != sha256hex(got) {
		t.Errorf("%s: sha256 metadata %q, want %q (X-Amz-Meta-Sha256 must hold the content's sha256)", key, meta, sha256hex(got))
	}
}

func TestStableRepublishRefusedUnlessForced(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	first := writeDist(t, "v2.0.0")
	if _, err := Publish(ctx, s.cfg, first.Dir, first.Manifest, Options{}); err != nil {
		t.Fatal(err)
	}
	second := writeDist(t, "v2.0.0") // another build of the same tag
	_, err := Publish(ctx, s.cfg, second.Dir, second.Manifest, Options{})
	if err == nil || !strings.Contains(err.Error(), "already published") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("re-publishing a stable release with other binaries: err = %v, want a refusal naming --force", err)
	}
	checkBinaries(t, s, "", first) // untouched

	rep, err := Publish(ctx, s.cfg, second.Dir, second.Manifest, Options{Force: true})
	if err != nil {
		t.Fatalf("forced re-publish: %v", err)
	}
	if n := len(rep.Keys(Uploaded)); n < len(second.Manifest.Targets)*2+2 {
		t.Errorf("forced re-publish uploaded %d objects, want every binary, checksum, SHA256SUMS and the manifest", n)
	}
	checkBinaries(t, s, "", second)
}

func TestExtraAndDevelopmentRepublishAllowed(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	for _, v := range []string{"v2.0.0-rc1", strings.Repeat("c0ffee12", 5)} {
		first := writeDist(t, v)
		if _, err := Publish(ctx, s.cfg, first.Dir, first.Manifest, Options{}); err != nil {
			t.Fatal(err)
		}
		second := writeDist(t, v)
		rep, err := Publish(ctx, s.cfg, second.Dir, second.Manifest, Options{})
		if err != nil {
			t.Fatalf("re-publishing %s (%s): %v", v, second.Manifest.Class, err)
		}
		if len(rep.Keys(Uploaded)) == 0 {
			t.Errorf("re-publishing %s with new binaries uploaded nothing", v)
		}
		checkBinaries(t, s, "", second)
	}
	got := s.indexJSON(t, "").versions()
	if got["v2.0.0-rc1"] != "extra" || got[strings.Repeat("c0ffee12", 5)] != "development" {
		t.Errorf("index sections: %v", got)
	}
}

func TestPublishVerifiesDistBeforeUploading(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	cases := map[string]func(b fakeBuild){
		"binary changed after the build": func(b fakeBuild) {
			writeFile(t, filepath.Join(b.Dir, b.Manifest.Targets[2].Path), []byte("tampered"))
		},
		"manifest sha256 differs": func(b fakeBuild) {
			b.Manifest.Targets[1].SHA256 = strings.Repeat("0", 64)
		},
		"SHA256SUMS lacks a binary": func(b fakeBuild) {
			sums := readFile(t, filepath.Join(b.Dir, manifest.SumsName))
			lines := strings.SplitAfter(string(sums), "\n")
			writeFile(t, filepath.Join(b.Dir, manifest.SumsName), []byte(strings.Join(lines[1:], "")))
		},
		"binary missing": func(b fakeBuild) {
			if err := os.Remove(filepath.Join(b.Dir, b.Manifest.Targets[3].Path)); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			b := writeDist(t, "v3.0.0")
			breakIt(b)
			_, err := Publish(ctx, s.cfg, b.Dir, b.Manifest, Options{})
			if err == nil || !strings.Contains(err.Error(), "nothing was uploaded") {
				t.Fatalf("err = %v, want a verification error", err)
			}
			if keys := s.keys(t, ""); len(keys) != 0 {
				t.Errorf("bucket holds %v after a failed verification, want nothing", keys)
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
