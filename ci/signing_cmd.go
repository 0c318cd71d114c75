package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/attest"
	"github.com/garage-release/garage-release/ci/signing"
	"github.com/garage-release/garage-release/ci/version"
)

// The signing key's environment variables: cosign's own password variable,
// and the key itself (PEM) for CI providers that hand secrets over as
// variables rather than files.
const (
	envSigningKey      = "COSIGN_PRIVATE_KEY"
	envSigningPassword = "COSIGN_PASSWORD"
)

func signFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.signKey, "sign-key", "", "sign the release with this cosign private key file (password in env "+envSigningPassword+"); default: the key in env "+envSigningKey+", else unsigned")
}

// loadSigner reads and decrypts the signing key before anything runs, so a
// wrong password costs nothing. No key at all is an unsigned release.
func (o *options) loadSigner(e *env) error {
	var pem []byte
	from := ""
	switch {
	case o.signKey != "":
		p := o.signKey
		if !filepath.IsAbs(p) {
			p = filepath.Join(e.workdir, p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("--sign-key: %v", err)
		}
		pem, from = data, "--sign-key "+o.signKey
	case e.getenv(envSigningKey) != "":
		pem, from = []byte(e.getenv(envSigningKey)), "env "+envSigningKey
	default:
		return nil
	}
	s, err := signing.LoadKey(pem, []byte(e.getenv(envSigningPassword)))
	if err != nil {
		return fmt.Errorf("the signing key (%s, password from env %s): %v", from, envSigningPassword, err)
	}
	o.signer = s
	return nil
}

// attestOptions are the provenance's inputs and the signer for dist/.
func attestOptions(e *env, o *options) attest.Options {
	repo, _ := imageRepo(e, o)
	if repo == "" {
		repo = o.project.ImageName()
	}
	return attest.Options{
		Signer:         o.signer,
		ImageRepo:      repo,
		SourceURI:      sourceURI(o),
		Command:        append([]string{"garage-release"}, o.cmdline...),
		Parameters:     attest.Parameters(o.project, o.targetList),
		BuilderVersion: builderVersion(),
	}
}

// sourceURI is the project's origin remote, when git knows one.
func sourceURI(o *options) string {
	if o.projectDir == "" {
		return ""
	}
	url, err := version.RunGit(o.projectDir, "remote", "get-url", "origin")
	if err != nil {
		return ""
	}
	return url
}

// builderVersion is garage-release's own module version, when built as one.
func builderVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}
