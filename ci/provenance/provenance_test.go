package provenance

import (
	"bytes"
	"strings"
	"testing"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/garage-release/garage-release/ci/manifest"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func input() Input {
	m := &manifest.Manifest{
		Version: "v1.2.3", Class: "stable", Commit: commit, Binary: "garage",
		Date: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC),
		Targets: []manifest.Artifact{
			{Target: "amd64", Triple: "x86_64-unknown-linux-gnu", Path: "x86_64-unknown-linux-gnu/garage", SHA256: strings.Repeat("a", 64)},
			{Target: "arm64", Triple: "aarch64-unknown-linux-gnu", Path: "aarch64-unknown-linux-gnu/garage", SHA256: strings.Repeat("b", 64)},
		},
		Build: &manifest.Build{
			SourceDateEpoch: 1790000000,
			Toolchain:       "docker.io/library/rust:1.91@sha256:" + strings.Repeat("c", 64),
			BaseImage:       "docker.io/library/debian:trixie@sha256:" + strings.Repeat("d", 64),
			Rustc:           "rustc 1.91.0 (f8297e351 2025-10-28)",
			ImageDigest:     "sha256:" + strings.Repeat("e", 64),
		},
	}
	return Input{
		Manifest: m, ImageRepo: "registry.example/ns/garage",
		SourceURI:  "https://user:secret@git.example/garage.git",
		Command:    []string{"garage-release", "release", "--publish", "--targets", "amd64,arm64"},
		Parameters: map[string]string{"targets": "amd64,arm64", "features": "", "checks": "all"},
		BuilderID:  "https://github.com/garage-release/garage-release/releaser@v1", BuilderVersion: "v0.9.0",
		Started: time.Unix(1790000000, 0), Finished: time.Unix(1790000600, 0),
		InvocationID: "run-42",
	}
}

// parse reads a statement back with the library's own types and validators.
func parse(t *testing.T, b []byte) (*intoto.Statement, *slsa.Provenance) {
	t.Helper()
	var st intoto.Statement
	if err := protojson.Unmarshal(b, &st); err != nil {
		t.Fatalf("statement does not parse as an in-toto v1 Statement: %v\n%s", err, b)
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("Statement.Validate: %v", err)
	}
	pj, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	var p slsa.Provenance
	if err := protojson.Unmarshal(pj, &p); err != nil {
		t.Fatalf("predicate does not parse as SLSA provenance v1: %v", err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("Provenance.Validate: %v", err)
	}
	return &st, &p
}

func TestStatement(t *testing.T) {
	in := input()
	b, err := Statement(in)
	if err != nil {
		t.Fatal(err)
	}
	st, p := parse(t, b)
	if st.GetType() != intoto.StatementTypeUri || st.GetPredicateType() != PredicateType || PredicateType != "https://slsa.dev/provenance/v1" {
		t.Errorf("_type %q, predicateType %q", st.GetType(), st.GetPredicateType())
	}
	for _, w := range []string{`"_type": "https://in-toto.io/Statement/v1"`, `"predicateType": "https://slsa.dev/provenance/v1"`, `"buildDefinition": {`, `"resolvedDependencies": [`} {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("statement lacks %s:\n%s", w, b)
		}
	}

	subs, err := Subjects(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"registry.example/ns/garage": strings.Repeat("e", 64)}
	for _, a := range in.Manifest.Targets {
		want[a.Path] = a.SHA256
	}
	if len(subs) != len(want) {
		t.Errorf("subjects = %v, want %v", subs, want)
	}
	for name, sum := range want {
		if subs[name] != sum {
			t.Errorf("subject %s = %q, want %q", name, subs[name], sum)
		}
	}

	def := p.GetBuildDefinition()
	if def.GetBuildType() != BuildType {
		t.Errorf("buildType = %q", def.GetBuildType())
	}
	ext := def.GetExternalParameters().AsMap()
	if ext["version"] != "v1.2.3" || ext["class"] != "stable" {
		t.Errorf("externalParameters = %v", ext)
	}
	if got := ext["targets"].([]any); len(got) != 2 || got[0] != "amd64" || got[1] != "arm64" {
		t.Errorf("externalParameters.targets = %v", got)
	}
	if got := ext["command"].([]any); len(got) != 5 || got[2] != "--publish" {
		t.Errorf("externalParameters.command = %v", got)
	}
	if got := ext["parameters"].(map[string]any); got["checks"] != "all" {
		t.Errorf("externalParameters.parameters = %v", got)
	}
	if got := def.GetInternalParameters().AsMap()["source_date_epoch"]; got != float64(1790000000) {
		t.Errorf("internalParameters.source_date_epoch = %v", got)
	}
	if !bytes.Contains(b, []byte(`"source_date_epoch": 1790000000`)) {
		t.Errorf("source_date_epoch is not written as an integer:\n%s", b)
	}

	deps := map[string]*intoto.ResourceDescriptor{}
	for _, d := range def.GetResolvedDependencies() {
		deps[d.GetName()] = d
	}
	src := deps["source"]
	if src.GetUri() != "git+https://git.example/garage.git@"+commit || src.GetDigest()["gitCommit"] != commit {
		t.Errorf("source = %v", src)
	}
	if bytes.Contains(b, []byte("secret")) {
		t.Error("the remote's credentials leaked into the statement")
	}
	tc := deps["toolchain"]
	if tc.GetUri() != "docker://docker.io/library/rust:1.91" || tc.GetDigest()["sha256"] != strings.Repeat("c", 64) ||
		tc.GetAnnotations().AsMap()["rustc"] != in.Manifest.Build.Rustc {
		t.Errorf("toolchain = %v", tc)
	}
	if base := deps["base-image"]; base.GetUri() != "docker://docker.io/library/debian:trixie" || base.GetDigest()["sha256"] != strings.Repeat("d", 64) {
		t.Errorf("base image = %v", base)
	}

	run := p.GetRunDetails()
	if run.GetBuilder().GetId() != in.BuilderID || run.GetBuilder().GetVersion()["garage-release"] != "v0.9.0" {
		t.Errorf("builder = %v", run.GetBuilder())
	}
	md := run.GetMetadata()
	if md.GetInvocationId() != "run-42" || !md.GetStartedOn().AsTime().Equal(in.Started) || !md.GetFinishedOn().AsTime().Equal(in.Finished) {
		t.Errorf("metadata = %v", md)
	}
}

