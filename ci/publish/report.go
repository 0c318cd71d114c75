package publish

import (
	"fmt"
	"io"
	"sync"
)

// Status says what happened to one key.
type Status string

// Statuses in a Report.
const (
	// Uploaded: the object was written (new, or its sha256 differed).
	Uploaded Status = "uploaded"
	// Copied: the object was copied server-side (promote).
	Copied Status = "copied"
	// Skipped: the remote object already had the same sha256.
	Skipped Status = "skipped"
)

// ObjectResult is one key of a publish or a promote.
type ObjectResult struct {
	Key    string `json:"key"`
	Status Status `json:"status"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Report is what Publish and Promote did, key by key, in order.
type Report struct {
	Version string         `json:"version"`
	Class   string         `json:"class"`
	Objects []ObjectResult `json:"objects"`
	// Index is the rebuild that followed; empty if it did not run.
	Index IndexReport `json:"index"`
}

// Keys returns the keys that ended with status s, in order.
func (r Report) Keys(s Status) []string {
	var out []string
	for _, o := range r.Objects {
		if o.Status == s {
			out = append(out, o.Key)
		}
	}
	return out
}

// progress writes one line per event; uploads run concurrently, so lines
// are serialised. A nil writer discards them.
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *progress) printf(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
