package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// verify refuses, before any engine, what cannot prove anything: no
// version, a version the bucket does not have, a checkout of another
// commit than the release's.
func TestVerifyRefusals(t *testing.T) {
	w := newPublishWorld(t)
	src := checkoutFixture(t, "workspace", nil)
	c := w.cli(t)
	s3 := []string{"--s3-endpoint", w.s3.URL(), "--s3-bucket", w.bucket}

	code, _, stderr := c.run(append([]string{"verify", "--source", src}, s3...)...)
	if code != exitUsage || !strings.Contains(stderr, "give the version") {
		t.Errorf("verify without a version: exit %d\n%s", code, stderr)
	}

	code, _, stderr = c.run(append([]string{"verify", "v9.9.9", "--source", src}, s3...)...)
	if code != exitFailure || !strings.Contains(stderr, "v9.9.9 is not published") {
		t.Errorf("verify of a version not published: exit %d\n%s", code, stderr)
	}

	// A release from another commit than the checkout's HEAD.
	dir := t.TempDir()
	released := strings.Repeat("e", 40)
	fakeDist(t, dir, "v2.0.0", released)
	if code, _, stderr := c.run(append([]string{"publish", "--dist", filepath.Join(dir, "dist")}, s3...)...); code != exitOK {
		t.Fatalf("publish --dist: exit %d\n%s", code, stderr)
	}
	code, _, stderr = c.run(append([]string{"verify", "v2.0.0", "--source", src}, s3...)...)
	if code != exitUsage || !strings.Contains(stderr, released) || !strings.Contains(stderr, "git checkout") {
		t.Errorf("verify from another commit: exit %d, want %d naming %s and the fix\n%s", code, exitUsage, released, stderr)
	}
	if c.dialed {
		t.Error("the engine was contacted")
	}

	// Without credentials the bucket is read anonymously: refused while
	// it is private, read once it is public (the commit check shows the
	// manifest was read).
	anon := newCLI(t)
	code, _, stderr = anon.run(append([]string{"verify", "v2.0.0", "--source", src}, s3...)...)
	if code != exitFailure || !strings.Contains(stderr, "anonymously") || !strings.Contains(stderr, "403") {
		t.Errorf("anonymous verify of a private bucket: exit %d\n%s", code, stderr)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + w.bucket + `/*"]}]}`
	if err := w.s3.Client(t).SetBucketPolicy(context.Background(), w.bucket, policy); err != nil {
		t.Fatalf("making the bucket public: %v", err)
	}
	code, _, stderr = anon.run(append([]string{"verify", "v2.0.0", "--source", src}, s3...)...)
	if code != exitUsage || !strings.Contains(stderr, released) {
		t.Errorf("anonymous verify of a public bucket: exit %d, want %d naming %s\n%s", code, exitUsage, released, stderr)
	}
}
