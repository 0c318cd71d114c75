package publish

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/garage-release/garage-release/ci/index"
)

// publishedBucket is a bucket with one release published and indexed, so a
// failing publish has an index to leave alone.
func publishedBucket(t *testing.T) testS3 {
	t.Helper()
	s := newTestS3(t)
	b := writeDist(t, "v1.0.0")
	if _, err := Publish(testCtx(t), s.cfg, b.Dir, b.Manifest, Options{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWrongCredentialsFailClearlyAndLeaveIndex(t *testing.T) {
	s := publishedBucket(t)
	before := s.snapshot(t, "")
	b := writeDist(t, "v1.1.0")
	for name, mutate := range map[string]func(*Config){
		"wrong secret":     func(c *Config) { c.SecretKey = "not-the-secret-4f9a2" },
		"wrong access key": func(c *Config) { c.AccessKey = "nobody-4f9a2" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := s.cfg
			mutate(&cfg)
			_, err := Publish(testCtx(t), cfg, b.Dir, b.Manifest, Options{})
			if err == nil {
				t.Fatal("publish with wrong credentials succeeded")
			}
			t.Logf("error: %v", err)
			msg := err.Error()
			for _, want := range []string{"refused the credentials", s.env.Endpoint, s.bucket, EnvAccessKey, EnvSecretKey} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			for _, secret := range []string{cfg.SecretKey, s.env.SecretKey} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows a secret key", msg)
				}
			}
		})
	}
	if after := s.snapshot(t, ""); after != before {
		t.Error("the index changed after failed publishes")
	}
	if s.exists(t, index.ManifestKey("v1.1.0")) {
		t.Error("a manifest was written by a failed publish")
	}
}

func TestUnreachableEndpointSaysSo(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	b := writeDist(t, "v1.1.0")
	cfg := Config{Endpoint: addr, Bucket: "releases", AccessKey: "k", SecretKey: "s3cr3t-value"}
	_, err = Publish(testCtx(t), cfg, b.Dir, b.Manifest, Options{})
	if err == nil || !strings.Contains(err.Error(), "cannot reach "+addr) {
		t.Fatalf("err = %v, want it to say it cannot reach %s", err, addr)
	}
	t.Logf("error: %v", err)
	if strings.Contains(err.Error(), "s3cr3t-value") {
		t.Errorf("error shows the secret: %v", err)
	}
}

// refusingProxy forwards to the S3 server but answers writes to one key with
// an S3 error, the way a server's policy or a full disk would.
type refusingProxy struct {
	*httptest.Server
	refuse  atomic.Value // string: the path suffix to refuse; "" lets all through
	status  int
	refused atomic.Int32
}

