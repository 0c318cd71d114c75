package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Environment variables .ci/run sets for the services it starts.
const (
	S3EndpointEnv  = "GR_TEST_S3_ENDPOINT"   // host:port of an S3 server (plain http)
	S3AccessKeyEnv = "GR_TEST_S3_ACCESS_KEY" // its root access key
	S3SecretKeyEnv = "GR_TEST_S3_SECRET_KEY" // its root secret key
	S3RegionEnv    = "GR_TEST_S3_REGION"     // the region the S3 server was started with
	RegistryEnv    = "GR_TEST_REGISTRY"      // host:port of an OCI registry (plain http)
	// A second registry that demands a login (htpasswd).
	AuthRegistryEnv         = "GR_TEST_AUTH_REGISTRY"
	AuthRegistryUserEnv     = "GR_TEST_AUTH_REGISTRY_USER"
	AuthRegistryPasswordEnv = "GR_TEST_AUTH_REGISTRY_PASSWORD"
)

// S3Env is an S3 server the tests may create buckets on.
type S3Env struct {
	// Endpoint is host:port, plain http.
	Endpoint  string
	AccessKey string
	SecretKey string
	// Region is the one the server was started with.
	Region string
}

// URL is the server's base URL, "http://host:port".
func (e S3Env) URL() string { return "http://" + e.Endpoint }

// Client returns a path-style minio client for the server, as the root user.
func (e S3Env) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(e.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(e.AccessKey, e.SecretKey, ""),
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("S3 client for %s: %v", e.Endpoint, err)
	}
	return c
}

// S3 returns the S3 server from GR_TEST_S3_ENDPOINT, GR_TEST_S3_ACCESS_KEY
// and GR_TEST_S3_SECRET_KEY. When they are not set the test is skipped, or
// fails if CI=true.
func S3(t testing.TB) S3Env {
	t.Helper()
	e := S3Env{
		Endpoint:  os.Getenv(S3EndpointEnv),
		AccessKey: os.Getenv(S3AccessKeyEnv),
		SecretKey: os.Getenv(S3SecretKeyEnv),
		Region:    os.Getenv(S3RegionEnv),
	}
	if e.Endpoint == "" || e.AccessKey == "" || e.SecretKey == "" || e.Region == "" {
		missing(t, "no S3 server: "+S3EndpointEnv+", "+S3AccessKeyEnv+", "+S3SecretKeyEnv+" and "+S3RegionEnv+" are not all set (bash .ci/run starts one)")
	}
	return e
}

// Registry returns the OCI registry's host:port from GR_TEST_REGISTRY. When
// it is not set the test is skipped, or fails if CI=true.
func Registry(t testing.TB) string {
	t.Helper()
	r := os.Getenv(RegistryEnv)
	if r == "" {
		missing(t, "no OCI registry: "+RegistryEnv+" is not set (bash .ci/run starts one)")
	}
	return r
}

// AuthRegistry is a registry that accepts only its one login.
type AuthRegistry struct {
	Host, User, Password string
}

// LoginRegistry returns the registry from GR_TEST_AUTH_REGISTRY and its
// login. When they are not set the test is skipped, or fails if CI=true.
func LoginRegistry(t testing.TB) AuthRegistry {
	t.Helper()
	r := AuthRegistry{Host: os.Getenv(AuthRegistryEnv), User: os.Getenv(AuthRegistryUserEnv), Password: os.Getenv(AuthRegistryPasswordEnv)}
	if r.Host == "" || r.User == "" || r.Password == "" {
		missing(t, "no registry with a login: "+AuthRegistryEnv+", "+AuthRegistryUserEnv+" and "+AuthRegistryPasswordEnv+" are not all set (bash .ci/run starts one)")
	}
	return r
}

var notBucketChars = regexp.MustCompile(`[^a-z0-9]+`)

// NewBucket creates an empty bucket named after the test (plus random
// bytes, so reruns and parallel tests never share one) and removes it and
// its objects when the test ends.
func NewBucket(t testing.TB, e S3Env) string {
	t.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	name := strings.Trim(notBucketChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	name = "gr-" + name + "-" + hex.EncodeToString(suffix)

	c := e.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("creating bucket %s on %s: %v", name, e.Endpoint, err)
	}
	t.Cleanup(func() { removeBucket(t, c, name) })
	return name
}

// removeBucket empties and deletes a bucket. Failures are logged only: the
// server's data lives in a temporary directory anyway.
func removeBucket(t testing.TB, c *minio.Client, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objs := c.ListObjects(ctx, name, minio.ListObjectsOptions{Recursive: true})
	for res := range c.RemoveObjects(ctx, name, objs, minio.RemoveObjectsOptions{}) {
		if res.Err != nil {
			t.Logf("removing %s/%s: %v", name, res.ObjectName, res.Err)
		}
	}
	if err := c.RemoveBucket(ctx, name); err != nil {
		t.Logf("removing bucket %s: %v", name, err)
	}
}
