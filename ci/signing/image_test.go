package signing

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	cmutate "github.com/sigstore/cosign/v3/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	"github.com/sigstore/cosign/v3/pkg/oci/static"
	"github.com/sigstore/cosign/v3/pkg/types"
)

// testRepo is a repository of its own for each test.
func testRepo(t *testing.T, reg, suffix string) string {
	n := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	return fmt.Sprintf("%s/signing/%s-%s-%d", reg, strings.Trim(n, "-"), suffix, time.Now().UnixNano())
}

// randomIndex is a small random two-platform image index.
func randomIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}},
		})
	}
	return idx
}

// push writes idx to repo:latest and returns its digest.
func push(t *testing.T, repo string, idx v1.ImageIndex, opts ...remote.Option) string {
	t.Helper()
	ref, err := name.NewTag(repo+":latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// signedRelease pushes a random index to repo and makes its ImageSignatures.
func signedRelease(t *testing.T, s *Signer, repo string) (string, *ImageSignatures) {
	t.Helper()
	digest := push(t, repo, randomIndex(t))
	env, err := s.SignStatement(provenance(t, repo, strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	is, err := s.SignImage(repo, digest, env)
	if err != nil {
		t.Fatalf("SignImage: %v", err)
	}
	return digest, is
}

// layerCount counts the layers of repo's sha256-<hex>.<suffix> manifest.
func layerCount(t *testing.T, repo, digest, suffix string, opts ...remote.Option) int {
	t.Helper()
	tag, err := name.NewTag(fmt.Sprintf("%s:%s.%s", repo, strings.Replace(digest, ":", "-", 1), suffix), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(tag, opts...)
	if err != nil {
		t.Fatalf("read %s: %v", tag, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return len(m.Layers)
}

var verifiedByKey = []string{"Verification for", "The signatures were verified against the specified public key"}

func cosignVerify(pub, ref string) []string {
	return []string{"verify", "--key", pub, "--insecure-ignore-tlog", "--allow-http-registry", ref}
}

func cosignVerifyAttestation(pub, ref string) []string {
	return []string{"verify-attestation", "--key", pub, "--insecure-ignore-tlog", "--allow-http-registry",
		"--type", "slsaprovenance1", ref}
}

func TestImageSignaturesVerifyWithCosign(t *testing.T) {
	cli, reg := cosignCLI(t), registry(t)
	kp := newKeyPair(t, cli)
	repo := testRepo(t, reg, "app")
	digest, signed := signedRelease(t, kp.signer, repo)

	// Release time to publish time goes through image.sig.json.
	b, err := signed.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	is, err := ParseImageSignatures(b)
	if err != nil {
		t.Fatalf("ParseImageSignatures: %v\n%s", err, b)
	}
	ctx := context.Background()
	for range 2 { // a re-run of publish must not add copies
		if err := Attach(ctx, repo, true, is); err != nil {
			t.Fatalf("Attach: %v", err)
		}
	}
	// A re-run of the release signs the same digest again: new ECDSA
	// signatures over the same claims, which must not pile up either.
	env2, err := kp.signer.SignStatement(provenance(t, repo, strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	resigned, err := kp.signer.SignImage(repo, digest, env2)
	if err != nil {
		t.Fatal(err)
	}
	if resigned.Signature == is.Signature || resigned.Envelope == is.Envelope {
		t.Fatal("re-signing gave identical signatures: the duplicate check below would prove nothing")
	}
	if err := Attach(ctx, repo, true, resigned); err != nil {
		t.Fatalf("Attach (re-signed): %v", err)
	}
	if n := layerCount(t, repo, digest, "sig"); n != 1 {
		t.Errorf(".sig holds %d signatures after attaching three times, want 1", n)
	}
	if n := layerCount(t, repo, digest, "att"); n != 1 {
		t.Errorf(".att holds %d attestations after attaching three times, want 1", n)
	}

	ref := repo + "@" + digest
	out := cosignOK(t, cli, append(verifiedByKey, digest), cosignVerify(kp.pubPath, ref)...)
	t.Logf("cosign verify:\n%s", out)
	cosignOK(t, cli, append(verifiedByKey, envPayload(t, is)), cosignVerifyAttestation(kp.pubPath, ref)...)

	t.Run("another key", func(t *testing.T) {
		other := newKeyPair(t, cli)
		cosignFails(t, cli, cosignVerify(other.pubPath, ref)...)
		cosignFails(t, cli, cosignVerifyAttestation(other.pubPath, ref)...)
	})

	t.Run("attach the same signatures to another repository", func(t *testing.T) {
		repo3 := testRepo(t, reg, "reattached")
		push(t, repo3, mustIndex(t, ref))
		if err := Attach(ctx, repo3, true, is); err != nil {
			t.Fatalf("Attach: %v", err)
		}
		cosignOK(t, cli, append(verifiedByKey, digest), cosignVerify(kp.pubPath, repo3+"@"+digest)...)
		cosignOK(t, cli, append(verifiedByKey, envPayload(t, is)), cosignVerifyAttestation(kp.pubPath, repo3+"@"+digest)...)
	})
}

func mustDigestRef(t *testing.T, ref string) name.Digest {
	t.Helper()
	d, err := name.NewDigest(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestImageSignaturesForAnotherDigest attaches, bypassing Attach's checks,
// the signatures of image B to image A: cosign must refuse them.
func TestImageSignaturesForAnotherDigest(t *testing.T) {
	cli, reg := cosignCLI(t), registry(t)
	kp := newKeyPair(t, cli)
	repo := testRepo(t, reg, "app")
	digestA := push(t, repo, randomIndex(t))
	_, isB := signedRelease(t, kp.signer, repo)

	// Attach itself refuses the doctored file.
	doctored := *isB
	doctored.Digest = digestA
	if err := Attach(context.Background(), repo, true, &doctored); err == nil {
		t.Fatal("Attach accepted signatures whose payload names another digest")
	}

	a := mustDigestRef(t, repo+"@"+digestA)
	sig, err := static.NewSignature([]byte(isB.Payload), isB.Signature)
	if err != nil {
		t.Fatal(err)
	}
	se, err := cmutate.AttachSignatureToEntity(ociremote.SignedUnknown(a), sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := ociremote.WriteSignatures(a.Repository, se); err != nil {
		t.Fatal(err)
	}
	att, err := static.NewAttestation([]byte(isB.Envelope), static.WithLayerMediaType(types.DssePayloadType),
		static.WithAnnotations(map[string]string{"predicateType": isB.PredicateType}))
	if err != nil {
		t.Fatal(err)
	}
	se, err = cmutate.AttachAttestationToEntity(ociremote.SignedUnknown(a), att)
	if err != nil {
		t.Fatal(err)
	}
	if err := ociremote.WriteAttestations(a.Repository, se); err != nil {
		t.Fatal(err)
	}
	// They are there, validly signed, but for B.
	if n := layerCount(t, repo, digestA, "sig"); n != 1 {
		t.Fatalf(".sig of A holds %d layers, want 1", n)
	}
	cosignFails(t, cli, cosignVerify(kp.pubPath, a.String())...)
	cosignFails(t, cli, cosignVerifyAttestation(kp.pubPath, a.String())...)
}

func TestParseImageSignaturesRejectsDamage(t *testing.T) {
	s, err := LoadKey(libraryKey(t, "p"), []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + randomHex(t, 32)
	env, err := s.SignStatement(provenance(t, "registry.example/ns/app", strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	is, err := s.SignImage("registry.example/ns/app", digest, env)
	if err != nil {
		t.Fatal(err)
	}
	good, err := is.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseImageSignatures(good); err != nil {
		t.Fatalf("ParseImageSignatures(Marshal()): %v", err)
	}
	otherEnv, err := s.SignStatement(provenance(t, "x", randomHex(t, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignImage("registry.example/ns/app", digest, otherEnv); err == nil {
		t.Error("SignImage accepted an attestation about another digest")
	}
	for name, damage := range map[string]func(*ImageSignatures){
		"digest": func(i *ImageSignatures) { i.Digest = "sha256:" + strings.Repeat("0", 64) },
		"payload": func(i *ImageSignatures) {
			i.Payload = strings.Replace(i.Payload, "registry.example", "evil.example", 1)
		},
		"signature":      func(i *ImageSignatures) { i.Signature = flipBase64(is.Signature, 10) },
		"envelope":       func(i *ImageSignatures) { i.Envelope = string(otherEnv) + "x" },
		"predicate type": func(i *ImageSignatures) { i.PredicateType = "https://example/other" },
	} {
		c := *is
		damage(&c)
		b, _ := c.Marshal()
		if _, err := ParseImageSignatures(b); err == nil {
			t.Errorf("ParseImageSignatures accepted a damaged %s", name)
		}
	}
}

// flipBase64 changes the base64 character at i to another one.
func flipBase64(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// envPayload is the base64 statement in is's envelope: verify-attestation
// prints the envelopes it verified.
func envPayload(t *testing.T, is *ImageSignatures) string {
	t.Helper()
	var e struct{ Payload string }
	if err := json.Unmarshal([]byte(is.Envelope), &e); err != nil || e.Payload == "" {
		t.Fatalf("envelope: %v", err)
	}
	return e.Payload
}

// TestAttachWithLogin checks that the remote options reach the registry.
func TestAttachWithLogin(t *testing.T) {
	reg := need(t, "GR_TEST_AUTH_REGISTRY", "registry with a login")
	login := remote.WithAuth(&authn.Basic{
		Username: need(t, "GR_TEST_AUTH_REGISTRY_USER", "registry user"),
		Password: need(t, "GR_TEST_AUTH_REGISTRY_PASSWORD", "registry password"),
	})
	s, err := LoadKey(libraryKey(t, "p"), []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	repo := testRepo(t, reg, "app")
	digest := push(t, repo, randomIndex(t), login)
	env, err := s.SignStatement(provenance(t, repo, strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	is, err := s.SignImage(repo, digest, env)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := Attach(ctx, repo, true, is); err == nil {
		t.Fatal("Attach without the login succeeded: the registry does not check logins, the test proves nothing")
	}
	if err := Attach(ctx, repo, true, is, login); err != nil {
		t.Fatalf("Attach with the login: %v", err)
	}
	for _, suffix := range []string{"sig", "att"} {
		if n := layerCount(t, repo, digest, suffix, login); n != 1 {
			t.Errorf("%s: .%s holds %d layers, want 1", repo, suffix, n)
		}
	}
}

func mustIndex(t *testing.T, ref string, opts ...remote.Option) v1.ImageIndex {
	t.Helper()
	idx, err := remote.Index(mustDigestRef(t, ref), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}
