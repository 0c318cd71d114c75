package publish

import (
	"fmt"
	mathrand "math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrentPublishesAreBothIndexed runs two publishes of different
// versions at the same time, many times, into one bucket: after each pair,
// the index must list both. Without the re-listing in rebuildIndex, the
// publish that listed first can write its index last and drop the other.
func TestConcurrentPublishesAreBothIndexed(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	// A random pause between listing and writing the index makes the two
	// publishes interleave in every order, not only in the rare unlucky one.
	testHookBeforeIndexWrite = func() { time.Sleep(time.Duration(mathrand.IntN(30)) * time.Millisecond) }
	t.Cleanup(func() { testHookBeforeIndexWrite = nil })
	const rounds = 30
	rebuilt := 0
	for i := range rounds {
		a := writeDist(t, fmt.Sprintf("v0.%d.0", i))
		b := writeDist(t, fmt.Sprintf("v0.%d.0-rc1", i))
		var wg sync.WaitGroup
		reps := make([]Report, 2)
		errs := make([]error, 2)
		for j, build := range []fakeBuild{a, b} {
			wg.Go(func() {
				reps[j], errs[j] = Publish(ctx, s.cfg, build.Dir, build.Manifest, Options{})
			})
		}
		wg.Wait()
		for j := range errs {
			if errs[j] != nil {
				t.Fatalf("round %d: %v", i, errs[j])
			}
			if reps[j].Index.Rounds > 1 {
				rebuilt++
			}
		}
		got := s.indexJSON(t, "").versions()
		if len(got) != 2*(i+1) || got[a.Manifest.Version] != "stable" || got[b.Manifest.Version] != "extra" {
			t.Fatalf("round %d: index lists %d releases %v, want %d including %s and %s", i, len(got), got, 2*(i+1), a.Manifest.Version, b.Manifest.Version)
		}
	}
	t.Logf("%d of %d publishes rebuilt the index more than once because the other one changed the bucket", rebuilt, 2*rounds)
}
