package verified

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var sumA = strings.Repeat("a", 64)

// A file that is missing, corrupt or of another layout is an empty memo,
// and the next Put replaces it with a valid file holding the new entry.
func TestOpenToleratesBadFiles(t *testing.T) {
	cases := []struct {
		name    string
		content string // "" with missing: no file
		missing bool
		want    map[string]Entry
	}{
		{"missing", "", true, map[string]Entry{}},
		{"empty", "", false, map[string]Entry{}},
		{"truncated", `{"version":1,"entries":{"k":{"size":3,`, false, map[string]Entry{}},
		{"not JSON", "\x00\x01garbage", false, map[string]Entry{}},
		{"other layout", `{"version":2,"entries":{"k":{"size":3,"sha256":"` + sumA + `","stored":1}}}`, false, map[string]Entry{}},
		{"no entries", `{"version":1}`, false, map[string]Entry{}},
		{"bad entries dropped", `{"version":1,"entries":{
			"short":{"size":3,"sha256":"abc","stored":1},
			"empty":{"size":0,"sha256":"` + sumA + `","stored":1},
			"good":{"size":3,"sha256":"` + sumA + `","stored":1}}}`, false,
			map[string]Entry{"good": {Size: 3, SHA256: sumA}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "verified.json")
			if !tc.missing {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m := Open(path, nil)
			if got := entries(m); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("entries %v, want %v", got, tc.want)
			}
			var warn bytes.Buffer
			m.warn = &warn
			m.Put("new", Entry{Size: 7, SHA256: sumA})
			if warn.Len() > 0 {
				t.Fatalf("Put warned: %s", warn.String())
			}
			again := Open(path, nil)
			if e, ok := again.Get("new"); !ok || e != (Entry{Size: 7, SHA256: sumA}) {
				t.Errorf("after Put the file gives %v, %v", e, ok)
			}
			for k, e := range tc.want {
				if got, ok := again.Get(k); !ok || got != e {
					t.Errorf("entry %q lost on rewrite: %v, %v", k, got, ok)
				}
			}
		})
	}
}

// Two runs writing the same file keep each other's entries, and nothing
// but the file is left in its folder.
func TestPutMergesAndLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "verified.json")
	a, b := Open(path, nil), Open(path, nil)
	a.Put("a", Entry{Size: 1, SHA256: sumA})
	b.Put("b", Entry{Size: 2, SHA256: sumA})
	m := Open(path, nil)
	for k, size := range map[string]int64{"a": 1, "b": 2} {
		if e, ok := m.Get(k); !ok || e.Size != size {
			t.Errorf("%s: %v, %v; want size %d", k, e, ok, size)
		}
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 {
		t.Errorf("folder holds %d files, want only verified.json", len(names))
	}
	var f file
	if err := json.Unmarshal(readFile(t, path), &f); err != nil || f.Version != formatVersion {
		t.Errorf("file: version %d, %v", f.Version, err)
	}
}

// A memo that cannot be written warns once and still answers from memory.
func TestPutWarnsOnceWhenTheFileCannotBeWritten(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-folder")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	m := Open(filepath.Join(blocker, "verified.json"), &warn)
	m.Put("a", Entry{Size: 1, SHA256: sumA})
	m.Put("b", Entry{Size: 1, SHA256: sumA})
	if n := strings.Count(warn.String(), "warning:"); n != 1 || !strings.Contains(warn.String(), "not-a-folder") {
		t.Errorf("want one warning naming the path, got %q", warn.String())
	}
	if _, ok := m.Get("b"); !ok {
		t.Errorf("the entry is not kept in memory")
	}
}

func TestPrune(t *testing.T) {
	rec := func(stored int64) record { return record{Entry: Entry{Size: 1, SHA256: sumA}, Stored: stored} }
	cases := []struct {
		name    string
		entries map[string]record
		max     int
		want    []string
	}{
		{"under the limit", map[string]record{"a": rec(1), "b": rec(2)}, 2, []string{"a", "b"}},
		{"oldest go", map[string]record{"old": rec(1), "new": rec(3), "mid": rec(2)}, 2, []string{"mid", "new"}},
		{"ties by key", map[string]record{"b": rec(1), "a": rec(1), "c": rec(1)}, 1, []string{"c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prune(tc.entries, tc.max)
			var got []string
			for k := range tc.entries {
				got = append(got, k)
			}
			if !sameSet(got, tc.want) {
				t.Errorf("kept %v, want %v", got, tc.want)
			}
		})
	}
}

// Past MaxEntries the file keeps the newest entries.
func TestPutBoundsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verified.json")
	m := Open(path, nil)
	clock := time.Unix(1000, 0)
	m.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	for i := range MaxEntries + 3 {
		m.Put(strings.Repeat("k", i+1), Entry{Size: 1, SHA256: sumA})
	}
	got := Open(path, nil)
	if n := len(got.entries); n != MaxEntries {
		t.Fatalf("file holds %d entries, want %d", n, MaxEntries)
	}
	for i := range 3 {
		if _, ok := got.Get(strings.Repeat("k", i+1)); ok {
			t.Errorf("the %d-th oldest entry was kept", i+1)
		}
	}
	if _, ok := got.Get(strings.Repeat("k", MaxEntries+3)); !ok {
		t.Errorf("the newest entry was dropped")
	}
}

func entries(m *Memo) map[string]Entry {
	out := map[string]Entry{}
	for k, r := range m.entries {
		out[k] = r.Entry
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
