package receipt_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/receipt"
)

var created = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// people holds the identities the tests use, made once: the sender of the
// bundle, its recipient (who signs receipts) and an unrelated third party.
var people = sync.OnceValues(func() (map[string]*identity.Identity, error) {
	m := map[string]*identity.Identity{}
	for _, p := range []struct{ key, name, org string }{
		{"sender", "Ann Sender", "Police of Example"},
		{"recipient", "Bob Recipient", "Court of Example"},
		{"other", "Eve Other", ""},
	} {
		id, err := identity.Generate(p.name, p.org, nil, created)
		if err != nil {
			return nil, err
		}
		m[p.key] = id
	}
	return m, nil
})

func person(t testing.TB, key string) *identity.Identity {
	t.Helper()
	m, err := people()
	if err != nil {
		t.Fatal(err)
	}
	return m[key]
}

const bundleID = "0123456789abcdef0123456789abcdef"

var (
	bundleBytes  = []byte("the encrypted bytes of the bundle")
	bundleDigest = func() []byte { d := blake2b.Sum512(bundleBytes); return d[:] }()
	manifestHash = func() []byte { d := sha256.Sum256([]byte("the manifest")); return d[:] }()
)

func testManifest(t testing.TB) *manifest.Manifest {
	return &manifest.Manifest{
		Type:     manifest.ManifestType,
		Version:  manifest.FormatVersion,
		BundleID: bundleID,
		Created:  created.Format(time.RFC3339),
		Sender:   manifest.PartyOf(person(t, "sender").Card),
		Files: []manifest.File{
			{Path: "a.txt", Size: 3}, {Path: "b.txt", Size: 4}, {Path: "c/d.txt", Size: 5},
		},
		TotalSize: 12,
	}
}

