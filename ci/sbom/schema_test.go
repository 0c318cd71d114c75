package sbom

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official CycloneDX 1.6 JSON schema and the two it references, as in
// CycloneDX/specification's schema/ (see testdata/README.md). Their $id
// URLs are mapped to the local copies: validation needs no network.
const schemaBase = "http://cyclonedx.org/schema/"

func bomSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat() // purls, URLs and timestamps must be well-formed too
	for _, name := range []string{"bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		f, err := os.Open(filepath.Join("testdata", "schema", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource(schemaBase+name, doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	sch, err := c.Compile(schemaBase + "bom-1.6.schema.json")
	if err != nil {
		t.Fatalf("compiling the CycloneDX schema: %v", err)
	}
	return sch
}

func validate(sch *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

func TestValidAgainstCycloneDXSchema(t *testing.T) {
	sch := bomSchema(t)
	amd64Only := fixtureInput(t)
	amd64Only.Targets = amd64Only.Targets[:1]
	noExtras := fixtureInput(t)
	noExtras.Toolchain.Packages, noExtras.Toolchain.Std, noExtras.Toolchain.Image, noExtras.ToolVersion = nil, nil, "", ""
	for name, in := range map[string]Input{"fixture": fixtureInput(t), "one target": amd64Only, "bare toolchain": noExtras} {
		t.Run(name, func(t *testing.T) {
			out, err := Build(in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(out, []byte(`"specVersion": "1.6"`)) {
				t.Fatalf("not a CycloneDX 1.6 document:\n%.300s", out)
			}
			if err := validate(sch, out); err != nil {
				t.Errorf("the SBOM is not valid CycloneDX 1.6: %v", err)
			}
		})
	}
}

// The validator does reject broken documents, so the test above can fail.
func TestSchemaRejectsInvalid(t *testing.T) {
	sch := bomSchema(t)
	out, err := Build(fixtureInput(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(doc map[string]any){
		"component without name": func(doc map[string]any) {
			delete(doc["components"].([]any)[0].(map[string]any), "name")
		},
		"unknown scope": func(doc map[string]any) {
			doc["components"].([]any)[0].(map[string]any)["scope"] = "linked"
		},
		"bad serialNumber": func(doc map[string]any) { doc["serialNumber"] = "urn:uuid:not-a-uuid" },
		"bad hash": func(doc map[string]any) {
			doc["formulation"].([]any)[0].(map[string]any)["components"].([]any)[1].(map[string]any)["hashes"] =
				[]any{map[string]any{"alg": "SHA-256", "content": "xyz"}}
		},
		"bad timestamp": func(doc map[string]any) {
			doc["metadata"].(map[string]any)["timestamp"] = "yesterday"
		},
	}
	for name, breakIt := range tests {
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			breakIt(doc)
			bad, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, bad); err == nil {
				t.Error("the schema accepted a broken document")
			}
		})
	}
}
