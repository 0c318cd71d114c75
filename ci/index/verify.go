package index

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/garage-release/garage-release/ci/manifest"
)

// verify is the "Verify a download" part of a release: the exact commands,
// with the release's file names, a user runs in the folder holding the
// downloads. A browser saves a download under its base name, so a binary
// "<triple>/garage" is "garage" there.
type verify struct {
	// Open shows the commands of the latest release without a click.
	Open bool
	// SumsSig checks SHA256SUMS itself, before it is trusted (signed only).
	SumsSig []string
	Targets []targetCommands
	// Image verifies the image and its provenance in the registry.
	Image []string
	// Incomplete is set when a name needs shell quoting: its commands are
	// left out rather than shown wrong.
	Incomplete bool
}

type targetCommands struct {
	Target, Triple string
	// File is the name the binary is saved under.
	File     string
	Commands []string
}

// shellSafe names need no quoting in a shell nor escaping in grep or sed
// beyond the dot.
var (
	shellSafe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	imageSafe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)
	digestHex = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

func safePath(p string) bool {
	if !releaseFile(p) {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if !shellSafe.MatchString(seg) {
			return false
		}
	}
	return true
}

func verifyCommands(m *manifest.Manifest) verify {
	var v verify
	s := m.Signatures
	key := ""
	if s != nil {
		key = baseName(s.PublicKey, manifest.PublicKeyName)
		if !shellSafe.MatchString(key) {
			// Without a usable key name no cosign command is right.
			s, v.Incomplete = nil, true
		}
	}
	if s != nil {
		if sig := s.Files[manifest.SumsName]; sig != "" {
			if safePath(sig) {
				v.SumsSig = []string{verifyBlob(key, path.Base(sig), manifest.SumsName)}
			} else {
				v.Incomplete = true
			}
		}
	}
	for _, a := range m.Targets {
		if !safePath(a.Path) {
			v.Incomplete = true
			continue
		}
		file := path.Base(a.Path)
		tc := targetCommands{Target: a.Target, Triple: a.Triple, File: file,
			Commands: []string{sumsCheck(a.Path)}}
		if s != nil {
			if sig := s.Files[a.Path]; sig != "" && safePath(sig) {
				tc.Commands = append(tc.Commands, verifyBlob(key, path.Base(sig), file))
			} else if sig != "" {
				v.Incomplete = true
			}
			if env := s.Provenance; env != "" && safePath(env) {
				tc.Commands = append(tc.Commands, fmt.Sprintf(
					"cosign verify-blob-attestation --key %s --signature %s --type slsaprovenance1 --insecure-ignore-tlog %s",
					key, path.Base(env), file))
			} else if env != "" {
				v.Incomplete = true
			}
		}
		v.Targets = append(v.Targets, tc)
	}
	if s != nil && m.Image != nil && m.Image.Digest != "" {
		ref := imageRepo(m.Image.Ref) + "@" + m.Image.Digest
		if imageSafe.MatchString(imageRepo(m.Image.Ref)) && digestHex.MatchString(m.Image.Digest) {
			v.Image = []string{
				fmt.Sprintf("cosign verify --key %s --insecure-ignore-tlog %s", key, ref),
				fmt.Sprintf("cosign verify-attestation --key %s --insecure-ignore-tlog --type slsaprovenance1 %s", key, ref),
			}
		} else {
			v.Incomplete = true
		}
	}
	return v
}

// --insecure-ignore-tlog: releases are signed with a key and not logged in
// Rekor, so cosign must not look for a transparency log entry.
func verifyBlob(key, sig, file string) string {
	return fmt.Sprintf("cosign verify-blob --key %s --signature %s --insecure-ignore-tlog %s", key, sig, file)
}

// sumsCheck checks a binary saved under its base name against its line of
// SHA256SUMS, which names it "<triple>/<binary>": pick that line, drop the
// folder, and let sha256sum check the file in the current folder. A missing
// line leaves sha256sum nothing to check, which fails too.
func sumsCheck(p string) string {
	dir := path.Dir(p)
	line := fmt.Sprintf("grep ' %s$' %s", grepQuote(p), manifest.SumsName)
	if dir == "." {
		return line + " | sha256sum -c"
	}
	return fmt.Sprintf("%s | sed 's| %s/| |' | sha256sum -c", line, grepQuote(dir))
}

// grepQuote escapes the one character of a shell-safe name that is special
// in a basic regular expression.
func grepQuote(s string) string { return strings.ReplaceAll(s, ".", `\.`) }

// imageRepo is the repository of "<repository>:<tag>" or
// "<repository>@<digest>"; a registry port ("host:5000/app") is kept.
func imageRepo(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i]
	}
	return ref
}
