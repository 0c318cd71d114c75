package publish

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ImageTarball is the multi-platform image in dist/, an OCI layout tarball.
const ImageTarball = "image.tar"

// Registry is where a release's image goes: a repository and the login.
// The push runs here, on the host, from dist/image.tar: the password never
// reaches the engine, and the CLI, the module and `publish --dist` push the
// same way.
type Registry struct {
	// Repo is host[:port]/path/name.
	Repo string
	// Auth is the login; nil is anonymous.
	Auth authn.Authenticator
	// Insecure allows plain http (loopback and private addresses use
	// http anyway).
	Insecure bool
}

func (r *Registry) auth() authn.Authenticator {
	if r.Auth == nil {
		return authn.Anonymous
	}
	return r.Auth
}

func (r *Registry) options(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(r.auth())}
}

func (r *Registry) repository() (name.Repository, error) {
	repo, err := name.NewRepository(r.Repo, nameOpts(r.Insecure)...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("image repository %q: %w", r.Repo, err)
	}
	return repo, nil
}

func (r *Registry) tag(t string) (name.Tag, error) {
	return name.NewTag(r.Repo+":"+t, nameOpts(r.Insecure)...)
}

// staticKeychain hands out one login for any registry: CheckPushPermission
// takes a keychain.
type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

// CheckPush asks the registry whether this login may push to the
// repository: it starts a blob upload and cancels it, so a wrong password,
// a read-only account or an unreachable registry is found before a build.
func (r *Registry) CheckPush(ctx context.Context) error {
	repo, err := r.repository()
	if err != nil {
		return err
	}
	if err := remote.CheckPushPermission(repo.Tag("garage-release-check"), staticKeychain{r.auth()}, http.DefaultTransport); err != nil {
		return registryError("logging in to push to "+r.Repo, repo.RegistryStr(), err)
	}
	return nil
}

// TagDigest returns the digest tag t points at, or "" when the tag (or the
// repository) does not exist.
func (r *Registry) TagDigest(ctx context.Context, t string) (string, error) {
	ref, err := r.tag(t)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(ref, r.options(ctx)...)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return "", nil
		}
		return "", registryError("reading the tag "+ref.String(), ref.RegistryStr(), err)
	}
	return desc.Digest.String(), nil
}

// Tag points tag t at digest, which must be in the repository already.
func (r *Registry) Tag(ctx context.Context, t, digest string) error {
	_, err := RetagImage(ctx, r.Repo+"@"+digest, t, r.auth(), r.Insecure)
	return err
}

// Untag removes tag t. Registries that cannot delete a tag alone refuse;
// the error says so. Deleting by digest instead would also remove every
// other tag of the same image, so it is never done.
func (r *Registry) Untag(ctx context.Context, t string) error {
	ref, err := r.tag(t)
	if err != nil {
		return err
	}
	if err := remote.Delete(ref, r.options(ctx)...); err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return nil // not there: nothing to remove
		}
		return registryError("removing the tag "+ref.String(), ref.RegistryStr(), err)
	}
	return nil
}

// PushTarball pushes the image index in an OCI layout tarball (dist/
// image.tar) to the repository by digest, with no tag: until it is tagged,
// nobody pulling by tag sees it. It returns the index digest and the
// platforms it holds. Blobs already in the repository are not sent again.
func (r *Registry) PushTarball(ctx context.Context, tarball string) (string, []string, error) {
	return withTarball(tarball, func(idx v1.ImageIndex, digest string, platforms []string) (string, []string, error) {
		repo, err := r.repository()
		if err != nil {
			return "", nil, err
		}
		ref := repo.Digest(digest)
		if err := remote.WriteIndex(ref, idx, r.options(ctx)...); err != nil {
			return "", nil, registryError("pushing the image "+ref.String(), repo.RegistryStr(), err)
		}
		return digest, platforms, nil
	})
}

// TarballDigest is the digest PushTarball pushes the tarball's index as,
// and its platforms, known without a registry: what the provenance and the
// image signature name before the push.
func TarballDigest(tarball string) (string, []string, error) {
	return withTarball(tarball, func(_ v1.ImageIndex, digest string, platforms []string) (string, []string, error) {
		return digest, platforms, nil
	})
}