func TestStatementIsDeterministic(t *testing.T) {
	a, err := Statement(input())
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		// A fresh input each time: new map iteration order for Parameters.
		b, err := Statement(input())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("identical inputs gave different statements:\n%s\n---\n%s", a, b)
		}
	}
	if !bytes.HasSuffix(a, []byte("}\n")) || !bytes.HasPrefix(a, []byte("{\n  \"_type\"")) {
		t.Errorf("statement is not indented JSON starting with _type:\n%.80s", a)
	}
}

func TestStatementMinimal(t *testing.T) {
	// A development build without remote, image, times or base image; the
	// toolchain is built from the recipe.
	in := input()
	in.SourceURI, in.ImageRepo, in.Started, in.Finished, in.InvocationID = "", "", time.Time{}, time.Time{}, ""
	in.Manifest.Build.ImageDigest, in.Manifest.Build.BaseImage = "", ""
	in.Manifest.Build.Toolchain = "recipe:sha256:" + strings.Repeat("f", 64)
	b, err := Statement(in)
	if err != nil {
		t.Fatal(err)
	}
	_, p := parse(t, b)
	subs, err := Subjects(b)
	if err != nil || len(subs) != 2 {
		t.Errorf("subjects = %v, %v; want the two binaries", subs, err)
	}
	deps := p.GetBuildDefinition().GetResolvedDependencies()
	if len(deps) != 2 || deps[0].GetUri() != "" || deps[0].GetDigest()["gitCommit"] != commit ||
		deps[1].GetUri() != RecipeURI || deps[1].GetDigest()["sha256"] != strings.Repeat("f", 64) {
		t.Errorf("resolvedDependencies = %v", deps)
	}
	for _, bad := range []string{"startedOn", "finishedOn", "metadata", `"image"`} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("statement has %s though none was given", bad)
		}
	}

	// The image without a repository is named "image".
	in.Manifest.Build.ImageDigest = "sha256:" + strings.Repeat("e", 64)
	b, err = Statement(in)
	if err != nil {
		t.Fatal(err)
	}
	if subs, _ := Subjects(b); subs["image"] != strings.Repeat("e", 64) {
		t.Errorf("subjects = %v, want one named image", subs)
	}
}

func TestCleanRemote(t *testing.T) {
	tests := map[string]string{
		"https://github.com/o/r.git":                    "https://github.com/o/r.git",
		"https://x-access-token:ghs_abc@github.com/o/r": "https://github.com/o/r",
		"git@github.com:o/r.git":                        "ssh://github.com/o/r.git",
		"ssh://git@host:2222/o/r":                       "ssh://host:2222/o/r",
		"git+https://host/r":                            "https://host/r",
	}
	for in, want := range tests {
		if got := cleanRemote(in); got != want {
			t.Errorf("cleanRemote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatementErrors(t *testing.T) {
	tests := map[string]func(*Input){
		"nil manifest":       func(in *Input) { in.Manifest = nil },
		"no build record":    func(in *Input) { in.Manifest.Build = nil },
		"no targets":         func(in *Input) { in.Manifest.Targets = nil },
		"bad target sha256":  func(in *Input) { in.Manifest.Targets[0].SHA256 = "abc" },
		"duplicate subject":  func(in *Input) { in.Manifest.Targets[1].Path = in.Manifest.Targets[0].Path },
		"bad image digest":   func(in *Input) { in.Manifest.Build.ImageDigest = "sha512:" + strings.Repeat("e", 128) },
		"short image digest": func(in *Input) { in.Manifest.Build.ImageDigest = "sha256:abc" },
		"bad commit":         func(in *Input) { in.Manifest.Commit = "HEAD" },
		"unpinned toolchain": func(in *Input) { in.Manifest.Build.Toolchain = "rust:1.91" },
		"bad recipe digest":  func(in *Input) { in.Manifest.Build.Toolchain = "recipe:sha256:xyz" },
		"no toolchain":       func(in *Input) { in.Manifest.Build.Toolchain = "" },
		"bad base digest":    func(in *Input) { in.Manifest.Build.BaseImage = "debian@sha256:" + strings.Repeat("Z", 64) },
		"no builder id":      func(in *Input) { in.BuilderID = "" },
	}
	for name, breakIt := range tests {
		in := input()
		breakIt(&in)
		if b, err := Statement(in); err == nil {
			t.Errorf("%s: no error; statement:\n%s", name, b)
		}
	}
}

func TestSubjectsRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":         "{",
		"no subject":       `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`,
		"other predicate":  `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}],"predicateType":"https://spdx.dev/Document","predicate":{}}`,
		"no sha256 digest": `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha512":"` + strings.Repeat("a", 128) + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`,
	} {
		if _, err := Subjects([]byte(doc)); err == nil {
			t.Errorf("%s: Subjects accepted it", name)
		}
	}
}
