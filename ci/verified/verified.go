// Package verified keeps, on the host, the memo of release binaries that
// passed the ELF check (see pipeline.VerifiedMemo): a build whose binary
// did not change then skips reading it back from the engine. It is the
// front ends' half of the memo, as the pipeline never touches the host.
//
// The memo is a cache: a missing, unreadable or corrupt file is an empty
// memo (rewritten on the next Put), and a file that cannot be written only
// costs the next run a read-back.
package verified

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Entry is what a passed check learnt of one binary.
type Entry struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// MaxEntries bounds the file: every source change adds one entry per
// target, and only the latest builds are worth remembering.
const MaxEntries = 512

// formatVersion is the file's layout; a file of another layout is ignored.
const formatVersion = 1

type file struct {
	Version int               `json:"version"`
	Entries map[string]record `json:"entries"`
}

type record struct {
	Entry
	// Stored is when the entry was last written (Unix seconds): the
	// oldest go first past MaxEntries.
	Stored int64 `json:"stored"`
}

// Memo is the memo in one JSON file. Safe for concurrent use (Verify runs
// once per target at the same time).
type Memo struct {
	path string
	warn io.Writer
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]record
	warned  bool
}

// DefaultPath is the memo's file in the user's cache folder.
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("verified memo: %w", err)
	}
	return filepath.Join(dir, "garage-release", "verified.json"), nil
}

// Open reads the memo at path. The first failure to write it is reported
// on warn (nil: not reported); a file that cannot be read is an empty memo.
func Open(path string, warn io.Writer) *Memo {
	if warn == nil {
		warn = io.Discard
	}
	return &Memo{path: path, warn: warn, now: time.Now, entries: load(path)}
}

// load returns the entries of the file at path; nothing when it is
// missing, unreadable, corrupt or of another layout.
func load(path string) map[string]record {
	data, err := os.ReadFile(path)
	if err != nil {
		return map[string]record{}
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil || f.Version != formatVersion || f.Entries == nil {
		return map[string]record{}
	}
	for k, r := range f.Entries {
		// A hand-edited or half-written entry is no entry.
		if k == "" || r.Size <= 0 || len(r.SHA256) != 64 {
			delete(f.Entries, k)
		}
	}
	return f.Entries
}

// Get returns the entry stored under key.
func (m *Memo) Get(key string) (Entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.entries[key]
	return r.Entry, ok
}

// Put stores e under key and writes the file at once: a run that fails
// later keeps what it checked.
func (m *Memo) Put(key string, e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[key] = record{Entry: e, Stored: m.now().Unix()}
	if err := m.save(); err != nil && !m.warned {
		m.warned = true
		fmt.Fprintf(m.warn, "warning: %v (the next build reads its binaries back again)\n", err)
	}
}

// save writes the entries merged with the file's current ones (another
// run may have added some since Open), keeping the newest MaxEntries.
// The file is replaced by a rename, so a reader never sees half of it.
func (m *Memo) save() error {
	for k, r := range load(m.path) {
		if _, ok := m.entries[k]; !ok {
			m.entries[k] = r
		}
	}
	prune(m.entries, MaxEntries)
	data, err := json.Marshal(file{Version: formatVersion, Entries: m.entries})
	if err != nil {
		return fmt.Errorf("verified memo %s: %w", m.path, err)
	}
	if err := writeAtomic(m.path, data); err != nil {
		return fmt.Errorf("verified memo: %w", err)
	}
	return nil
}

// prune deletes the oldest entries past max (ties by key, so the result
// does not depend on map order).
func prune(entries map[string]record, max int) {
	if len(entries) <= max {
		return
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := entries[keys[i]], entries[keys[j]]
		if a.Stored != b.Stored {
			return a.Stored < b.Stored
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys[:len(keys)-max] {
		delete(entries, k)
	}
}

// writeAtomic writes data to path through a temporary file in the same
// folder and a rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".verified-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return nil
}
