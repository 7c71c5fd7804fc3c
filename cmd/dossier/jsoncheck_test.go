package main

import (
	"encoding/json"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// checkJSONKeys requires the last command's stdout to be exactly one JSON
// document that has every dotted key path in keys (e.g. "error.code").
func checkJSONKeys(ts *testscript.TestScript, keys []string) {
	out := ts.ReadFile("stdout")
	dec := json.NewDecoder(strings.NewReader(out))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		ts.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		ts.Fatalf("stdout holds more than one JSON document")
	}
	for _, k := range keys {
		cur := doc
		for _, part := range strings.Split(k, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				ts.Fatalf("JSON key %q: %q is not an object", k, part)
			}
			if cur, ok = m[part]; !ok {
				ts.Fatalf("JSON has no key %q", k)
			}
		}
	}
}
