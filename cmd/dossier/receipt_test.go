package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/receipt"
)

// Found by review: receipt verify accepted a receipt signed by anyone who
// held the encrypted bytes, naming any bundle id, file count and size,
// and printed those as facts. Where the bundle was packed, the custody
// log's pack entry now decides which bundle the bytes are and who its
// recipients were.
func TestReceiptVerifyChecksThePack(t *testing.T) {
	dir := sandbox(t, 1000)
	p := func(name string) string { return filepath.Join(dir, name) }
	if code := run([]string{"keygen", "--name", "eve", "--identity", p("eve.id"), "--card", p("eve.card"), "--no-passphrase"}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("keygen eve: exit %d", code)
	}
	var out bytes.Buffer
	if code := run([]string{"--json", "pack", "-i", p("alice.id"), "-r", p("bob.card"), "-o", p("case.dossier"), "--default-category", "other", p("case")}, nil, &out, io.Discard); code != 0 {
		t.Fatalf("pack: exit %d", code)
	}
	digest, err := bundleDigest(context.Background(), p("case.dossier"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p("eve.id"))
	if err != nil {
		t.Fatal(err)
	}
	eve, err := identity.Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	realID := jsonField(t, out.Bytes(), "bundle_id")
	forge := func(name, id string) {
		t.Helper()
		man := &manifest.Manifest{BundleID: id, Sender: manifest.PartyOf(eve.Card)}
		r, err := receipt.New(eve.Key, eve.Card, man, len(man.Files), make([]byte, 32), digest, receipt.ResultOpened, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p(name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	forge("eve.receipt", realID)
	forge("eve-other.receipt", strings.Repeat("f", 32))
	for name, want := range map[string]string{
		"eve.receipt":       "who was not a recipient of bundle " + realID,
		"eve-other.receipt": "it names bundle " + strings.Repeat("f", 32) + ", but these bytes are bundle " + realID,
	} {
		var stderr bytes.Buffer
		code := run([]string{"receipt", "verify", p(name), "--from", p("eve.card"), "--bundle", p("case.dossier")}, nil, io.Discard, &stderr)
		if code != exitIntegrity || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: exit %d, %s; want exit %d saying %q", name, code, stderr.String(), exitIntegrity, want)
		}
	}
}

// jsonField returns the string field key of the JSON object doc.
func jsonField(t *testing.T, doc []byte, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	s, ok := m[key].(string)
	if !ok {
		t.Fatalf("%s is not a string field of %s", key, doc)
	}
	return s
}