// newReceipt makes a receipt signed by the recipient.
func newReceipt(t testing.TB) *receipt.Receipt {
	t.Helper()
	rcpt := person(t, "recipient")
	r, err := receipt.New(rcpt.Key, rcpt.Card, testManifest(t), len(testManifest(t).Files), manifestHash, bundleDigest, receipt.ResultOpened, created.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func marshal(t testing.TB, r *receipt.Receipt) []byte {
	t.Helper()
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// clone returns an independent copy of r (through its own encoding).
func clone(t testing.TB, r *receipt.Receipt) *receipt.Receipt {
	t.Helper()
	c, err := receipt.Parse(marshal(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	r := newReceipt(t)
	data := marshal(t, r)
	if !bytes.HasSuffix(data, []byte("}\n")) || !bytes.Contains(data, []byte("\n  \"type\": \"dossier-receipt\",\n")) {
		t.Fatalf("the receipt file is not indented canonical JSON:\n%s", data)
	}
	p, err := receipt.Parse(data)
	if err != nil {
		t.Fatalf("Parse refuses its own receipt: %v", err)
	}
	again := marshal(t, p)
	if !bytes.Equal(again, data) {
		t.Fatalf("re-marshal differs:\n%s\nwant\n%s", again, data)
	}
	if err := p.Verify(person(t, "recipient").Card); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := r.Verify(person(t, "recipient").Card); err != nil {
		t.Fatalf("Verify of the new receipt: %v", err)
	}

	// The fields say what New was given.
	send, rcpt := person(t, "sender"), person(t, "recipient")
	for _, c := range []struct{ name, got, want string }{
		{"type", p.Type, receipt.Type},
		{"bundle id", p.BundleID, bundleID},
		{"bundle hash", p.BundleBLAKE2b, hex.EncodeToString(bundleDigest)},
		{"manifest hash", p.ManifestSHA256, hex.EncodeToString(manifestHash)},
		{"sender", p.Sender.Fingerprint, send.Card.Fingerprint().Hex()},
		{"sender name", p.Sender.Name, send.Card.Name},
		{"recipient", p.Recipient.Fingerprint, rcpt.Card.Fingerprint().Hex()},
		{"recipient name", p.Recipient.Name, rcpt.Card.Name},
		{"recipient org", p.Recipient.Org, rcpt.Card.Org},
		{"received", p.Received, "2025-03-14T16:09:26Z"},
		{"result", p.Result, receipt.ResultOpened},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if p.Version != receipt.Version || p.FileCount != 3 || p.TotalSize != 12 {
		t.Errorf("version %d, file_count %d, total_size %d; want %d, 3, 12", p.Version, p.FileCount, p.TotalSize, receipt.Version)
	}
}

func TestNewReceivedIsUTCSeconds(t *testing.T) {
	rcpt := person(t, "recipient")
	now := time.Date(2025, 6, 1, 2, 3, 4, 999_999_999, time.FixedZone("X", 2*3600))
	r, err := receipt.New(rcpt.Key, rcpt.Card, testManifest(t), len(testManifest(t).Files), manifestHash, bundleDigest, receipt.ResultOpened, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2025-06-01T00:03:04Z"; r.Received != want {
		t.Fatalf("received = %q, want %q", r.Received, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestNewRefuses(t *testing.T) {
	rcpt := person(t, "recipient")
	for _, tt := range []struct {
		name     string
		man      func(*manifest.Manifest)
		manHash  []byte
		digest   []byte
		result   *string
		contains string
	}{
		{name: "unknown result", result: ptr("opened-somehow"), contains: "unknown result"},
		{name: "empty result", result: ptr(""), contains: "unknown result"},
		{name: "short bundle digest", digest: bundleDigest[:32], contains: "bundle hash"},
		{name: "no bundle digest", digest: []byte{}, contains: "bundle hash"},
		{name: "short manifest hash", manHash: manifestHash[:31], contains: "manifest hash"},
		{name: "bad bundle id", man: func(m *manifest.Manifest) { m.BundleID = "XYZ" }, contains: "bundle id"},
		{name: "bad sender fingerprint", man: func(m *manifest.Manifest) { m.Sender.Fingerprint = "00" }, contains: "fingerprint"},
		{name: "control character in sender name", man: func(m *manifest.Manifest) { m.Sender.Name = "Ann\x1b[2J" }, contains: "party"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			man := testManifest(t)
			if tt.man != nil {
				tt.man(man)
			}
			mh, d, res := manifestHash, bundleDigest, receipt.ResultOpened
			if tt.manHash != nil {
				mh = tt.manHash
			}
			if tt.digest != nil {
				d = tt.digest
			}
			if tt.result != nil {
				res = *tt.result
			}
			r, err := receipt.New(rcpt.Key, rcpt.Card, man, len(man.Files), mh, d, res, created)
			if err == nil {
				t.Fatalf("New accepted it: %+v", r)
			}
			if !errors.Is(err, receipt.ErrInvalid) || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("error %q does not wrap ErrInvalid or lacks %q", err, tt.contains)
			}
		})
	}
}

func TestVerifyWrongCard(t *testing.T) {
	r := newReceipt(t)
	rcptCard := person(t, "recipient").Card
	for _, who := range []string{"sender", "other"} {
		t.Run(who, func(t *testing.T) {
			c := person(t, who).Card
			err := r.Verify(c)
			if err == nil {
				t.Fatal("Verify accepted another card")
			}
			if !errors.Is(err, receipt.ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			for _, want := range []string{rcptCard.Name, rcptCard.Fingerprint().String(), c.Label()} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

// A receipt that names the recipient but was signed with someone else's
// key (New does not check that key and card belong together) is refused.
func TestVerifyForgedSignature(t *testing.T) {
	rcpt, eve := person(t, "recipient"), person(t, "other")
	r, err := receipt.New(eve.Key, rcpt.Card, testManifest(t), len(testManifest(t).Files), manifestHash, bundleDigest, receipt.ResultOpened, created)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Verify(rcpt.Card)
	if !errors.Is(err, receipt.ErrInvalid) || !strings.Contains(err.Error(), "signature does not verify") {
		t.Fatalf("Verify of a forged receipt: %v", err)
	}
	// And one without any signature.
	r.Signature = nil
	if err := r.Verify(rcpt.Card); !errors.Is(err, receipt.ErrInvalid) {
		t.Fatalf("Verify of an unsigned receipt: %v", err)
	}
}

// Every single-field edit of the receipt is caught: by Parse (the value is
// malformed) or by Verify (the signature no longer covers it).
func TestEditedFieldsAreRefused(t *testing.T) {
	orig := newReceipt(t)
	origData := marshal(t, orig)
	flipHex := func(s string) string {
		if s[0] == '0' {
			return "1" + s[1:]
		}
		return "0" + s[1:]
	}
	for _, tt := range []struct {
		name string
		edit func(r *receipt.Receipt)
	}{
		{"type", func(r *receipt.Receipt) { r.Type = "dossier-receipts" }},
		{"version", func(r *receipt.Receipt) { r.Version = 2 }},
		{"bundle id", func(r *receipt.Receipt) { r.BundleID = flipHex(r.BundleID) }},
		{"bundle id malformed", func(r *receipt.Receipt) { r.BundleID += "0" }},
		{"bundle hash", func(r *receipt.Receipt) { r.BundleBLAKE2b = flipHex(r.BundleBLAKE2b) }},
		{"manifest hash", func(r *receipt.Receipt) { r.ManifestSHA256 = flipHex(r.ManifestSHA256) }},
		{"sender fingerprint", func(r *receipt.Receipt) { r.Sender.Fingerprint = flipHex(r.Sender.Fingerprint) }},
		{"sender name", func(r *receipt.Receipt) { r.Sender.Name = "Ann Sendor" }},
		{"sender org", func(r *receipt.Receipt) { r.Sender.Org = "" }},
		{"recipient fingerprint", func(r *receipt.Receipt) { r.Recipient.Fingerprint = flipHex(r.Recipient.Fingerprint) }},
		{"recipient name", func(r *receipt.Receipt) { r.Recipient.Name = "Bob Recipiant" }},
		{"recipient org", func(r *receipt.Receipt) { r.Recipient.Org = "Court of Elsewhere" }},
		{"received", func(r *receipt.Receipt) { r.Received = "2025-03-14T16:09:27Z" }},
		{"received malformed", func(r *receipt.Receipt) { r.Received = "yesterday" }},
		{"received other zone, same instant", func(r *receipt.Receipt) { r.Received = "2025-03-14T17:09:26+01:00" }},
		{"result", func(r *receipt.Receipt) { r.Result = "verified-and-closed" }},
		{"file_count", func(r *receipt.Receipt) { r.FileCount++ }},
		{"file_count negative", func(r *receipt.Receipt) { r.FileCount = -1 }},
		{"total_size", func(r *receipt.Receipt) { r.TotalSize-- }},
		{"ed25519 signature", func(r *receipt.Receipt) { r.Signature.Ed25519[0] ^= 1 }},
		{"ml-dsa-65 signature", func(r *receipt.Receipt) { r.Signature.MLDSA65[100] ^= 1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := clone(t, orig)
			tt.edit(r)
			data := marshal(t, r)
			if bytes.Equal(data, origData) {
				t.Fatal("the edit did not change the file")
			}
			p, err := receipt.Parse(data)
			if err == nil {
				err = p.Verify(person(t, "recipient").Card)
			}
			if err == nil {
				t.Fatalf("an edited receipt passes Parse and Verify:\n%s", data)
			}
			if !errors.Is(err, receipt.ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	r := newReceipt(t)
	other := bytes.Clone(bundleDigest)
	other[63] ^= 0x80
	for _, tt := range []struct {
		name   string
		digest []byte
		ok     bool
	}{
		{"right digest", bundleDigest, true},
		{"last bit differs", other, false},
		{"digest of other bytes", func() []byte { d := blake2b.Sum512([]byte("other")); return d[:] }(), false},
		{"truncated", bundleDigest[:63], false},
		{"nil", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Matches(tt.digest)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, receipt.ErrInvalid) || !strings.Contains(err.Error(), bundleID) {
				t.Fatalf("Matches = %v, want ErrInvalid naming the bundle", err)
			}
		})
	}
}

func temporaries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tmps []string
	for _, e := range entries {
		if strings.Contains(e.Name(), atomicfile.TempMarker) || strings.Contains(e.Name(), ".dossier-tmp-") {
			tmps = append(tmps, e.Name())
		}
	}
	return tmps
}

func TestWriteFile(t *testing.T) {
	r := newReceipt(t)
	want := marshal(t, r)
	dir := testtmp.Dir(t)
	path := filepath.Join(dir, "case.receipt")

	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file holds\n%s\nwant\n%s", got, want)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm()&0o600 != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}

	for _, tt := range []struct {
		name    string
		path    string
		prepare func(t *testing.T, p string)
		isExist bool
	}{
		{"same receipt again", path, nil, true},
		{"other file there", filepath.Join(dir, "other.receipt"), func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("not a receipt"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"empty folder there", filepath.Join(dir, "folder"), func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"missing folder", filepath.Join(dir, "nowhere", "x.receipt"), nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prepare != nil {
				tt.prepare(t, tt.path)
			}
			before, _ := os.ReadFile(tt.path)
			err := r.WriteFile(tt.path)
			if err == nil {
				t.Fatal("WriteFile succeeded")
			}
			if tt.isExist && !errors.Is(err, atomicfile.ErrExists) {
				t.Fatalf("error %q does not wrap atomicfile.ErrExists", err)
			}
			if !strings.Contains(err.Error(), "receipt") {
				t.Errorf("error %q does not say what failed", err)
			}
			if after, _ := os.ReadFile(tt.path); !bytes.Equal(before, after) {
				t.Fatalf("existing file changed: %q -> %q", before, after)
			}
			if st, err := os.Stat(filepath.Join(dir, "folder")); err == nil && !st.IsDir() {
				t.Fatal("the folder was replaced")
			}
			if tmps := temporaries(t, dir); len(tmps) > 0 {
				t.Fatalf("temporaries left behind: %v", tmps)
			}
		})
	}
	if tmps := temporaries(t, dir); len(tmps) > 0 {
		t.Fatalf("temporaries left behind: %v", tmps)
	}
}

func TestParseRejects(t *testing.T) {
	good := marshal(t, newReceipt(t))
	edit := func(f func(r *receipt.Receipt)) []byte {
		r := clone(t, newReceipt(t))
		f(r)
		return marshal(t, r)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("the receipt lacks %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	compact := func() []byte {
		// The same receipt, as compact JSON (canonical for other documents,
		// but a receipt file is indented).
		var b bytes.Buffer
		for _, line := range strings.Split(strings.TrimSuffix(string(good), "\n"), "\n") {
			line = strings.TrimLeft(line, " ")
			line = strings.Replace(line, "\": ", "\":", 1)
			b.WriteString(line)
		}
		b.WriteByte('\n')
		return b.Bytes()
	}
	oversize := append(bytes.Clone(good[:len(good)-1]), bytes.Repeat([]byte(" "), receipt.MaxSize)...)
	for _, tt := range []struct {
		name     string
		data     []byte
		contains string
	}{
		{"empty", nil, ""},
		{"not JSON", []byte("receipt\n"), ""},
		{"JSON array", []byte("[]\n"), ""},
		{"unsigned", edit(func(r *receipt.Receipt) { r.Signature = nil }), "not signed"},
		{"signature null", replace("\"signature\": {", "\"signature\": null, \"x\": {"), ""},
		{"unknown result", edit(func(r *receipt.Receipt) { r.Result = "opened" }), "unknown result"},
		{"result in capitals", edit(func(r *receipt.Receipt) { r.Result = strings.ToUpper(receipt.ResultOpened) }), "unknown result"},
		{"wrong type", edit(func(r *receipt.Receipt) { r.Type = "dossier-card" }), "type"},
		{"wrong version", edit(func(r *receipt.Receipt) { r.Version = 0 }), "version"},
		{"bundle hash upper case", edit(func(r *receipt.Receipt) { r.BundleBLAKE2b = strings.ToUpper(r.BundleBLAKE2b) }), "bundle hash"},
		{"bundle hash short", edit(func(r *receipt.Receipt) { r.BundleBLAKE2b = r.BundleBLAKE2b[:126] }), "bundle hash"},
		{"bundle hash long", edit(func(r *receipt.Receipt) { r.BundleBLAKE2b += "00" }), "bundle hash"},
		{"bundle hash not hex", edit(func(r *receipt.Receipt) { r.BundleBLAKE2b = "g" + r.BundleBLAKE2b[1:] }), "bundle hash"},
		{"bundle hash is SHA-256", edit(func(r *receipt.Receipt) { r.BundleBLAKE2b = r.ManifestSHA256 }), "bundle hash"},
		{"manifest hash upper case", edit(func(r *receipt.Receipt) { r.ManifestSHA256 = strings.ToUpper(r.ManifestSHA256) }), "manifest hash"},
		{"manifest hash short", edit(func(r *receipt.Receipt) { r.ManifestSHA256 = r.ManifestSHA256[:62] }), "manifest hash"},
		{"manifest hash not hex", edit(func(r *receipt.Receipt) { r.ManifestSHA256 = "x" + r.ManifestSHA256[1:] }), "manifest hash"},
		{"manifest hash empty", edit(func(r *receipt.Receipt) { r.ManifestSHA256 = "" }), "manifest hash"},
		{"bundle id upper case", edit(func(r *receipt.Receipt) { r.BundleID = strings.ToUpper(r.BundleID) }), "bundle id"},
		{"bundle id empty", edit(func(r *receipt.Receipt) { r.BundleID = "" }), "bundle id"},
		{"negative total size", edit(func(r *receipt.Receipt) { r.TotalSize = -1 }), "negative"},
		{"received not RFC 3339", edit(func(r *receipt.Receipt) { r.Received = "2025-03-14 16:09:26" }), "time"},
		{"recipient fingerprint short", edit(func(r *receipt.Receipt) { r.Recipient.Fingerprint = r.Recipient.Fingerprint[:62] }), "fingerprint"},
		{"recipient fingerprint upper case", edit(func(r *receipt.Receipt) { r.Recipient.Fingerprint = strings.ToUpper(r.Recipient.Fingerprint) }), "fingerprint"},
		{"bidi control in recipient name", edit(func(r *receipt.Receipt) { r.Recipient.Name = "Bob\u202eevE" }), "party"},
		{"overlong org", edit(func(r *receipt.Receipt) { r.Recipient.Org = strings.Repeat("x", 201) }), "party"},
		{"extra space", replace("\"type\": ", "\"type\":  "), "canonical"},
		{"space before colon", replace("\"result\": ", "\"result\" : "), "canonical"},
		{"tab indent", replace("\n  \"type\"", "\n\t\"type\""), "canonical"},
		{"reordered keys", replace("\"type\": \"dossier-receipt\",\n  \"version\": 1,", "\"version\": 1,\n  \"type\": \"dossier-receipt\","), "canonical"},
		{"compact", compact(), "canonical"},
		{"CRLF", bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")), "use the original file, or ask the recipient for it again"},
		{"no final newline", good[:len(good)-1], "canonical"},
		{"two final newlines", append(bytes.Clone(good), '\n'), "canonical"},
		{"trailing data", append(bytes.Clone(good), []byte("{}\n")...), "canonical"},
		{"escaped character", replace("\"dossier-receipt\"", "\"dossier\\u002dreceipt\""), "canonical"},
		{"unknown field", replace("\"type\": ", "\"extra\": 1,\n  \"type\": "), "unknown field"},
		{"duplicate key", replace("\"result\": ", "\"result\": \"x\",\n  \"result\": "), "canonical"},
		{"key in other case", replace("\"result\": ", "\"Result\": "), "canonical"},
		{"byte order mark", append([]byte("\ufeff"), good...), ""},
		{"oversize", oversize, "larger than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := receipt.Parse(tt.data)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", r)
			}
			if !errors.Is(err, receipt.ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("error %q does not say %q", err, tt.contains)
			}
		})
	}
	// The oversize input is refused for its size, although it is the good
	// receipt followed by whitespace only.
	if len(oversize) <= receipt.MaxSize {
		t.Fatal("the oversize input is not over the limit")
	}
	if _, err := receipt.Parse(good); err != nil {
		t.Fatalf("the good receipt: %v", err)
	}
}

// fuzzSeeds are FuzzParse's seeds: a valid receipt and near misses.
func fuzzSeeds(t testing.TB) [][]byte {
	good := marshal(t, newReceipt(t))
	return [][]byte{
		good,
		bytes.Replace(good, []byte("\"file_count\": 3"), []byte("\"file_count\": 03"), 1),
		bytes.Replace(good, []byte("\"total_size\": 12"), []byte("\"total_size\": 1.2e1"), 1),
		bytes.Replace(good, []byte("\"version\": 1"), []byte("\"version\": 1.0"), 1),
		good[:len(good)/2],
		[]byte("{}\n"),
		[]byte("null\n"),
		nil,
	}
}

// fuzzParseBody checks the property: whatever Parse accepts is exactly
// what Marshal gives for the result.
func fuzzParseBody(t *testing.T, data []byte) {
	r, err := receipt.Parse(data)
	if err != nil {
		if !errors.Is(err, receipt.ErrInvalid) {
			t.Fatalf("Parse error %q does not wrap ErrInvalid", err)
		}
		return
	}
	again, err := r.Marshal()
	if err != nil {
		t.Fatalf("Marshal of a parsed receipt: %v", err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("Parse accepted bytes that Marshal does not give back:\n%q\nre-marshalled\n%q", data, again)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(fuzzParseBody)
}

func TestFuzzParseSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	if _, err := receipt.Parse(seeds[0]); err != nil {
		t.Fatalf("the first seed must be a valid receipt: %v", err)
	}
	for i, s := range seeds {
		t.Run(fmt.Sprintf("seed%d", i), func(t *testing.T) { fuzzParseBody(t, s) })
	}
}
