package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumEnv names the environment variable that points at a Chromium (or
// Chrome) binary, for machines where it is not called `chromium` in PATH.
const ChromiumEnv = "GR_TEST_CHROMIUM"

// Chromium starts a headless Chromium and returns a chromedp context for one
// tab of it. The browser is stopped and its profile removed when the test
// ends. The binary comes from $GR_TEST_CHROMIUM, else `chromium` in PATH;
// when there is none the test is skipped, or fails if CI=true.
func Chromium(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv(ChromiumEnv)
	if path == "" {
		p, err := exec.LookPath("chromium")
		if err != nil {
			missing(t, "chromium is not in PATH and "+ChromiumEnv+" is not set (apt-get install chromium)")
		}
		path = p
	} else if _, err := os.Stat(path); err != nil {
		// An explicit setting that is wrong is a mistake, never a skip.
		t.Fatalf("%s=%s: %v", ChromiumEnv, path, err)
	}

	// A fresh profile per test: no state leaks between tests or from a
	// desktop session. Not t.TempDir: Chromium's helpers may still write
	// there for a moment after the browser exits, see removeAll.
	profile, err := os.MkdirTemp("", "gr-chromium-")
	if err != nil {
		t.Fatalf("creating a Chromium profile directory: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox, // containers and CI runners have no user namespaces
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // small /dev/shm in containers
		// Tests talk to local servers only; a proxy from the environment
		// must not intercept them.
		chromedp.Flag("no-proxy-server", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser process to exit
		removeAll(t, profile)
	})
	// Start the browser now, so a Chromium that cannot start fails here with
	// its own message rather than inside the first action of the test. No
	// timeout on this first call: the browser lives as long as its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// missing skips the test, or fails it in CI where the tool must be there.
func missing(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

// removeAll removes a directory that a just-stopped process may still be
// writing to, retrying for a few seconds.
func removeAll(t testing.TB, dir string) {
	var err error
	for range 50 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("removing %s: %v", dir, err)
}
