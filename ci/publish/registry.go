package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/garage-release/garage-release/ci/version"
)

// Environment variables that carry the registry credentials.
const (
	EnvRegistryUsername = "REGISTRY_USERNAME"
	EnvRegistryPassword = "REGISTRY_PASSWORD"
)

// LatestTag is the tag that follows the highest stable release.
const LatestTag = "latest"

// RegistryAuth returns basic auth from REGISTRY_USERNAME and
// REGISTRY_PASSWORD as getenv reads them, or anonymous access when the
// username is unset.
func RegistryAuth(getenv func(string) string) authn.Authenticator {
	user := getenv(EnvRegistryUsername)
	if user == "" {
		return authn.Anonymous
	}
	return &authn.Basic{Username: user, Password: getenv(EnvRegistryPassword)}
}

// RetagImage gives the image src ("<repo>:<tag>" or "<repo>@<digest>") the
// tag dstTag in the same repository, pointing at the very same manifest (an
// image index for a multi-platform image): nothing is rebuilt or re-pushed
// but the manifest. It returns the digest both tags now share. insecure
// allows plain http (loopback and private addresses use http anyway).
func RetagImage(ctx context.Context, src, dstTag string, auth authn.Authenticator, insecure bool) (string, error) {
	ref, err := name.ParseReference(src, nameOpts(insecure)...)
	if err != nil {
		return "", fmt.Errorf("retag: image %q: %w", src, err)
	}
	dst, err := name.NewTag(ref.Context().String()+":"+dstTag, nameOpts(insecure)...)
	if err != nil {
		return "", fmt.Errorf("retag: tag %q: %w", dstTag, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth)}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return "", registryError("reading "+src, ref.Context().RegistryStr(), err)
	}
	// Tag PUTs the descriptor's raw manifest bytes with its media type, so
	// the registry stores the same digest under the new tag.
	if err := remote.Tag(dst, desc, opts...); err != nil {
		return "", registryError("tagging "+dst.String(), dst.RegistryStr(), err)
	}
	got, err := remote.Head(dst, opts...)
	if err != nil {
		return "", registryError("checking "+dst.String(), dst.RegistryStr(), err)
	}
	if got.Digest != desc.Digest {
		return "", fmt.Errorf("retag: %s points at %s, not %s as %s does: the registry rewrote the manifest", dst, got.Digest, desc.Digest, src)
	}
	return desc.Digest.String(), nil
}

// ListTags returns the tags of repo ("host/path/name"). A repository that
// does not exist yet has no tags: it is not an error, so a first release
// can decide about `latest`.
func ListTags(ctx context.Context, repo string, auth authn.Authenticator, insecure bool) ([]string, error) {
	r, err := name.NewRepository(repo, nameOpts(insecure)...)
	if err != nil {
		return nil, fmt.Errorf("image repository %q: %w", repo, err)
	}
	tags, err := remote.List(r, remote.WithContext(ctx), remote.WithAuth(auth))
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return nil, nil
		}
		return nil, registryError("listing the tags of "+repo, r.RegistryStr(), err)
	}
	return tags, nil
}

// LatestDecision reports whether `latest` should move to version, given the
// tags the repository has: only for a stable version above every stable tag
// there (re-publishing the current highest one keeps `latest` on it).
func LatestDecision(v string, existingTags []string) bool {
	return version.IsNewerStable(v, existingTags)
}

func nameOpts(insecure bool) []name.Option {
	if insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// registryError says what failed; refused credentials name the variables.
func registryError(what, registry string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%s: the registry %s refused the credentials (HTTP %d): check %s and %s: %w",
			what, registry, te.StatusCode, EnvRegistryUsername, EnvRegistryPassword, err)
	}
	if isNetwork(err) {
		return fmt.Errorf("%s: cannot reach the registry %s: %w", what, registry, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// MoveLatest tags repo@digest as latest when version is stable and above
// every other stable tag in repo. It returns whether latest moved and the
// highest stable version it compared against.
func MoveLatest(ctx context.Context, repo, digest, v string, auth authn.Authenticator, insecure bool) (bool, string, error) {
	if !version.IsStable(v) {
		return false, "", nil
	}
	tags, err := ListTags(ctx, repo, auth, insecure)
	if err != nil {
		return false, "", err
	}
	var others []string
	for _, t := range tags {
		if t != v {
			others = append(others, t)
		}
	}
	highest := version.HighestStable(others)
	if !LatestDecision(v, others) {
		return false, highest, nil
	}
	if _, err := RetagImage(ctx, repo+"@"+digest, LatestTag, auth, insecure); err != nil {
		return false, highest, err
	}
	return true, highest, nil
}
