// Package publish uploads an exported dist/ to an S3 bucket (Garage's layout
// plus checksums), rebuilds the release page from the bucket, promotes a
// development build to a tag and moves image tags in an OCI registry.
//
// It runs on the host, with no Dagger engine: the pipeline builds dist/, the
// CLI exports it, and this package only talks to the S3 server and the
// registry. Nothing here prints a credential.
package publish

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Environment variables that carry the S3 credentials.
const (
	EnvAccessKey = "AWS_ACCESS_KEY_ID"
	EnvSecretKey = "AWS_SECRET_ACCESS_KEY"
)

// Config says where releases are published.
type Config struct {
	// Endpoint is the S3 server as host:port or as a URL
	// (http://host:port, https://host). A URL's scheme overrides Secure.
	Endpoint string
	// Bucket holds the releases; Prefix is prepended to every key
	// ("" or "garage/"), so one bucket can hold several projects.
	Bucket, Prefix string
	// Region is the bucket's region; empty asks the server (see
	// Preflight), since a wrong one is refused by every request.
	Region string
	// Secure selects https for a host:port endpoint.
	Secure bool
	// AccessKey and SecretKey sign requests.
	AccessKey, SecretKey string
	// Anonymous reads without credentials (a public bucket); only
	// FetchManifest accepts it: nothing is ever written anonymously.
	Anonymous bool
}

// Validate reports the first setting that cannot work, naming the flag or
// variable to fix.
func (c Config) Validate() error {
	_, err := c.normalize()
	return err
}

// normalize checks c and returns it with Endpoint as host:port, Secure taken
// from a URL's scheme and Prefix ending in "/".
func (c Config) normalize() (Config, error) {
	host, secure, err := parseEndpoint(c.Endpoint, c.Secure)
	if err != nil {
		return Config{}, err
	}
	c.Endpoint, c.Secure = host, secure
	if c.Bucket == "" {
		return Config{}, fmt.Errorf("--s3-bucket is empty: name the bucket that holds the releases, e.g. --s3-bucket releases")
	}
	if strings.ContainsAny(c.Bucket, "/ ") {
		return Config{}, fmt.Errorf("--s3-bucket %q is not a bucket name: give the bucket alone, and put a key prefix in --s3-prefix", c.Bucket)
	}
	if !c.Anonymous && (c.AccessKey == "" || c.SecretKey == "") {
		return Config{}, fmt.Errorf("S3 credentials are missing: export %s and %s", EnvAccessKey, EnvSecretKey)
	}
	c.Prefix = strings.TrimPrefix(c.Prefix, "/")
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if strings.Contains(c.Prefix, "..") {
		return Config{}, fmt.Errorf("--s3-prefix %q must not contain \"..\"", c.Prefix)
	}
	return c, nil
}

// parseEndpoint accepts host, host:port or an http(s) URL without a path
// and returns host[:port] and whether to use TLS.
func parseEndpoint(endpoint string, secure bool) (string, bool, error) {
	const fix = "give the S3 server as host:port or a URL, e.g. --s3-endpoint https://garage.example.org or --s3-endpoint 127.0.0.1:3900"
	if endpoint == "" {
		return "", false, fmt.Errorf("--s3-endpoint is empty: %s", fix)
	}
	hostport := endpoint
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return "", false, fmt.Errorf("--s3-endpoint %q does not parse (%v): %s", endpoint, err, fix)
		}
		switch u.Scheme {
		case "http":
			secure = false
		case "https":
			secure = true
		default:
			return "", false, fmt.Errorf("--s3-endpoint %q has scheme %q: %s", endpoint, u.Scheme, fix)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			// Path-style requests put the bucket in the path: a path here
			// would silently become part of every key.
			return "", false, fmt.Errorf("--s3-endpoint %q has a path, query or user: %s (the bucket goes in --s3-bucket)", endpoint, fix)
		}
		hostport = u.Host
	}
	host := hostport
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		if port == "" {
			return "", false, fmt.Errorf("--s3-endpoint %q has an empty port: %s", endpoint, fix)
		}
		host = h
	}
	if host == "" || strings.ContainsAny(hostport, "/ ?#@") {
		return "", false, fmt.Errorf("--s3-endpoint %q does not parse: %s", endpoint, fix)
	}
	return hostport, secure, nil
}

// String describes the config without the secret key, so printing a Config
// (with %v or %+v) cannot leak it.
func (c Config) String() string {
	secret := ""
	if c.SecretKey != "" {
		secret = " secret=[redacted]"
	}
	return fmt.Sprintf("endpoint=%s bucket=%s prefix=%q region=%s secure=%t access-key=%s%s",
		c.Endpoint, c.Bucket, c.Prefix, c.Region, c.Secure, c.AccessKey, secret)
}

// GoString is String for %#v.
func (c Config) GoString() string { return "publish.Config{" + c.String() + "}" }

// key joins the configured prefix and a bucket-relative key.
func (c Config) key(rel string) string { return c.Prefix + rel }

// where names the bucket for messages: "bucket b at http://host:port".
func (c Config) where() string {
	scheme := "http"
	if c.Secure {
		scheme = "https"
	}
	return fmt.Sprintf("bucket %q at %s://%s", c.Bucket, scheme, c.Endpoint)
}
