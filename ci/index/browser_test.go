package index

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/testenv"
)

// bucket is a directory laid out like the release bucket, or like dist/
// (one release, files next to the page) when local is set.
type bucket struct {
	t     *testing.T
	root  string
	local bool
	// sums maps each binary's key to the sha256 of the bytes written there.
	sums map[string]string
}

func (b *bucket) put(key string, data []byte) {
	b.t.Helper()
	p := filepath.Join(b.root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// release writes random binaries for the targets, their checksum files,
// SHA256SUMS, manifest.json and docs, the way the publisher does, and returns
// the manifest with the real sizes and sums.
func (b *bucket) release(version, class string, date time.Time, docs bool, targets []target.Target) *manifest.Manifest {
	b.t.Helper()
	m := &manifest.Manifest{
		Version: version, Class: class, Date: date, Binary: "garage",
		Commit: hex.EncodeToString(randomBytes(b.t, 20)),
	}
	sums := manifest.Sums{}
	for i, tg := range targets {
		data := randomBytes(b.t, 4096+i*70_000+len(b.sums)*1000)
		sum := sha256.Sum256(data)
		a := manifest.Artifact{
			Target: tg.Name, Triple: tg.Triple, Platform: tg.Platform,
			Path: tg.BinaryPath(m.Binary), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		}
		m.Targets = append(m.Targets, a)
		sums[a.Path] = a.SHA256
		b.put(b.prefix(version)+a.Path, data)
		if !b.local {
			b.put(ChecksumKey(version, a), []byte(a.SHA256+"  "+m.Binary+"\n"))
		}
		b.sums[b.prefix(version)+a.Path] = a.SHA256
	}
	if docs {
		m.Docs = "docs/"
		key := DocsIndexKey(version)
		if b.local {
			key = "docs/index.html"
		}
		b.put(key, []byte("<!DOCTYPE html><title>docs "+version+"</title>"))
	}
	if class == "stable" {
		m.Image = &manifest.Image{
			Ref:       "registry.example/garage:" + version,
			Digest:    "sha256:" + hex.EncodeToString(randomBytes(b.t, 32)),
			Platforms: target.Platforms(targets),
		}
	}
	// Stable releases are signed; the others carry an SBOM only.
	m.SBOM = manifest.SBOMName
	if class == "stable" {
		sign(m)
	}
	for _, rel := range supplyChainFiles(m) {
		b.put(b.prefix(version)+rel, []byte("supply chain file "+rel+"\n"))
	}
	if err := m.Validate(); err != nil {
		b.t.Fatal(err)
	}
	b.put(b.prefix(version)+manifest.SumsName, sums.Format())
	mb, err := m.Marshal()
	if err != nil {
		b.t.Fatal(err)
	}
	b.put(b.prefix(version)+manifest.FileName, mb)
	return m
}

// supplyChainFiles are the SBOM, provenance and signature files a manifest
// names, relative to the release folder.
func supplyChainFiles(m *manifest.Manifest) []string {
	files := []string{m.SBOM, m.Provenance}
	if s := m.Signatures; s != nil {
		files = append(files, s.PublicKey, s.Provenance, s.Image)
		for _, sig := range s.Files {
			files = append(files, sig)
		}
	}
	var out []string
	for _, f := range files {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (b *bucket) prefix(version string) string {
	if b.local {
		return ""
	}
	return ReleasePrefix(version)
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// pageState is what the test reads from the rendered DOM.
type pageState struct {
	Sections map[string][]string `json:"sections"`
	Closed   map[string]bool     `json:"closed"`
	Binaries []struct {
		Version     string `json:"version"`
		Target      string `json:"target"`
		Href        string `json:"href"`
		DataSHA     string `json:"dataSHA"`
		ShownSHA    string `json:"shownSHA"`
		Description string `json:"description"`
	} `json:"binaries"`
	Links    []string `json:"links"`
	Releases []struct {
		Version  string   `json:"version"`
		Signed   bool     `json:"signed"`
		Unsigned bool     `json:"unsigned"`
		Sigs     int      `json:"sigs"`
		Open     bool     `json:"open"`
		Visible  int      `json:"visible"`
		Commands []string `json:"commands"`
	} `json:"releases"`
	URL         string `json:"-"`
	Scripts     int    `json:"scripts"`
	InnerWidth  int    `json:"innerWidth"`
	ScrollWidth int    `json:"scrollWidth"`
}

const readPage = `(() => {
  const ids = ['stable', 'extra', 'development'];
  const sections = {}, closed = {};
  for (const id of ids) {
    const s = document.querySelector('section#' + id);
    if (!s) continue;
    sections[id] = Array.from(s.querySelectorAll('.build')).map(b => b.dataset.version);
    const d = s.querySelector(':scope > details');
    closed[id] = d ? !d.open : false;
  }
  const binaries = Array.from(document.querySelectorAll('a.binary')).map(a => {
    const li = a.closest('.artifact');
    return {
      version: a.closest('.build').dataset.version, target: li.dataset.target,
      href: a.getAttribute('href'), dataSHA: a.dataset.sha256,
      shownSHA: li.querySelector('.sha256').textContent.trim(),
      description: li.querySelector('.description').textContent.trim(),
    };
  });
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));
  // Each release's badges and "Verify a download": its commands as a user
  // copies them, and how many are on screen (none while it is closed).
  const releases = Array.from(document.querySelectorAll('.build')).map(b => {
    const v = b.querySelector('details.verify');
    const cmds = v ? Array.from(v.querySelectorAll('code.command')) : [];
    return {
      version: b.dataset.version, signed: !!b.querySelector('h3 .badge.signed'),
      unsigned: !!b.querySelector('h3 .badge.unsigned'), sigs: b.querySelectorAll('a.signature').length,
      open: !!(v && v.open), commands: cmds.map(c => c.textContent),
      visible: cmds.filter(c => c.checkVisibility()).length,
    };
  });
  return {sections, closed, binaries, links, releases, scripts: document.scripts.length,
    innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth};
})()`

func TestReleasePageInChromium(t *testing.T) {
	ctx := testenv.Chromium(t)
	b := &bucket{t: t, root: t.TempDir(), sums: map[string]string{}}
	day := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	ms := []*manifest.Manifest{
		b.release("v1.9.0", "stable", day.AddDate(0, 0, 5), true, target.All),
		b.release("v1.10.0", "stable", day, true, target.All),
		b.release("v2.0.0-rc.1", "extra", day.AddDate(0, 0, 1), false, target.All[:2]),
		b.release("weekly-2026-11-20", "extra", day.AddDate(0, 0, 18), false, target.All[2:]),
	}
	dev1 := b.release(strings.Repeat("0", 40), "development", day.AddDate(0, 0, 3), false, target.All[:1])
	dev2 := b.release(strings.Repeat("f", 40), "development", day.AddDate(0, 0, 20), true, target.All[3:])
	ms = append(ms, dev1, dev2)
	idx := Build(ms)
	html, err := idx.HTML()
	if err != nil {
		t.Fatal(err)
	}
	b.put(HTMLKey, html)
	js, err := idx.JSON()
	if err != nil {
		t.Fatal(err)
	}
	b.put(JSONKey, js)

	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	st := load(t, actx, b, HTMLKey)

	want := map[string]string{
		"stable":      "v1.10.0 v1.9.0",
		"extra":       "weekly-2026-11-20 v2.0.0-rc.1",
		"development": dev2.Version + " " + dev1.Version, // by date, not by name
	}
	for id, w := range want {
		got, ok := st.Sections[id]
		if !ok {
			t.Errorf("the page has no section#%s", id)
		}
		if g := strings.Join(got, " "); g != w {
			t.Errorf("section#%s lists %q, want %q", id, g, w)
		}
	}
	if st.Closed["stable"] || !st.Closed["extra"] || !st.Closed["development"] {
		t.Errorf("collapsed sections = %v, want extra and development closed, stable open", st.Closed)
	}
	checkLinks(t, b, st)
	checksums := 0
	for _, l := range st.Links {
		if strings.HasSuffix(l, ChecksumSuffix) {
			checksums++
		}
	}
	if checksums != len(b.sums) {
		t.Errorf("the page links %d .sha256 files, want one per binary (%d)", checksums, len(b.sums))
	}

	checkVerify(t, b, st, "v1.10.0")

	// A reader expands both collapsed sections and a release's "Verify a
	// download"; nothing may then stick out of the phone's screen.
	if err := chromedp.Do(actx,
		chromedp.Click(chromedp.CSS("section#extra summary")),
		chromedp.Click(chromedp.CSS("section#development summary")),
		chromedp.Click(chromedp.CSS(`article[data-version="v1.9.0"] details.verify summary`)),
		chromedp.Click(chromedp.CSS(`article[data-version="weekly-2026-11-20"] details.verify summary`)),
	); err != nil {
		t.Fatalf("expanding the sections: %v", err)
	}
	st, err = chromedp.Run(actx, chromedp.Evaluate[pageState](readPage))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	if st.Closed["extra"] || st.Closed["development"] {
		t.Errorf("clicking the summaries did not expand them: %v", st.Closed)
	}
	for _, r := range st.Releases {
		if (r.Version == "v1.9.0" || r.Version == "weekly-2026-11-20") && (!r.Open || r.Visible != len(r.Commands)) {
			t.Errorf("%s: clicking \"Verify a download\" shows %d of %d commands", r.Version, r.Visible, len(r.Commands))
		}
	}
	if st.InnerWidth > 400 || st.ScrollWidth > st.InnerWidth {
		t.Errorf("on a 390px phone the page is %dpx wide in a %dpx viewport (missing viewport meta or unwrapped text)", st.ScrollWidth, st.InnerWidth)
	}

	png, err := chromedp.Run(actx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the screenshot is not a PNG")
	}
	shot := filepath.Join(t.TempDir(), "releases.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the release page: %s", shot)
}

// TestLocalPageInChromium checks dist/index.html: the same page for one
// release whose files sit next to it.
func TestLocalPageInChromium(t *testing.T) {
	ctx := testenv.Chromium(t)
	b := &bucket{t: t, root: t.TempDir(), sums: map[string]string{}, local: true}
	m := b.release("v1.2.3", "stable", time.Now().UTC(), true, target.All)
	idx := Build([]*manifest.Manifest{m})
	html, err := idx.LocalHTML()
	if err != nil {
		t.Fatal(err)
	}
	b.put(LocalHTMLName, html)
	js, err := idx.LocalJSON()
	if err != nil {
		t.Fatal(err)
	}
	b.put(LocalJSONName, js)

	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	st := load(t, actx, b, LocalHTMLName)
	if g := strings.Join(st.Sections["stable"], " "); g != "v1.2.3" {
		t.Errorf("section#stable lists %q, want v1.2.3", g)
	}
	checkLinks(t, b, st)
	checkVerify(t, b, st, "v1.2.3")
}

// checkVerify checks the badges and "Verify a download" of every release:
// stable ones are signed, the others not; only latest is open. Then it runs
// latest's sha256sum line, as the browser shows it, in a folder holding a
// downloaded binary and SHA256SUMS.
func checkVerify(t *testing.T, b *bucket, st pageState, latest string) {
	t.Helper()
	if len(st.Releases) == 0 {
		t.Fatal("the page shows no release")
	}
	base, err := url.Parse(st.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Releases {
		stable := !strings.Contains(r.Version, "-") && strings.HasPrefix(r.Version, "v")
		all := strings.Join(r.Commands, "\n")
		switch {
		case r.Signed == r.Unsigned:
			t.Errorf("%s: signed badge %v, unsigned badge %v; want exactly one", r.Version, r.Signed, r.Unsigned)
		case stable != r.Signed:
			t.Errorf("%s: signed %v, want %v", r.Version, r.Signed, stable)
		case r.Signed && (r.Sigs == 0 || !strings.Contains(all, "cosign verify-blob --key cosign.pub --signature SHA256SUMS.sig --insecure-ignore-tlog SHA256SUMS") ||
			!strings.Contains(all, "cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --type slsaprovenance1 registry.example/garage@sha256:")):
			t.Errorf("%s: signed release has %d .sig links and commands:\n%s", r.Version, r.Sigs, all)
		case r.Unsigned && (r.Sigs != 0 || strings.Contains(all, "cosign") || !strings.Contains(all, "sha256sum -c")):
			t.Errorf("%s: unsigned release has %d .sig links and commands:\n%s", r.Version, r.Sigs, all)
		}
		if r.Open != (r.Version == latest) || (r.Open && r.Visible != len(r.Commands)) || (!r.Open && r.Visible != 0) {
			t.Errorf("%s: verify open %v with %d of %d commands on screen; want it open only for %s", r.Version, r.Open, r.Visible, len(r.Commands), latest)
		}
		if r.Version != latest {
			continue
		}
		var bin *struct {
			Version     string `json:"version"`
			Target      string `json:"target"`
			Href        string `json:"href"`
			DataSHA     string `json:"dataSHA"`
			ShownSHA    string `json:"shownSHA"`
			Description string `json:"description"`
		}
		for i := range st.Binaries {
			if st.Binaries[i].Version == latest {
				bin = &st.Binaries[i]
				break
			}
		}
		var check string
		for _, c := range r.Commands {
			if strings.Contains(c, "sha256sum -c") {
				check = c
				break
			}
		}
		if bin == nil || check == "" {
			t.Fatalf("%s: no binary or no sha256sum line on the page", latest)
		}
		dir := t.TempDir()
		data, _ := get(t, base, bin.Href)
		sums, _ := get(t, base, strings.TrimSuffix(bin.Href, path.Base(bin.Href))+"../"+manifest.SumsName)
		// The browser saves the download under its base name.
		if err := os.WriteFile(filepath.Join(dir, path.Base(bin.Href)), data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, manifest.SumsName), sums, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := runIn(t, dir, check); err != nil {
			t.Errorf("%s: the page's %q fails on a good download: %v\n%s", latest, check, err, out)
		}
	}
}

// load opens a page of the directory, served over HTTP, on a phone-sized
// screen with the mobile layout viewport (so the page must honour its
// viewport meta), and reads its DOM.
func load(t *testing.T, ctx context.Context, b *bucket, name string) pageState {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(b.root)))
	t.Cleanup(srv.Close)
	pageURL := srv.URL + "/" + name
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS("section#stable")),
	); err != nil {
		t.Fatalf("loading %s: %v", pageURL, err)
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage))
	if err != nil {
		t.Fatalf("reading %s: %v", pageURL, err)
	}
	st.URL = pageURL
	return st
}

// checkLinks downloads every binary the page links and compares its sha256
// with the one the page shows, then checks that no link is broken.
func checkLinks(t *testing.T, b *bucket, st pageState) {
	t.Helper()
	if st.Scripts != 0 {
		t.Errorf("the page has %d scripts, want none", st.Scripts)
	}
	if len(st.Binaries) != len(b.sums) {
		t.Errorf("the page links %d binaries, the directory holds %d", len(st.Binaries), len(b.sums))
	}
	base, err := url.Parse(st.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, bin := range st.Binaries {
		if bin.ShownSHA != bin.DataSHA {
			t.Errorf("%s %s: shown sha256 %s differs from data-sha256 %s", bin.Version, bin.Target, bin.ShownSHA, bin.DataSHA)
		}
		body, status := get(t, base, bin.Href)
		sum := sha256.Sum256(body)
		if status != http.StatusOK || hex.EncodeToString(sum[:]) != bin.ShownSHA {
			t.Errorf("%s %s: GET %s: status %d, sha256 %x; the page shows %s", bin.Version, bin.Target, bin.Href, status, sum, bin.ShownSHA)
		}
		tg, err := target.Lookup(bin.Target)
		if err != nil || bin.Description != tg.Description {
			t.Errorf("%s %s: description %q, want the table's %q", bin.Version, bin.Target, bin.Description, tg.Description)
		}
	}
	// No broken link anywhere: checksums, SHA256SUMS, manifests, docs, JSON.
	for _, l := range st.Links {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if _, status := get(t, base, l); status != http.StatusOK {
			t.Errorf("link %s: status %d", l, status)
		}
	}
}

// get fetches a link of the page with Go's client, as a user's download would.
func get(t *testing.T, base *url.URL, href string) ([]byte, int) {
	t.Helper()
	ref, err := url.Parse(href)
	if err != nil {
		t.Errorf("link %q: %v", href, err)
		return nil, 0
	}
	resp, err := http.Get(base.ResolveReference(ref).String())
	if err != nil {
		t.Errorf("GET %s: %v", href, err)
		return nil, 0
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("GET %s: %v", href, err)
	}
	return body, resp.StatusCode
}
