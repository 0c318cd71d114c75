package provenance

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/garage-release/garage-release/ci/manifest"
)

// RecipeURI names a toolchain built from our recipe on a base image; its
// digest is the recipe's sha256, the base image is its own dependency.
const RecipeURI = "garage-release-toolchain-recipe"

var gitCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

// dependencies are the inputs a rebuild must fetch again: the source at its
// commit, the toolchain and the base image, each pinned by digest. The
// descriptor's name says which one it is.
func dependencies(m *manifest.Manifest, sourceURI string) ([]*intoto.ResourceDescriptor, error) {
	var deps []*intoto.ResourceDescriptor
	src, err := source(m.Commit, sourceURI)
	if err != nil {
		return nil, err
	}
	if src != nil {
		deps = append(deps, src)
	}
	tc, err := toolchain(m.Build)
	if err != nil {
		return nil, err
	}
	deps = append(deps, tc)
	if m.Build.BaseImage != "" {
		base, err := image("base-image", m.Build.BaseImage)
		if err != nil {
			return nil, fmt.Errorf("base image: %w", err)
		}
		deps = append(deps, base)
	}
	return deps, nil
}

// source is "git+<remote>@<commit>" (SLSA's convention for git), or the
// commit alone without a remote; nil without either.
func source(commit, remote string) (*intoto.ResourceDescriptor, error) {
	if commit == "" {
		if remote == "" {
			return nil, nil
		}
		return &intoto.ResourceDescriptor{Name: "source", Uri: "git+" + cleanRemote(remote)}, nil
	}
	if !gitCommit.MatchString(commit) {
		return nil, fmt.Errorf("commit %q is not 40 lowercase hex digits", commit)
	}
	rd := &intoto.ResourceDescriptor{Name: "source", Digest: map[string]string{"gitCommit": commit}}
	if remote != "" {
		rd.Uri = "git+" + cleanRemote(remote) + "@" + commit
	}
	return rd, nil
}

// scpLike is git's "user@host:path" remote syntax.
var scpLike = regexp.MustCompile(`^([^@/:]+@)?([^/:]+):(.+)$`)

// cleanRemote drops credentials a remote URL may carry
// ("https://token@host/repo"): the statement is published. An scp-like
// remote becomes an ssh:// URL so the result parses as a URI.
func cleanRemote(remote string) string {
	remote = strings.TrimPrefix(remote, "git+")
	if !strings.Contains(remote, "://") {
		if m := scpLike.FindStringSubmatch(remote); m != nil {
			remote = "ssh://" + m[2] + "/" + strings.TrimPrefix(m[3], "/")
		}
	}
	u, err := url.Parse(remote)
	if err != nil || u.Scheme == "" {
		// Not a URL: keep what is left after any "...@".
		if i := strings.LastIndex(remote, "@"); i >= 0 {
			return remote[i+1:]
		}
		return remote
	}
	u.User = nil
	return u.String()
}

// toolchain is "<ref>@sha256:<hex>" for a pulled image, or
// "recipe:sha256:<hex>" for one built from our recipe.
func toolchain(b *manifest.Build) (*intoto.ResourceDescriptor, error) {
	var rd *intoto.ResourceDescriptor
	if hex, ok := strings.CutPrefix(b.Toolchain, "recipe:sha256:"); ok {
		if !hexSHA256.MatchString(hex) {
			return nil, fmt.Errorf("toolchain %q: bad recipe digest", b.Toolchain)
		}
		rd = &intoto.ResourceDescriptor{Name: "toolchain", Uri: RecipeURI, Digest: map[string]string{"sha256": hex}}
	} else {
		var err error
		if rd, err = image("toolchain", b.Toolchain); err != nil {
			return nil, fmt.Errorf("toolchain: %w", err)
		}
		if len(rd.Digest) == 0 {
			return nil, fmt.Errorf("toolchain %q is neither <ref>@sha256:<hex> nor recipe:sha256:<hex>", b.Toolchain)
		}
	}
	if b.Rustc != "" {
		ann, err := structpb.NewStruct(map[string]any{"rustc": b.Rustc})
		if err != nil {
			return nil, fmt.Errorf("toolchain annotations: %w", err)
		}
		rd.Annotations = ann
	}
	return rd, nil
}

// image describes "<name>@sha256:<hex>" as uri "docker://<name>" with its
// digest; a name without a digest is recorded without one.
func image(role, ref string) (*intoto.ResourceDescriptor, error) {
	if ref == "" {
		return nil, fmt.Errorf("no image reference")
	}
	name, digest, pinned := strings.Cut(ref, "@")
	if name == "" || strings.ContainsAny(name, " \t\n") {
		return nil, fmt.Errorf("bad image reference %q", ref)
	}
	rd := &intoto.ResourceDescriptor{Name: role, Uri: "docker://" + name}
	if pinned {
		hex, ok := strings.CutPrefix(digest, "sha256:")
		if !ok || !hexSHA256.MatchString(hex) {
			return nil, fmt.Errorf("image %q: digest is not sha256:<64 hex>", ref)
		}
		rd.Digest = map[string]string{"sha256": hex}
	}
	return rd, nil
}
