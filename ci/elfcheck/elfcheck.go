// Package elfcheck proves a release binary is what its target promises: an
// ELF file for the right machine that needs nothing from the system it runs
// on (no program interpreter, no shared libraries). A dynamic binary would
// pass every test inside the build container and fail on a user's machine.
package elfcheck

import (
	"bytes"
	"debug/elf"
	"fmt"
	"strings"

	"github.com/garage-release/garage-release/ci/target"
)

// Rules names the rules Check applies. A memo of binaries that passed
// (see pipeline.VerifiedMemo) keys by it: changing the rules must change
// it, or a binary the new rules reject would pass from the memo.
const Rules = "1"

// Check reads data as an ELF executable and returns an error naming every
// way it is not a static binary for t.
func Check(data []byte, t target.Target) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: not an ELF file: %w", t.Name, err)
	}
	defer f.Close()
	var problems []string
	if f.Machine != t.Machine || f.Class != t.Class {
		problems = append(problems, fmt.Sprintf("built for %s %s, want %s %s", f.Class, f.Machine, t.Class, t.Machine))
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		problems = append(problems, fmt.Sprintf("type %s is not an executable", f.Type))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp, _ := readInterp(p)
			problems = append(problems, fmt.Sprintf("has a program interpreter %q (dynamically linked)", interp))
		}
	}
	// A static-pie binary keeps a PT_DYNAMIC segment for its own relocations;
	// only DT_NEEDED entries mean it loads libraries at run time.
	libs, err := f.ImportedLibraries()
	if err != nil {
		problems = append(problems, fmt.Sprintf("unreadable dynamic section: %v", err))
	}
	if len(libs) > 0 {
		problems = append(problems, fmt.Sprintf("needs shared libraries %s", strings.Join(libs, ", ")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s (%s) is not a static binary: %s", t.Name, t.Triple, strings.Join(problems, "; "))
	}
	return nil
}

func readInterp(p *elf.Prog) (string, error) {
	b := make([]byte, p.Filesz)
	if _, err := p.ReadAt(b, 0); err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\x00"), nil
}
