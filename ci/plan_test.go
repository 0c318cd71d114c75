package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/testenv"
)

// TestPlanCommand runs `plan --json` against a real S3 server, with no
// engine: it lists every key a publish would write for the bundled
// example, all absent from an empty bucket, and the image tags.
func TestPlanCommand(t *testing.T) {
	s3 := testenv.S3(t)
	bucket := testenv.NewBucket(t, s3)
	c := newCLI(t)
	// A dist/ of another version in the folder must not get in the way.
	other := &manifest.Manifest{Version: "v0.0.1", Class: "stable", Binary: "kvstore", Targets: []manifest.Artifact{
		{Target: "amd64", Triple: "x86_64-unknown-linux-gnu", Path: "x86_64-unknown-linux-gnu/kvstore", SHA256: strings.Repeat("a", 64)}}}
	data, _ := other.Marshal()
	os.MkdirAll(filepath.Join(c.dir, "dist"), 0o755)
	os.WriteFile(filepath.Join(c.dir, "dist", manifest.FileName), data, 0o644)
	c.vars["AWS_ACCESS_KEY_ID"] = s3.AccessKey
	c.vars["AWS_SECRET_ACCESS_KEY"] = s3.SecretKey
	code, stdout, stderr := c.run("plan", "--json", "--tag", "v2.0.0", "--s3-endpoint", s3.URL(), "--s3-bucket", bucket,
		"--registry", "127.0.0.1:1/ns")
	if code != exitOK {
		t.Fatalf("plan exited %d: %s", code, stderr)
	}
	if c.dialed {
		t.Errorf("plan connected to an engine")
	}
	var plan publish.PlanReport
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("plan --json is not JSON: %v\n%s", err, stdout)
	}
	if plan.Version != "v2.0.0" || plan.Class != "stable" || len(plan.Targets) != 4 {
		t.Errorf("plan: version %q class %q %d targets", plan.Version, plan.Class, len(plan.Targets))
	}
	keys := map[string]string{}
	for _, o := range plan.Objects {
		keys[o.Key] = string(o.Status)
	}
	for _, want := range []string{
		"_releases/v2.0.0/x86_64-unknown-linux-gnu/kvstore",
		"_releases/v2.0.0/armv5te-unknown-linux-gnueabi/kvstore.sha256",
		"_releases/v2.0.0/SHA256SUMS",
		"_releases/v2.0.0/manifest.json",
		"_releases.json", "_releases.html",
	} {
		if keys[want] != "absent" {
			t.Errorf("key %s: status %q, want absent", want, keys[want])
		}
	}
	var refs []string
	for _, im := range plan.Images {
		refs = append(refs, im.Ref)
	}
	if got := strings.Join(refs, " "); !strings.Contains(got, "127.0.0.1:1/ns/kvstore:v2.0.0") {
		t.Errorf("image tags: %s", got)
	}
	if strings.Contains(stdout+stderr, s3.SecretKey) {
		t.Errorf("plan printed the secret key")
	}
}
