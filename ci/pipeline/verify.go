package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/elfcheck"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/verified"
)

// VerifiedMemo remembers the binaries Verify proved static, so that a build
// whose binary did not change is not read back from the engine (1 s or more
// per target for a 10 MB binary). Keys are opaque: Verify makes them of the
// engine's digest of the content, the target and elfcheck's rules. The front
// end keeps the memo (ci/verified keeps a file): the pipeline never touches
// the host.
type VerifiedMemo interface {
	Get(key string) (verified.Entry, bool)
	Put(key string, e verified.Entry)
}

// Verify proves the binary static for t with debug/elf and returns its
// manifest entry (size and sha256 of exactly the bytes checked). With
// Config.Verified, a binary whose content passed for t before is not read
// back: its entry comes from the memo, once the engine's digest proves the
// memo's sha256 and its size matches.
func (p *Pipeline) Verify(ctx context.Context, t target.Target, bin *dagger.File) (manifest.Artifact, error) {
	return verifyBinary(ctx, t, t.BinaryPath(p.cfg.Project.Binary), engineBinary{p: p, f: bin}, p.cfg.Verified)
}

// engineFile is what Verify asks of a binary in the engine; an interface so
// that its decision (read back or not) is tested without an engine.
type engineFile interface {
	// digest is File.Digest with metadata excluded: a hash of the content.
	digest(ctx context.Context) (string, error)
	size(ctx context.Context) (int64, error)
	read(ctx context.Context) ([]byte, error)
}

func verifyBinary(ctx context.Context, t target.Target, path string, bin engineFile, memo VerifiedMemo) (manifest.Artifact, error) {
	art := manifest.Artifact{Target: t.Name, Triple: t.Triple, Platform: t.Platform, Path: path}
	var key, digest string
	if memo != nil {
		var err error
		if digest, err = bin.digest(ctx); err != nil {
			return art, fmt.Errorf("the digest of the %s binary: %w", t.Name, err)
		}
		key = memoKey(digest, t)
		if e, ok := memo.Get(key); ok && digestOf(digest, e.SHA256) {
			size, err := bin.size(ctx)
			if err != nil {
				return art, fmt.Errorf("the size of the %s binary: %w", t.Name, err)
			}
			if size == e.Size {
				art.Size, art.SHA256 = e.Size, e.SHA256
				return art, nil
			}
		}
	}
	data, err := bin.read(ctx)
	if err != nil {
		return art, err
	}
	if err := elfcheck.Check(data, t); err != nil {
		return art, err
	}
	sum := sha256.Sum256(data)
	art.Size, art.SHA256 = int64(len(data)), hex.EncodeToString(sum[:])
	// Only now that the check passed on these bytes, and only when the
	// digest is one of these bytes (the engine could have given another
	// version of the file, or hash in a way the next run cannot prove).
	if memo != nil && digestOf(digest, art.SHA256) {
		memo.Put(key, verified.Entry{Size: art.Size, SHA256: art.SHA256})
	}
	return art, nil
}

// memoKey is the memo's key of a binary: its content, the target it was
// checked for and the rules it passed.
func memoKey(digest string, t target.Target) string {
	return digest + " " + t.Name + " " + t.Triple + " elfcheck/" + elfcheck.Rules
}

// digestOf reports whether the engine's digest is the digest of content
// whose sha256 is sum. The engine promises no format, so the two it is
// known to give are accepted: a plain sha256, and v0.21.8's sha256 of the
// raw sha256 (core/file.go: digest.FromBytes(h.Sum(nil))). Any other
// format never matches: the memo is then not used, and nothing is wrong.
// A memo entry is thus used only when its sha256 is proved by the engine.
func digestOf(digest, sum string) bool {
	raw, err := hex.DecodeString(sum)
	if err != nil || len(raw) != sha256.Size {
		return false
	}
	twice := sha256.Sum256(raw)
	return digest == "sha256:"+sum || digest == "sha256:"+hex.EncodeToString(twice[:])
}

// engineBinary is a binary in the engine.
type engineBinary struct {
	p *Pipeline
	f *dagger.File
}

func (b engineBinary) digest(ctx context.Context) (string, error) {
	return b.f.Digest(ctx, dagger.FileDigestOpts{ExcludeMetadata: true})
}

func (b engineBinary) size(ctx context.Context) (int64, error) {
	n, err := b.f.Size(ctx)
	return int64(n), err
}

func (b engineBinary) read(ctx context.Context) ([]byte, error) { return b.p.readFile(ctx, b.f) }

// readFile returns a file's bytes. File.Contents carries a string, which
// would mangle a binary's bytes, so the file crosses as base64 text.
func (p *Pipeline) readFile(ctx context.Context, f *dagger.File) ([]byte, error) {
	text, err := p.c.Container().From(p.cfg.BaseImage).
		WithMountedFile("/in", f).
		WithExec([]string{"base64", "-w0", "/in"}, dagger.ContainerWithExecOpts{RedirectStdout: "/out.b64"}).
		File("/out.b64").
		Contents(ctx)
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("decode binary: %w", err)
	}
	return data, nil
}
