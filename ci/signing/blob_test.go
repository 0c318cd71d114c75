package signing

import (
	"fmt"
	"testing"
)

// sums is SHA256SUMS-like content.
func sums(t *testing.T) []byte {
	return fmt.Appendf(nil, "%s  app-x86_64-unknown-linux-musl.tar.gz\n%s  app-aarch64-unknown-linux-musl.tar.gz\n",
		randomHex(t, 32), randomHex(t, 32))
}

func TestSignBlobVerifiesWithCosign(t *testing.T) {
	cli := cosignCLI(t)
	kp := newKeyPair(t, cli)
	other := newKeyPair(t, cli)
	dir := t.TempDir()

	data := sums(t)
	sig, err := kp.signer.SignBlob(data)
	if err != nil {
		t.Fatal(err)
	}
	f := writeFile(t, dir, "SHA256SUMS", data)
	fsig := writeFile(t, dir, "SHA256SUMS.sig", sig)
	verify := func(pub, sig, file string) []string {
		return []string{"verify-blob", "--key", pub, "--signature", sig, "--insecure-ignore-tlog", file}
	}
	cosignOK(t, cli, []string{"Verified OK"}, verify(kp.pubPath, fsig, f)...)
	if err := VerifyBlob(kp.pub, data, sig); err != nil {
		t.Fatalf("VerifyBlob: %v", err)
	}

	t.Run("file changed", func(t *testing.T) {
		changed := append([]byte(nil), data...)
		changed[3] ^= 0x01
		cosignFails(t, cli, verify(kp.pubPath, fsig, writeFile(t, t.TempDir(), "SHA256SUMS", changed))...)
		if VerifyBlob(kp.pub, changed, sig) == nil {
			t.Error("VerifyBlob accepted a changed file")
		}
	})
	t.Run("signature of another file", func(t *testing.T) {
		otherSig, err := kp.signer.SignBlob(sums(t))
		if err != nil {
			t.Fatal(err)
		}
		cosignFails(t, cli, verify(kp.pubPath, writeFile(t, t.TempDir(), "other.sig", otherSig), f)...)
		if VerifyBlob(kp.pub, data, otherSig) == nil {
			t.Error("VerifyBlob accepted another file's signature")
		}
	})
	t.Run("another key", func(t *testing.T) {
		cosignFails(t, cli, verify(other.pubPath, fsig, f)...)
		if VerifyBlob(other.pub, data, sig) == nil {
			t.Error("VerifyBlob accepted another key")
		}
	})
}