func newRefusingProxy(t *testing.T, s3URL string, status int) *refusingProxy {
	t.Helper()
	u, err := url.Parse(s3URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &refusingProxy{status: status}
	p.refuse.Store("")
	// The Host header is kept as the client sent it, so the request
	// signature (computed for the proxy's address) still verifies.
	rp := httputil.NewSingleHostReverseProxy(u)
	// Requests cancelled after the refusal are expected: keep them out of
	// the test output.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key := p.refuse.Load().(string); key != "" && r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/"+key) {
			p.refused.Add(1)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(p.status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>refused by the test proxy</Message><Key>%s</Key></Error>`,
				map[int]string{403: "AccessDenied", 500: "InternalError"}[p.status], key)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func TestRefusedWriteLeavesIndexAndNextRunCompletes(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			s := publishedBucket(t)
			before := s.snapshot(t, "")
			proxy := newRefusingProxy(t, s.env.URL(), status)
			cfg := s.cfg
			cfg.Endpoint = proxy.URL
			b := writeDist(t, "v1.1.0")
			refusedKey := index.BinaryKey("v1.1.0", b.Manifest.Targets[2])
			proxy.refuse.Store(refusedKey)

			_, err := Publish(testCtx(t), cfg, b.Dir, b.Manifest, Options{})
			if err == nil || !strings.Contains(err.Error(), refusedKey) {
				t.Fatalf("err = %v, want it to name %s", err, refusedKey)
			}
			t.Logf("error: %v", err)
			if proxy.refused.Load() == 0 {
				t.Fatal("the proxy never saw the write it refuses")
			}
			if s.exists(t, index.ManifestKey("v1.1.0")) {
				t.Error("the manifest was written after a refused write")
			}
			if after := s.snapshot(t, ""); after != before {
				t.Error("the index changed after a refused write")
			}
			if v := s.indexJSON(t, "").versions(); len(v) != 1 {
				t.Errorf("index lists %v, want only v1.0.0", v)
			}

			// What the first run left: the next run uploads exactly the rest.
			present := s.keys(t, index.ReleasePrefix("v1.1.0"))
			present = append(present, s.keys(t, index.DocsPrefix("v1.1.0"))...)
			var missing []string
			for _, k := range expectedKeys("", b) {
				if !slices.Contains(present, k) {
					missing = append(missing, k)
				}
			}
			proxy.refuse.Store("")
			rep, err := Publish(testCtx(t), cfg, b.Dir, b.Manifest, Options{})
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if got := sorted(rep.Keys(Uploaded)); !slices.Equal(got, missing) {
				t.Errorf("second run uploaded\n%v\nwant only the missing\n%v", got, missing)
			}
			if v := s.indexJSON(t, "").versions(); v["v1.1.0"] != "stable" {
				t.Errorf("after the second run the index lists %v, want v1.1.0 too", v)
			}
			checkBinaries(t, s, "", b)
		})
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Config{Endpoint: "127.0.0.1:3900", Bucket: "b", AccessKey: "a", SecretKey: "s"}
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string // "" when valid
	}{
		{"host:port", func(*Config) {}, ""},
		{"https URL", func(c *Config) { c.Endpoint = "https://garage.example.org" }, ""},
		{"http URL with slash", func(c *Config) { c.Endpoint = "http://127.0.0.1:3900/" }, ""},
		{"empty endpoint", func(c *Config) { c.Endpoint = "" }, "--s3-endpoint"},
		{"unparsable URL", func(c *Config) { c.Endpoint = "http://[::1" }, "--s3-endpoint"},
		{"URL with a path", func(c *Config) { c.Endpoint = "https://example.org/bucket" }, "--s3-endpoint"},
		{"ftp URL", func(c *Config) { c.Endpoint = "ftp://example.org" }, "--s3-endpoint"},
		{"empty port", func(c *Config) { c.Endpoint = "example.org:" }, "--s3-endpoint"},
		{"empty bucket", func(c *Config) { c.Bucket = "" }, "--s3-bucket"},
		{"bucket with a path", func(c *Config) { c.Bucket = "b/releases" }, "--s3-prefix"},
		{"no secret", func(c *Config) { c.SecretKey = "" }, EnvSecretKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	n, err := Config{Endpoint: "https://s3.example.org", Bucket: "b", Prefix: "/proj", AccessKey: "a", SecretKey: "s"}.normalize()
	if err != nil || n.Endpoint != "s3.example.org" || !n.Secure || n.Prefix != "proj/" || n.Region != "" {
		t.Errorf("normalize = %+v, %v; want host only, secure, prefix proj/, no region (the server is asked)", n, err)
	}
}

func TestConfigHidesSecret(t *testing.T) {
	cfg := Config{Endpoint: "127.0.0.1:3900", Bucket: "releases", AccessKey: "AKID", SecretKey: "SECRET"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, cfg); strings.Contains(out, "SECRET") {
			t.Errorf("Printf(%s) shows the secret key: %s", format, out)
		}
	}
	cfg.SecretKey = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), EnvSecretKey) {
		t.Fatalf("missing secret: err = %v, want it to name %s", err, EnvSecretKey)
	}
}