// withTarball unpacks an OCI layout tarball and hands fn the index that is
// pushed, its digest and its platforms.
func withTarball(tarball string, fn func(idx v1.ImageIndex, digest string, platforms []string) (string, []string, error)) (string, []string, error) {
	dir, err := os.MkdirTemp("", "garage-release-image-")
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(dir)
	if err := untar(tarball, dir); err != nil {
		return "", nil, fmt.Errorf("reading %s: %w", tarball, err)
	}
	idx, err := imageIndex(dir)
	if err != nil {
		return "", nil, fmt.Errorf("reading %s: %w", tarball, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return "", nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return "", nil, err
	}
	var platforms []string
	for _, d := range im.Manifests {
		if d.Platform != nil {
			platforms = append(platforms, d.Platform.String())
		}
	}
	return fn(idx, digest.String(), platforms)
}

// imageIndex returns the image index that is pushed for an OCI layout: an
// index of the images the layout holds (the layout's single index when
// index.json names one, what the engine writes for several platforms; else
// the image manifests index.json lists), each naming its platform and with
// its creation time set from the image itself (normalized), so that two
// builds of one commit push the same digest.
func imageIndex(dir string) (v1.ImageIndex, error) {
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	im, err := top.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(im.Manifests) == 0 {
		return nil, fmt.Errorf("the OCI layout holds no image")
	}
	src, nested := v1.ImageIndex(top), false
	if len(im.Manifests) == 1 && im.Manifests[0].MediaType.IsIndex() {
		nested = true
		if src, err = top.ImageIndex(im.Manifests[0].Digest); err != nil {
			return nil, err
		}
		if im, err = src.IndexManifest(); err != nil {
			return nil, err
		}
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	changed := !nested
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() {
			return nil, fmt.Errorf("the OCI layout lists %s (%s): expected one index or image manifests", d.Digest, d.MediaType)
		}
		img, err := src.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", d.Digest, err)
		}
		// index.json may list an image without its platform (the engine
		// does for a single one): a client could not pick it.
		platform := d.Platform
		if platform == nil {
			platform, changed = cf.Platform(), true
		}
		normalized, err := normalizeCreated(img, cf)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", d.Digest, err)
		}
		if normalized != img {
			img, changed = normalized, true
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: platform, Annotations: d.Annotations}})
	}
	if !changed {
		return src, nil // the engine's index as it is, byte for byte
	}
	return idx, nil
}

// CreatedLabel is the label the pipeline sets to the build's
// SOURCE_DATE_EPOCH: the image's creation time when pushed.
const CreatedLabel = "org.opencontainers.image.created"

// normalizeCreated sets the config's creation times (the engine writes the
// time of the export, so every build would differ) to the CreatedLabel's
// time. An image without the label (not built by the pipeline) is left as
// it is. Layers are untouched.
func normalizeCreated(img v1.Image, cf *v1.ConfigFile) (v1.Image, error) {
	l := cf.Config.Labels[CreatedLabel]
	if l == "" {
		return img, nil
	}
	at, err := time.Parse(time.RFC3339, l)
	if err != nil {
		return nil, fmt.Errorf("label %s %q: %w", CreatedLabel, l, err)
	}
	at = at.UTC()
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: at}
	for i := range cf.History {
		cf.History[i].Created = v1.Time{Time: at}
	}
	return mutate.ConfigFile(img, cf)
}

// untar extracts the regular files and folders of a tarball into dir.
func untar(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		// Cleaning a rooted name keeps it inside dir ("/../x" is "/x").
		p := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+h.Name)))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// hasDigest reports whether the repository holds the manifest digest.
func (r *Registry) hasDigest(ctx context.Context, digest string) bool {
	if digest == "" {
		return false
	}
	ref, err := name.NewDigest(r.Repo+"@"+digest, nameOpts(r.Insecure)...)
	if err != nil {
		return false
	}
	_, err = remote.Head(ref, r.options(ctx)...)
	return err == nil
}
