package sbom

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// urlNamespace is RFC 9562's namespace for URL names.
var urlNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// serialFor is a name-based (version 5) UUID URN of the document's SHA-256:
// equal documents get equal serials, any change a new one. Version 5
// because CycloneDX 1.6's schema only admits UUID versions 1 to 5.
func serialFor(doc []byte) string {
	sum := sha256.Sum256(doc)
	h := sha1.New()
	h.Write(urlNamespace[:])
	h.Write([]byte("https://github.com/garage-release/garage-release/sbom#sha256:" + hex.EncodeToString(sum[:])))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
