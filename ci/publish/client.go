package publish

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// metaSHA256 is the user metadata key (header X-Amz-Meta-Sha256) that holds
// an object's hex sha256, so a re-run can tell whether the remote copy is
// already right without downloading it.
const metaSHA256 = "Sha256"

// client is a minio client bound to one validated Config.
type client struct {
	cfg Config
	mc  *minio.Client
}

// newClient validates cfg and connects lazily (minio dials on first use).
func newClient(cfg Config) (*client, error) {
	n, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	mc, err := minio.New(n.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(n.AccessKey, n.SecretKey, ""),
		Secure: n.Secure,
		Region: n.Region,
		// Garage and most self-hosted servers have no wildcard DNS for
		// virtual-host buckets.
		BucketLookup: minio.BucketLookupPath,
		// minio retries 10 times by default: an unreachable server would
		// take tens of seconds to report. Three tries still ride out a
		// dropped connection.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("--s3-endpoint %q: %w", cfg.Endpoint, err)
	}
	return &client{cfg: n, mc: mc}, nil
}

// check makes one cheap authenticated request so that wrong credentials, a
// missing bucket or an unreachable server fail before anything is written.
// A listing is used rather than a HEAD: HEAD responses have no body, so the
// server could not say which of those it is.
func (c *client) check(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range c.mc.ListObjects(ctx, c.cfg.Bucket, minio.ListObjectsOptions{Prefix: c.cfg.Prefix, MaxKeys: 1}) {
		if obj.Err != nil {
			return c.explain(opCheck, c.cfg.Prefix, obj.Err)
		}
		break
	}
	return nil
}

// remoteState is what a stat says about a key.
type remoteState struct {
	Exists bool
	SHA256 string // from metadata; "" when the object has none
	Size   int64
	ETag   string
}

// stat returns the remote state of key (a full key, prefix included).
func (c *client) stat(ctx context.Context, key string) (remoteState, error) {
	info, err := c.mc.StatObject(ctx, c.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return remoteState{}, nil
		}
		return remoteState{}, c.explain("stat", key, err)
	}
	return remoteState{Exists: true, SHA256: info.UserMetadata[metaSHA256], Size: info.Size, ETag: info.ETag}, nil
}

// object is one upload: a full key, its bytes (in memory or in a file) and
// what to store with them.
type object struct {
	Key         string
	SHA256      string
	Size        int64
	ContentType string
	// CacheControl is set on objects that change in place (the index and
	// manifests) so browsers and proxies revalidate them.
	CacheControl string
	// Data holds small generated objects; File names a file in dist/.
	Data []byte
	File string
}

// open returns the object's bytes.
func (o object) open() (io.ReadCloser, error) {
	if o.File == "" {
		return io.NopCloser(bytes.NewReader(o.Data)), nil
	}
	return os.Open(o.File)
}

// put uploads o with its sha256 in the metadata.
func (c *client) put(ctx context.Context, o object) error {
	r, err := o.open()
	if err != nil {
		return fmt.Errorf("upload %s: %w", o.Key, err)
	}
	defer r.Close()
	_, err = c.mc.PutObject(ctx, c.cfg.Bucket, o.Key, r, o.Size, minio.PutObjectOptions{
		ContentType:  o.ContentType,
		CacheControl: o.CacheControl,
		UserMetadata: map[string]string{metaSHA256: o.SHA256},
		// Releases are small; one request per object keeps a refused
		// write a single, clearly named failure.
		DisableMultipart: o.Size < 512<<20,
	})
	return c.explain("upload", o.Key, err)
}

// get downloads a small object. found is false when the key is absent.
func (c *client) get(ctx context.Context, key string) (data []byte, found bool, err error) {
	obj, err := c.mc.GetObject(ctx, c.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, false, c.explain("download", key, err)
	}
	defer obj.Close()
	data, err = io.ReadAll(obj)
	if err != nil {
		if isNotFound(err) {
			return nil, false, nil
		}
		return nil, false, c.explain("download", key, err)
	}
	return data, true, nil
}

// list returns every object under prefix (a full key prefix), recursively.
func (c *client) list(ctx context.Context, prefix string) ([]minio.ObjectInfo, error) {
	var out []minio.ObjectInfo
	for obj := range c.mc.ListObjects(ctx, c.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, c.explain("list objects under", prefix, obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") {
			continue // a directory marker, not a file
		}
		out = append(out, obj)
	}
	return out, nil
}

// remove deletes key; a key that is already gone is not an error.
func (c *client) remove(ctx context.Context, key string) error {
	err := c.mc.RemoveObject(ctx, c.cfg.Bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !isNotFound(err) {
		return c.explain("remove", key, err)
	}
	return nil
}

// Connect validates cfg and returns a minio client for it and the config
// normalised (Endpoint as host:port, Prefix ending in "/"): for other
// packages that keep their own objects in the release bucket (the compile
// cache), with the same endpoint rules and messages as publishing.
func Connect(cfg Config) (*minio.Client, Config, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, Config{}, err
	}
	return c.mc, c.cfg, nil
}

// Explain turns an S3 error on key into a message that names the server,
// the bucket and what to fix, without credentials (see explain).
func Explain(cfg Config, op, key string, err error) error {
	return (&client{cfg: cfg}).explain(op, key, err)
}
