package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/verified"
)

// staticELF is the smallest file elfcheck passes for t: an ELF header of
// t's class and machine, an executable with no program interpreter and no
// dynamic section.
func staticELF(t *testing.T, tg target.Target) []byte {
	t.Helper()
	var b bytes.Buffer
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(tg.Class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	var err error
	if tg.Class == elf.ELFCLASS64 {
		err = binary.Write(&b, binary.LittleEndian, elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(tg.Machine), Version: uint32(elf.EV_CURRENT), Ehsize: 64})
	} else {
		err = binary.Write(&b, binary.LittleEndian, elf.Header32{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(tg.Machine), Version: uint32(elf.EV_CURRENT), Ehsize: 52})
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fakeBinary is a binary "in the engine" that counts what Verify asks.
type fakeBinary struct {
	data   []byte
	format func(data []byte) string // the engine's digest
	reads  int
}

func (b *fakeBinary) digest(context.Context) (string, error) { return b.format(b.data), nil }
func (b *fakeBinary) size(context.Context) (int64, error)    { return int64(len(b.data)), nil }
func (b *fakeBinary) read(context.Context) ([]byte, error) {
	b.reads++
	return b.data, nil
}

// The digest formats of the engine: v0.21.8's (sha256 of the raw sha256),
// a plain sha256, and one Verify does not know.
func engineDigest(data []byte) string {
	s := sha256.Sum256(data)
	twice := sha256.Sum256(s[:])
	return "sha256:" + hex.EncodeToString(twice[:])
}

func plainDigest(data []byte) string { return "sha256:" + sha256hex(data) }

func unknownDigest(data []byte) string { return "xxh3:" + sha256hex(data)[:16] }

func sha256hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

type fakeMemo struct {
	entries map[string]verified.Entry
	puts    int
}

func (m *fakeMemo) Get(key string) (verified.Entry, bool) { e, ok := m.entries[key]; return e, ok }
func (m *fakeMemo) Put(key string, e verified.Entry)      { m.entries[key] = e; m.puts++ }

// TestVerifyMemo: a binary is read back and checked unless the memo holds
// its content for its target with a sha256 the engine's digest proves; a
// result is stored only after the check passed.
func TestVerifyMemo(t *testing.T) {
	amd64, i386, arm64 := target.All[0], target.All[1], target.All[2]
	good := staticELF(t, amd64)
	goodSum := sha256hex(good)
	right := verified.Entry{Size: int64(len(good)), SHA256: goodSum}
	cases := []struct {
		name     string
		check    target.Target // the target verified (the binary is amd64's)
		format   func([]byte) string
		noMemo   bool
		memo     map[string]verified.Entry // keyed by target, the digest added
		wantRead bool
		wantPuts int
		wantErr  string
	}{
		{"no memo: read", amd64, engineDigest, true, nil, true, 0, ""},
		{"miss: read and stored", amd64, engineDigest, false, nil, true, 1, ""},
		{"hit: not read", amd64, engineDigest, false, map[string]verified.Entry{"amd64": right}, false, 0, ""},
		{"hit with a plain sha256 digest", amd64, plainDigest, false, map[string]verified.Entry{"amd64": right}, false, 0, ""},
		{"same content, other target: read", i386, engineDigest, false, map[string]verified.Entry{"amd64": right}, true, 0, "not a static binary"},
		{"entry whose sha256 the digest does not prove: read, replaced", amd64, engineDigest, false,
			map[string]verified.Entry{"amd64": {Size: right.Size, SHA256: strings.Repeat("0", 64)}}, true, 1, ""},
		{"entry of another size: read, replaced", amd64, engineDigest, false,
			map[string]verified.Entry{"amd64": {Size: right.Size + 1, SHA256: goodSum}}, true, 1, ""},
		{"check fails: nothing stored", arm64, engineDigest, false, nil, true, 0, "not a static binary"},
		{"digest format unknown: read, not stored", amd64, unknownDigest, false, nil, true, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bin := &fakeBinary{data: good, format: tc.format}
			memo := &fakeMemo{entries: map[string]verified.Entry{}}
			for name, e := range tc.memo {
				tg, err := target.Lookup(name)
				if err != nil {
					t.Fatal(err)
				}
				memo.entries[memoKey(tc.format(good), tg)] = e
			}
			var m VerifiedMemo = memo
			if tc.noMemo {
				m = nil
			}
			art, err := verifyBinary(context.Background(), tc.check, "x/bin", bin, m)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if read := bin.reads > 0; read != tc.wantRead {
				t.Errorf("read back: %v, want %v", read, tc.wantRead)
			}
			if memo.puts != tc.wantPuts {
				t.Errorf("%d entries stored, want %d", memo.puts, tc.wantPuts)
			}
			if err != nil {
				return
			}
			// Hit or miss, the result is the bytes' own.
			if art.SHA256 != goodSum || art.Size != int64(len(good)) || art.Target != tc.check.Name || art.Path != "x/bin" {
				t.Errorf("artifact %+v, want size %d sha256 %s", art, len(good), goodSum)
			}
			if tc.wantPuts > 0 {
				if e := memo.entries[memoKey(tc.format(good), tc.check)]; e != right {
					t.Errorf("stored %+v, want %+v", e, right)
				}
			}
		})
	}
}

// The memo's key changes with the content, the target and elfcheck's rules.
func TestMemoKey(t *testing.T) {
	amd64, i386 := target.All[0], target.All[1]
	a := memoKey("sha256:aa", amd64)
	for _, other := range []string{memoKey("sha256:bb", amd64), memoKey("sha256:aa", i386)} {
		if other == a {
			t.Errorf("two different binaries share the key %q", a)
		}
	}
	if !strings.Contains(a, "elfcheck/") {
		t.Errorf("key %q does not name elfcheck's rules", a)
	}
}
