// Package signing signs a release with a cosign key pair so that the real
// cosign CLI verifies it offline, with only cosign.pub and no transparency
// log (`--insecure-ignore-tlog`).
//
// Every format comes from sigstore's own libraries, as cosign itself writes
// it with `--key` and `--tlog-upload=false`:
//
//   - SignBlob: the base64 signature of `cosign sign-blob --output-signature`,
//     checked by `cosign verify-blob --key cosign.pub --signature F.sig
//     --insecure-ignore-tlog F`.
//   - SignStatement: the DSSE envelope (payload type application/vnd.in-toto+json)
//     of `cosign attest-blob --statement`, checked by `cosign
//     verify-blob-attestation --key cosign.pub --signature F.intoto.json
//     --type slsaprovenance1 --insecure-ignore-tlog F`.
//   - SignImage + Attach: the simple-signing signature and the attestation of
//     `cosign sign` / `cosign attest`, stored in the legacy tag layout
//     (sha256-<hex>.sig, sha256-<hex>.att) that `cosign verify` and `cosign
//     verify-attestation` fall back to when the registry holds no
//     new-format bundle for the digest.
//
// Keys are what `cosign generate-key-pair` writes (ECDSA P-256).
package signing
