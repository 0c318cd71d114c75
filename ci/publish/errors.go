package publish

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
)

// s3Error is an S3 failure told in words, with the cause kept for errors.Is
// and errors.As. Its message never holds the secret key.
type s3Error struct {
	msg   string
	cause error
}

func (e *s3Error) Error() string { return e.msg }
func (e *s3Error) Unwrap() error { return e.cause }

// opCheck names the first request of a run, see client.check.
const opCheck = "list"

// credentialCodes are the S3 error codes that mean the server did not accept
// who we say we are (as opposed to refusing one request).
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidClientTokenId":  true,
	"ExpiredToken":          true,
	"InvalidToken":          true,
	// versitygw's answer to an unknown access key.
	"XAdminUserNotFound": true,
}

// regionCodes are the S3 error codes of a request signed for another
// region than the bucket's.
var regionCodes = map[string]bool{
	"AuthorizationHeaderMalformed":       true,
	"InvalidRegion":                      true,
	"IllegalLocationConstraintException": true,
	"AuthorizationQueryParametersError":  true,
}

// explain turns an error from an S3 call into a message a maintainer can act
// on: refused credentials name the variables to check, an unreachable server
// names the endpoint, anything else names the operation and the key.
func (c *client) explain(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if key == "" {
		key = "/"
	}
	var already *s3Error
	if errors.As(err, &already) {
		return err
	}
	resp := minio.ToErrorResponse(err)
	var msg string
	switch {
	case credentialCodes[resp.Code]:
		msg = fmt.Sprintf("the S3 server refused the credentials for %s (%s): check %s and %s",
			c.cfg.where(), resp.Code, EnvAccessKey, EnvSecretKey)
	case regionCodes[resp.Code]:
		msg = fmt.Sprintf("%s refused the region %q (%s: %s): leave --s3-region and S3_REGION unset to ask the server for it, or set --s3-region to the bucket's region",
			c.cfg.where(), c.cfg.Region, resp.Code, resp.Message)
	case resp.Code == "NoSuchBucket":
		msg = fmt.Sprintf("%s does not exist: create it or fix --s3-bucket", c.cfg.where())
	case isNetwork(err):
		msg = fmt.Sprintf("cannot reach %s (is the server up, and is --s3-endpoint right?): %v", c.cfg.Endpoint, rootCause(err))
	case resp.Code == "AccessDenied" && op == opCheck:
		// The first request of a run is a listing; refusing it means these
		// credentials have no rights on the bucket at all.
		msg = fmt.Sprintf("the S3 server refused access to %s with these credentials (AccessDenied): check that %s and %s belong to a key with read and write rights on the bucket",
			c.cfg.where(), EnvAccessKey, EnvSecretKey)
	case resp.Code != "":
		msg = fmt.Sprintf("%s %s in %s: the server said %s (HTTP %d): %s", op, key, c.cfg.where(), resp.Code, resp.StatusCode, resp.Message)
	default:
		msg = fmt.Sprintf("%s %s in %s: %v", op, key, c.cfg.where(), err)
	}
	return &s3Error{msg: c.redact(msg), cause: err}
}

// redact removes the secret key from a message, in case a server or a
// library ever echoes it back.
func (c *client) redact(s string) string {
	if c.cfg.SecretKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.cfg.SecretKey, "[redacted]")
}

// isNetwork reports whether err is a failure to talk to the server at all.
func isNetwork(err error) bool {
	var ue *url.Error
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || errors.As(err, &ue) || errors.As(err, &ne)
}

// rootCause drops the url.Error wrapper, whose message repeats the full
// request URL (with the presigned query, for a presigned request).
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// isNotFound reports whether err says the key is absent.
func isNotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}
