package pipeline

import (
	"context"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
)

// RegistryAuth is a registry login. The password is a Dagger secret: it
// reaches the engine only as one.
type RegistryAuth struct {
	Username string
	Password *dagger.Secret
}

// Apply gives ctr the login for ref's registry (the host part of ref); a
// nil or empty login leaves ctr as it is.
func (a *RegistryAuth) Apply(ctr *dagger.Container, ref string) *dagger.Container {
	if a == nil || a.Username == "" || a.Password == nil {
		return ctr
	}
	host, _, _ := strings.Cut(ref, "/")
	return ctr.WithRegistryAuth(host, a.Username, a.Password)
}

// PublishImage pushes the per-platform images (one per target, in the same
// order) as one multi-platform index <repo>:<version>, and returns its
// record for the manifest.
func PublishImage(ctx context.Context, c *dagger.Client, repo, version string, targets []target.Target, images []*dagger.Container, auth *RegistryAuth) (*manifest.Image, error) {
	ref := repo + ":" + version
	out, err := auth.Apply(c.Container(), ref).Publish(ctx, ref, dagger.ContainerPublishOpts{PlatformVariants: images})
	if err != nil {
		return nil, fmt.Errorf("push %s: the registry refused the image: %s", ref, Describe(err))
	}
	_, digest, ok := strings.Cut(out, "@")
	if !ok {
		return nil, fmt.Errorf("push %s: the engine returned %q, which names no digest", ref, out)
	}
	return &manifest.Image{Ref: ref, Digest: digest, Platforms: target.Platforms(targets), Tags: []string{version}}, nil
}
