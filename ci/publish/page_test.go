package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/testenv"
)

// TestReleasePageServedFromTheBucket publishes three releases and opens
// _releases.html the way users do: straight from the S3 server, with no
// credentials. The bucket is made anonymously readable with a bucket policy
// (GetObject only, no listing), which is how Garage serves its release
// bucket; a presigned URL would not do, because the page's relative links
// would then lead to unsigned URLs. Every binary link is clicked and the
// download's sha256 compared with the one the page shows.
func TestReleasePageServedFromTheBucket(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	dev := strings.Repeat("5eed", 10)
	builds := map[string]fakeBuild{}
	for _, v := range []string{"v1.0.0", "v1.1.0-rc1", dev} {
		b := writeDist(t, v)
		if _, err := Publish(ctx, s.cfg, b.Dir, b.Manifest, Options{}); err != nil {
			t.Fatal(err)
		}
		builds[v] = b
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, s.bucket)
	if err := s.mc.SetBucketPolicy(ctx, s.bucket, policy); err != nil {
		t.Fatalf("making the bucket readable: %v", err)
	}

	bctx := testenv.Chromium(t)
	downloads := t.TempDir()
	done := make(chan browser.EventDownloadProgress, 16)
	if err := chromedp.ListenBrowser(bctx, func(ev any) {
		if p, ok := ev.(*browser.EventDownloadProgress); ok && p.State != browser.DownloadProgressStateInProgress {
			select { // never block the browser's event loop
			case done <- *p:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptr(true),
	}); err != nil {
		t.Fatal(err)
	}

	pageURL := s.env.URL() + "/" + s.bucket + "/" + index.HTMLKey
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("loading %s: %v", pageURL, err)
	}
	sections, err := chromedp.Run(bctx, chromedp.Evaluate[map[string][]string](
		`Object.fromEntries([...document.querySelectorAll('main > section')].map(s => [s.id, [...s.querySelectorAll('article.build')].map(a => a.dataset.version)]))`))
	if err != nil {
		t.Fatalf("reading the sections of %s: %v", pageURL, err)
	}
	want := map[string][]string{"stable": {"v1.0.0"}, "extra": {"v1.1.0-rc1"}, "development": {dev}}
	for id, versions := range want {
		if !slices.Equal(sections[id], versions) {
			t.Errorf("section %q lists %v, want %v", id, sections[id], versions)
		}
	}

	// Chromium ignored the eleventh download click of one page load (its
	// limit on downloads per page), so the page is loaded again for each
	// release's links.
	clicked := 0
	for _, v := range []string{"v1.0.0", "v1.1.0-rc1", dev} {
		clicked += checkDownloads(t, bctx, pageURL, builds[v], done, downloads)
	}
	if want := 3 * len(builds[dev].Manifest.Targets); clicked != want {
		t.Errorf("downloaded %d binaries from the page, want %d", clicked, want)
	}

	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100) /* 100: PNG */)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "releases.png")
	if err := os.WriteFile(p, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %s: %s", pageURL, p)
}

// checkDownloads loads the page, opens the collapsed sections as a visitor
// would, and clicks every binary link of build b: each download's sha256
// must be the one the page shows, which must be the manifest's. It returns
// how many links it clicked.
func checkDownloads(t *testing.T, bctx context.Context, pageURL string, b fakeBuild, done <-chan browser.EventDownloadProgress, dir string) int {
	t.Helper()
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL),
		chromedp.Click(chromedp.CSS("#extra summary")), chromedp.Click(chromedp.CSS("#development summary"))); err != nil {
		t.Fatalf("loading %s and opening its collapsed sections: %v", pageURL, err)
	}
	type link struct{ Href, Shown, Target string }
	sel := fmt.Sprintf(`document.querySelectorAll('article[data-version=%q] a.binary')`, b.Manifest.Version)
	links, err := chromedp.Run(bctx, chromedp.Evaluate[[]link](sel+
		`.values().map(a => ({Href: a.href, Shown: a.closest('li').querySelector('code.sha256').textContent.trim(), Target: a.closest('li').dataset.target})).toArray()`))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range links {
		var wantSum string
		for _, a := range b.Manifest.Targets {
			if a.Target == l.Target {
				wantSum = a.SHA256
			}
		}
		if l.Shown != wantSum {
			t.Errorf("%s %s: the page shows sha256 %q, the manifest says %q", b.Manifest.Version, l.Target, l.Shown, wantSum)
		}
		got := clickDownload(t, bctx, fmt.Sprintf("%s[%d]", sel, i), done, dir)
		if sum := sha256hex(got); sum != l.Shown {
			t.Errorf("%s: downloaded %d bytes with sha256 %s, the page shows %s", l.Href, len(got), sum, l.Shown)
		}
	}
	return len(links)
}

// clickDownload clicks the element a JS expression gives and returns the
// bytes the browser downloaded.
func clickDownload(t *testing.T, bctx context.Context, js string, done <-chan browser.EventDownloadProgress, dir string) []byte {
	t.Helper()
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.JSPath(js))); err != nil {
		t.Fatalf("clicking %s: %v", js, err)
	}
	select {
	case ev := <-done:
		if ev.State != browser.DownloadProgressStateCompleted {
			t.Fatalf("download from %s ended %s", js, ev.State)
		}
		path := ev.FilePath
		if path == "" {
			path = filepath.Join(dir, ev.GUID) // allowAndName names files by GUID
		}
		return readFile(t, path)
	case <-time.After(30 * time.Second):
		t.Fatalf("no download finished within 30s after clicking %s", js)
		return nil
	}
}

func ptr[T any](v T) *T { return &v }
