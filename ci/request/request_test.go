package request

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/garage-release/garage-release/ci/pipeline"
)

// TestValidate: each mistake is refused with a message naming the setting
// as both front ends spell it, and the zero request (every default) passes.
func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		req  Release
		want string // "" accepts
	}{
		{"defaults", Release{}, ""},
		{"every mode", Release{Cache: Cache{Mode: "read-only", Bucket: "compile-cache"}}, ""},
		{"images", Release{Engine: Engine{BaseImage: "debian:trixie", ToolchainImage: "127.0.0.1:5000/ns/tc@sha256:" + strings.Repeat("a", 64)}}, ""},
		{"negative jobs", Release{Engine: Engine{Jobs: -1}}, "--jobs -1: give 0 (no limit)"},
		{"negative cores", Release{Engine: Engine{Cores: -2}}, "--cores -2: give 0 (ask the engine)"},
		{"bad base image", Release{Engine: Engine{BaseImage: "Debian Trixie"}}, `--base-image "Debian Trixie" is not an image reference`},
		{"bad toolchain image", Release{Engine: Engine{ToolchainImage: "a@b"}}, `--toolchain-image "a@b" is not an image reference`},
		{"namespace with a slash", Release{Engine: Engine{CacheNamespace: "a/b"}}, `--cache-namespace "a/b"`},
		{"negative heartbeat", Release{Progress: Progress{Every: -time.Second}}, "--progress-every -1s"},
		{"unknown cache mode", Release{Cache: Cache{Mode: "yes"}}, `--cache "yes": give auto, read-write, read-only or off`},
		{"bucket with a prefix", Release{Cache: Cache{Bucket: "bucket/cache"}}, `--cache-bucket "bucket/cache" is not a bucket name`},
		{"blank bucket", Release{Cache: Cache{Bucket: " "}}, `--cache-bucket " " is not a bucket name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestConfigure: every engine and progress setting reaches the pipeline's
// configuration, and nothing else in it is touched.
func TestConfigure(t *testing.T) {
	r := Release{
		Engine: Engine{
			ToolchainImage: "tc:1", ToolchainComplete: true, BaseImage: "debian:bookworm", DebianMirror: "http://mirror/debian",
			CacheNamespace: "ns", CacheBust: "x", Jobs: 2, Cores: 3,
		},
		Progress: Progress{Verbose: true, Every: 7 * time.Second},
	}
	cfg := pipeline.Config{Version: "v1.0.0", Live: true}
	r.Configure(&cfg)
	want := pipeline.Config{
		Version: "v1.0.0", Live: true,
		ToolchainImage: "tc:1", ToolchainComplete: true, BaseImage: "debian:bookworm", DebianMirror: "http://mirror/debian",
		CacheNamespace: "ns", CacheBust: "x", Jobs: 2, Cores: 3, Heartbeat: 7 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Configure:\n got %+v\nwant %+v", cfg, want)
	}
	// A new Engine field must reach the pipeline: every field set above
	// must be non-zero, or the comparison proves nothing for it.
	v := reflect.ValueOf(r.Engine)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("Engine.%s is not set in this test: set it and check Configure passes it on", v.Type().Field(i).Name)
		}
	}
	tc := r.Engine.Toolchain()
	if tc.BaseImage != "debian:bookworm" || tc.DebianMirror != "http://mirror/debian" || tc.Image != "tc:1" || !tc.ImageComplete || tc.CacheBust != "x" {
		t.Errorf("Toolchain: %+v", tc)
	}
}

// TestRegistryRepo: the repository under the prefix, none without one,
// and a prefix that is no repository refused by name.
func TestRegistryRepo(t *testing.T) {
	cases := []struct {
		reg        Registry
		image      string
		want, fail string
	}{
		{Registry{}, "app", "", ""},
		{Registry{Prefix: "127.0.0.1:5000/ns/"}, "app", "127.0.0.1:5000/ns/app", ""},
		{Registry{Prefix: "127.0.0.1:5000/ns"}, "", "127.0.0.1:5000/ns/", ""},
		{Registry{Prefix: "Not A Registry!"}, "app", "", `--registry "Not A Registry!"`},
	}
	for _, tc := range cases {
		got, err := tc.reg.Repo(tc.image)
		if got != tc.want || (tc.fail == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.fail)) {
			t.Errorf("%+v.Repo(%q) = %q, %v; want %q, error %q", tc.reg, tc.image, got, err, tc.want, tc.fail)
		}
	}
}

// TestS3Config: the settings and the credentials, https unless Insecure.
func TestS3Config(t *testing.T) {
	s := S3{Endpoint: "127.0.0.1:9000", Bucket: "b", Prefix: "p/", Region: "eu"}
	cfg := s.Config("key", "secret", false)
	if cfg.Endpoint != s.Endpoint || cfg.Bucket != "b" || cfg.Prefix != "p/" || cfg.Region != "eu" || !cfg.Secure || cfg.AccessKey != "key" || cfg.SecretKey != "secret" || cfg.Anonymous {
		t.Errorf("Config: %+v", cfg)
	}
	s.Insecure = true
	if cfg := s.Config("", "", true); cfg.Secure || !cfg.Anonymous {
		t.Errorf("insecure, anonymous: %+v", cfg)
	}
}
