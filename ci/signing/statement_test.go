package signing

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

const slsaV1 = "https://slsa.dev/provenance/v1"

// provenance is a minimal SLSA v1 statement about one subject.
func provenance(t *testing.T, subject string, sha256hex string) []byte {
	t.Helper()
	pred, err := structpb.NewStruct(map[string]any{
		"buildDefinition": map[string]any{
			"buildType":          "https://garage-release.example/build/v1",
			"externalParameters": map[string]any{"ref": "refs/tags/v1.2.3"},
		},
		"runDetails": map[string]any{"builder": map[string]any{"id": "https://garage-release.example/builder"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Name: subject, Digest: map[string]string{"sha256": sha256hex}}},
		PredicateType: slsaV1,
		Predicate:     pred,
	}
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSignStatementVerifiesWithCosign(t *testing.T) {
	cli := cosignCLI(t)
	kp := newKeyPair(t, cli)
	dir := t.TempDir()

	blob := sums(t)
	f := writeFile(t, dir, "SHA256SUMS", blob)
	stmt := provenance(t, "SHA256SUMS", sha256Hex(blob))
	env, err := kp.signer.SignStatement(stmt)
	if err != nil {
		t.Fatal(err)
	}
	fenv := writeFile(t, dir, "SHA256SUMS.intoto.jsonl", env)
	verify := func(envPath, file string) []string {
		return []string{"verify-blob-attestation", "--key", kp.pubPath, "--signature", envPath,
			"--type", "slsaprovenance1", "--insecure-ignore-tlog", file}
	}
	cosignOK(t, cli, []string{"Verified OK"}, verify(fenv, f)...)
	got, err := VerifyEnvelope(kp.pub, env)
	if err != nil {
		t.Fatalf("VerifyEnvelope: %v", err)
	}
	if string(got) != string(stmt) {
		t.Fatalf("VerifyEnvelope returned %s, want %s", got, stmt)
	}

	t.Run("blob changed", func(t *testing.T) {
		changed := append([]byte(nil), blob...)
		changed[0] ^= 0x01
		cosignFails(t, cli, verify(fenv, writeFile(t, t.TempDir(), "SHA256SUMS", changed))...)
	})
	t.Run("payload edited", func(t *testing.T) {
		var e map[string]any
		if err := json.Unmarshal(env, &e); err != nil {
			t.Fatal(err)
		}
		p, err := base64.StdEncoding.DecodeString(e["payload"].(string))
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(p), "refs/tags/v1.2.3", "refs/tags/v6.6.6", 1)
		if edited == string(p) {
			t.Fatal("the edit changed nothing")
		}
		e["payload"] = base64.StdEncoding.EncodeToString([]byte(edited))
		bad, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		cosignFails(t, cli, verify(writeFile(t, t.TempDir(), "edited.jsonl", bad), f)...)
		if _, err := VerifyEnvelope(kp.pub, bad); err == nil {
			t.Error("VerifyEnvelope accepted an edited payload")
		}
	})
	t.Run("another key", func(t *testing.T) {
		other := newKeyPair(t, cli)
		if _, err := VerifyEnvelope(other.pub, env); err == nil {
			t.Error("VerifyEnvelope accepted another key")
		}
	})
}

func TestSignStatementRejectsNonStatements(t *testing.T) {
	s, err := LoadKey(libraryKey(t, "p"), []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"", "{}", `{"_type":"https://in-toto.io/Statement/v1"}`, "not json"} {
		if _, err := s.SignStatement([]byte(in)); err == nil {
			t.Errorf("SignStatement(%q) succeeded", in)
		}
	}
}
