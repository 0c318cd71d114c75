package publish

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/index"
)

func TestRebuildIndexSkipsHalfUploadedAndBrokenReleases(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	good := writeDist(t, "v1.0.0")
	if _, err := Publish(ctx, s.cfg, good.Dir, good.Manifest, Options{}); err != nil {
		t.Fatal(err)
	}
	goodManifest := s.get(t, index.ManifestKey("v1.0.0"))
	put := func(key string, data []byte) {
		t.Helper()
		if _, err := s.mc.PutObject(context.Background(), s.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	put("_releases/v1.1.0/x86_64-unknown-linux-gnu/garage", []byte("half uploaded: no manifest yet"))
	put(index.ManifestKey("broken"), []byte("{not json"))
	put(index.ManifestKey("v0.9.0"), goodManifest) // a copy under the wrong folder

	rep, err := RebuildIndex(ctx, s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Versions, []string{"v1.0.0"}) {
		t.Errorf("indexed %v, want only v1.0.0", rep.Versions)
	}
	warnings := strings.Join(rep.Warnings, "\n")
	if len(rep.Warnings) != 2 || !strings.Contains(warnings, index.ManifestKey("broken")) || !strings.Contains(warnings, index.ManifestKey("v0.9.0")) {
		t.Errorf("warnings:\n%s\nwant one for the broken manifest and one for the misplaced copy", warnings)
	}
	if v := s.indexJSON(t, "").versions(); len(v) != 1 || v["v1.0.0"] != "stable" {
		t.Errorf("index lists %v, want only v1.0.0", v)
	}
	if !bytes.Contains(s.get(t, index.HTMLKey), []byte(`data-version="v1.0.0"`)) || bytes.Contains(s.get(t, index.HTMLKey), []byte("v1.1.0")) {
		t.Error("the page does not list exactly the complete release")
	}
}

func TestMissingBucketSaysSo(t *testing.T) {
	s := newTestS3(t)
	cfg := s.cfg
	cfg.Bucket = s.bucket + "-missing"
	_, err := RebuildIndex(testCtx(t), cfg)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), cfg.Bucket) {
		t.Fatalf("err = %v, want it to say bucket %s does not exist", err, cfg.Bucket)
	}
}
