package index

import (
	"path"
	"strings"

	"github.com/garage-release/garage-release/ci/manifest"
)

// signedLinks are a signed release's signature files, linked from the page.
type signedLinks struct {
	PublicKeyHref, PublicKeyName string
	SumsSigHref, SumsSigName     string
	// Envelope is the signed provenance (DSSE), for verify-blob-attestation.
	EnvelopeHref, EnvelopeName string
	ImageSigHref, ImageSigName string
}

// supplyChain adds the SBOM, provenance and signature links and the verify
// commands to a build; pre is the release folder as the page links it.
func (b *build) supplyChain(m *manifest.Manifest, pre string) {
	link := func(rel string) string {
		if !releaseFile(rel) {
			return ""
		}
		return pre + href(rel)
	}
	b.SBOMHref = link(m.SBOM)
	b.ProvenanceHref = link(m.Provenance)
	if s := m.Signatures; s != nil {
		b.Signed = true
		b.Sig = &signedLinks{
			PublicKeyHref: link(s.PublicKey), PublicKeyName: baseName(s.PublicKey, manifest.PublicKeyName),
			SumsSigHref: link(s.Files[manifest.SumsName]), SumsSigName: baseName(s.Files[manifest.SumsName], ""),
			EnvelopeHref: link(s.Provenance), EnvelopeName: baseName(s.Provenance, ""),
			ImageSigHref: link(s.Image), ImageSigName: baseName(s.Image, ""),
		}
		for i, a := range m.Targets {
			b.Artifacts[i].SigHref = link(s.Files[a.Path])
		}
	}
	b.Verify = verifyCommands(m)
}

// releaseFile is true for a path that stays inside the release folder: a
// manifest must not make the page link elsewhere.
func releaseFile(rel string) bool {
	if rel == "" || strings.HasPrefix(rel, "/") || strings.ContainsAny(rel, "\\\x00") {
		return false
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// baseName is the name a browser saves a download under.
func baseName(rel, fallback string) string {
	if rel == "" {
		return fallback
	}
	return path.Base(rel)
}

// jsonLinks are the same files for _releases.json, as paths relative to the
// JSON file (prefix + path, unescaped like docs_url).
type jsonLinks struct {
	// Signed is always written: false says "unsigned" explicitly.
	Signed        bool   `json:"signed"`
	SBOMURL       string `json:"sbom_url,omitempty"`
	ProvenanceURL string `json:"provenance_url,omitempty"`
	PublicKeyURL  string `json:"public_key_url,omitempty"`
	// SignatureURLs maps a signed file, by its path in the release folder
	// (SHA256SUMS, targets[].path), to its signature.
	SignatureURLs map[string]string `json:"signature_urls,omitempty"`
	// ProvenanceSignatureURL is the signed provenance (DSSE envelope).
	ProvenanceSignatureURL string `json:"provenance_signature_url,omitempty"`
	ImageSignatureURL      string `json:"image_signature_url,omitempty"`
}

func supplyChainJSON(m *manifest.Manifest, prefix string) jsonLinks {
	url := func(rel string) string {
		if !releaseFile(rel) {
			return ""
		}
		return prefix + rel
	}
	j := jsonLinks{SBOMURL: url(m.SBOM), ProvenanceURL: url(m.Provenance)}
	if s := m.Signatures; s != nil {
		j.Signed = true
		j.PublicKeyURL = url(s.PublicKey)
		j.ProvenanceSignatureURL = url(s.Provenance)
		j.ImageSignatureURL = url(s.Image)
		for file, sig := range s.Files {
			if u := url(sig); u != "" {
				if j.SignatureURLs == nil {
					j.SignatureURLs = map[string]string{}
				}
				j.SignatureURLs[file] = u
			}
		}
	}
	return j
}
