package manifest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// people are generated once: key generation is the slow part.
var (
	peopleOnce           sync.Once
	sender, rcpt1, rcpt2 *identity.Identity
	peopleErr            error
)

func people(t testing.TB) (s, r1, r2 *identity.Identity) {
	t.Helper()
	peopleOnce.Do(func() {
		if sender, peopleErr = identity.Generate("Sandra Sender", "Police of Example", nil, now); peopleErr != nil {
			return
		}
		if rcpt1, peopleErr = identity.Generate("Rita Recipient", "Court", nil, now); peopleErr != nil {
			return
		}
		rcpt2, peopleErr = identity.Generate("Rolf", "", []category.ID{category.Personal}, now)
	})
	if peopleErr != nil {
		t.Fatal(peopleErr)
	}
	return sender, rcpt1, rcpt2
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// sum is a file's SHA-256 of s.
func sum(s string) manifest.SHA256Sum { return sha256.Sum256([]byte(s)) }

// validPreamble returns a fresh valid preamble.
func validPreamble(t testing.TB) *manifest.Preamble {
	s, r1, r2 := people(t)
	files := []manifest.File{
		{Path: "report.pdf", Size: 1000, Mode: manifest.ModeRegular, MTime: mtime(t, "2025-05-01T10:00:00Z"), Categories: category.MustSet(category.Personal, category.LawEnforcement)},
		{Path: "photos/img 001.jpg", Size: 0, Mode: manifest.ModeRegular, MTime: mtime(t, "2025-05-02T08:00:00Z"), Categories: category.MustSet(category.SpecialCategory)},
		{Path: "photos/Ünïcødé.txt", Size: 24, Mode: manifest.ModeExecutable, MTime: mtime(t, "2025-05-03T10:00:00Z"), Categories: category.MustSet(category.Other)},
		{Path: ".dossierx/not-reserved", Size: 1, Mode: manifest.ModeRegular, MTime: mtime(t, "2025-05-03T10:00:00Z"), Categories: category.MustSet(category.LawEnforcement)},
	}
	return &manifest.Preamble{
		Type:            manifest.PreambleType,
		Version:         manifest.FormatVersion,
		BundleID:        "0123456789abcdef0123456789abcdef",
		Created:         "2025-06-01T12:00:00Z",
		Sender:          s.Card,
		Recipients:      []manifest.Party{manifest.PartyOf(r1.Card), manifest.PartyOf(r2.Card)},
		AgeHeaderSHA256: hash("age header"),
		Case: manifest.Case{
			Reference:           "CASE-2025/42",
			RequestingAuthority: "Court of Example",
			RequestedAuthority:  "Police of Example",
			LegalBasis:          "Art. 1 Evidence Act",
			Purpose:             "investigation",
			Restrictions:        []string{"no onward transfer", "delete after use"},
			RetainUntil:         "2031-12-31",
		},
		TotalSize: 1025,
		Files:     files,
	}
}

// manifestFor restates p as a manifest, with made-up hashes and offsets.
func manifestFor(p *manifest.Preamble, preambleHash string) *manifest.Manifest {
	m := &manifest.Manifest{
		Type:            manifest.ManifestType,
		Version:         p.Version,
		BundleID:        p.BundleID,
		Created:         p.Created,
		Recipients:      slices.Clone(p.Recipients),
		AgeHeaderSHA256: p.AgeHeaderSHA256,
		PreambleSHA256:  preambleHash,
		Case:            p.Case,
		TotalSize:       p.TotalSize,
	}
	m.Case.Restrictions = slices.Clone(p.Case.Restrictions)
	if p.Sender != nil {
		m.Sender = manifest.PartyOf(p.Sender)
	}
	if p.Files != nil {
		m.Files = make([]manifest.File, 0, len(p.Files))
	}
	for i, f := range p.Files {
		f.SHA256 = sum(f.Path)
		f.Offset = int64(512 * (i + 2))
		m.Files = append(m.Files, f)
	}
	return m
}

// marshalP encodes p as encoding/json does the whole document, which
// (unlike Marshal) keeps any hash or offset a test puts in its files.
func marshalP(t testing.TB, p *manifest.Preamble) []byte {
	t.Helper()
	b, err := canon.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalM(t testing.TB, m *manifest.Manifest) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	p := validPreamble(t)
	pb := marshalP(t, p)
	if !bytes.HasPrefix(pb, []byte(`{"type":"dossier-preamble","version":3,`)) || !bytes.HasSuffix(pb, []byte("}\n")) || bytes.Count(pb, []byte("\n")) != 1 {
		t.Fatalf("preamble is not compact canonical JSON:\n%s", pb)
	}
	gotP, err := manifest.ParsePreamble(pb)
	if err != nil {
		t.Fatalf("ParsePreamble: %v", err)
	}
	if !reflect.DeepEqual(gotP, p) {
		t.Fatalf("preamble differs:\n%+v\n%+v", gotP, p)
	}
	if again := marshalP(t, gotP); !bytes.Equal(again, pb) {
		t.Fatal("preamble re-marshal differs")
	}

	ph := sha256.Sum256(pb)
	m := manifestFor(p, hex.EncodeToString(ph[:]))
	mb := marshalM(t, m)
	gotM, err := manifest.ParseManifest(mb)
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	if !reflect.DeepEqual(gotM, m) {
		t.Fatalf("manifest differs:\n%+v\n%+v", gotM, m)
	}
	if again := marshalM(t, gotM); !bytes.Equal(again, mb) {
		t.Fatal("manifest re-marshal differs")
	}
	// A size hint, right or wrong, changes nothing but the allocation.
	for _, n := range []int{0, len(m.Files), len(m.Files) + 1000, -1} {
		sized, err := manifest.ParseManifestSized(mb, n)
		if err != nil || !reflect.DeepEqual(sized, m) {
			t.Fatalf("ParseManifestSized(%d) = %+v, %v", n, sized, err)
		}
	}
	if err := gotM.Consistent(gotP, hex.EncodeToString(ph[:])); err != nil {
		t.Fatalf("Consistent: %v", err)
	}

	// Minimal documents: no case metadata, no files.
	p.Case = manifest.Case{}
	p.Files = []manifest.File{}
	p.TotalSize = 0
	p.Recipients = p.Recipients[:1]
	if _, err := manifest.ParsePreamble(marshalP(t, p)); err != nil {
		t.Fatalf("minimal preamble: %v", err)
	}
	if _, err := manifest.ParseManifest(marshalM(t, manifestFor(p, hash("p")))); err != nil {
		t.Fatalf("minimal manifest: %v", err)
	}
}

func TestPartyOf(t *testing.T) {
	s, _, _ := people(t)
	p := manifest.PartyOf(s.Card)
	want := manifest.Party{Fingerprint: s.Card.Fingerprint().Hex(), Name: "Sandra Sender", Org: "Police of Example"}
	if p != want {
		t.Fatalf("PartyOf = %+v, want %+v", p, want)
	}
}

// Each rule shared by preamble and manifest, broken once. The edited
// preamble is restated as a manifest, and both must be refused.
func TestCommonRules(t *testing.T) {
	longText := strings.Repeat("x", manifest.MaxTextLen+1)
	tests := []struct {
		name string
		edit func(p *manifest.Preamble)
		msg  string
	}{
		{"version 0", func(p *manifest.Preamble) { p.Version = 0 }, "version"},
		{"version 4", func(p *manifest.Preamble) { p.Version = 4 }, "version"},
		{"bundle id upper case", func(p *manifest.Preamble) { p.BundleID = strings.ToUpper(p.BundleID) }, "bundle id"},
		{"bundle id short", func(p *manifest.Preamble) { p.BundleID = p.BundleID[:31] }, "bundle id"},
		{"bundle id long", func(p *manifest.Preamble) { p.BundleID += "0" }, "bundle id"},
		{"bundle id empty", func(p *manifest.Preamble) { p.BundleID = "" }, "bundle id"},
		{"bundle id not hex", func(p *manifest.Preamble) { p.BundleID = strings.Repeat("g", 32) }, "bundle id"},
		{"bundle id newline", func(p *manifest.Preamble) { p.BundleID = p.BundleID[:31] + "\n" }, "bundle id"},
		{"created garbage", func(p *manifest.Preamble) { p.Created = "now" }, "created"},
		{"created date only", func(p *manifest.Preamble) { p.Created = "2025-06-01" }, "created"},
		{"created no zone", func(p *manifest.Preamble) { p.Created = "2025-06-01T12:00:00" }, "created"},
		{"created empty", func(p *manifest.Preamble) { p.Created = "" }, "created"},
		{"no recipients", func(p *manifest.Preamble) { p.Recipients = nil }, "recipients"},
		{"too many recipients", func(p *manifest.Preamble) {
			p.Recipients = nil
			for i := range manifest.MaxRecipients + 1 {
				p.Recipients = append(p.Recipients, manifest.Party{Fingerprint: hash(fmt.Sprint(i)), Name: "r"})
			}
		}, "recipients"},
		{"duplicate recipient", func(p *manifest.Preamble) { p.Recipients = append(p.Recipients, p.Recipients[0]) }, "twice"},
		{"duplicate recipient other name", func(p *manifest.Preamble) {
			r := p.Recipients[0]
			r.Name = "Someone else"
			p.Recipients = append(p.Recipients, r)
		}, "twice"},
		{"recipient fingerprint upper case", func(p *manifest.Preamble) {
			p.Recipients[0].Fingerprint = strings.ToUpper(p.Recipients[0].Fingerprint)
		}, "fingerprint"},
		{"recipient fingerprint short", func(p *manifest.Preamble) {
			p.Recipients[0].Fingerprint = p.Recipients[0].Fingerprint[:63]
		}, "fingerprint"},
		{"recipient fingerprint empty", func(p *manifest.Preamble) { p.Recipients[0].Fingerprint = "" }, "fingerprint"},
		{"recipient name control", func(p *manifest.Preamble) { p.Recipients[0].Name = "Rita\x1b[1m" }, "recipient name"},
		{"recipient name too long", func(p *manifest.Preamble) { p.Recipients[0].Name = strings.Repeat("r", 201) }, "recipient name"},
		{"recipient org bidi", func(p *manifest.Preamble) { p.Recipients[1].Org = "\u202eCourt" }, "recipient org"},
		{"age header hash short", func(p *manifest.Preamble) { p.AgeHeaderSHA256 = p.AgeHeaderSHA256[:63] }, "age_header_sha256"},
		{"age header hash upper", func(p *manifest.Preamble) { p.AgeHeaderSHA256 = strings.ToUpper(p.AgeHeaderSHA256) }, "age_header_sha256"},
		{"age header hash empty", func(p *manifest.Preamble) { p.AgeHeaderSHA256 = "" }, "age_header_sha256"},
		{"case reference control", func(p *manifest.Preamble) { p.Case.Reference = "A\x00B" }, "case reference"},
		{"requesting authority bidi", func(p *manifest.Preamble) { p.Case.RequestingAuthority = "a\u2066b" }, "requesting authority"},
		{"requested authority newline", func(p *manifest.Preamble) { p.Case.RequestedAuthority = "a\nb" }, "requested authority"},
		{"legal basis line separator", func(p *manifest.Preamble) { p.Case.LegalBasis = "a\u2028b" }, "legal basis"},
		{"purpose too long", func(p *manifest.Preamble) { p.Case.Purpose = longText }, "purpose"},
		{"policy override control", func(p *manifest.Preamble) { p.Case.PolicyOverride = "\x7f" }, "policy override"},
		{"restriction control", func(p *manifest.Preamble) { p.Case.Restrictions[1] = "delete\r" }, "handling restriction"},
		{"retain-until month 13", func(p *manifest.Preamble) { p.Case.RetainUntil = "2031-13-01" }, "retain-until"},
		{"retain-until day 32", func(p *manifest.Preamble) { p.Case.RetainUntil = "2031-12-32" }, "retain-until"},
		{"retain-until feb 30", func(p *manifest.Preamble) { p.Case.RetainUntil = "2031-02-30" }, "retain-until"},
		{"retain-until european", func(p *manifest.Preamble) { p.Case.RetainUntil = "31-12-2031" }, "retain-until"},
		{"retain-until short", func(p *manifest.Preamble) { p.Case.RetainUntil = "2031-1-1" }, "retain-until"},
		{"retain-until with time", func(p *manifest.Preamble) { p.Case.RetainUntil = "2031-12-31T00:00:00Z" }, "retain-until"},
		{"retain-until words", func(p *manifest.Preamble) { p.Case.RetainUntil = "forever" }, "retain-until"},
		{"unsafe path dotdot", func(p *manifest.Preamble) { p.Files[0].Path = "../x" }, "unsafe"},
		{"unsafe path inner dotdot", func(p *manifest.Preamble) { p.Files[0].Path = "a/../../x" }, "unsafe"},
		{"unsafe path absolute", func(p *manifest.Preamble) { p.Files[0].Path = "/etc/passwd" }, "unsafe"},
		{"unsafe path backslash", func(p *manifest.Preamble) { p.Files[0].Path = `a\b` }, "unsafe"},
		{"unsafe path drive", func(p *manifest.Preamble) { p.Files[0].Path = "C:x" }, "unsafe"},
		{"unsafe path empty", func(p *manifest.Preamble) { p.Files[0].Path = "" }, "unsafe"},
		{"unsafe path device", func(p *manifest.Preamble) { p.Files[0].Path = "nul.txt" }, "unsafe"},
		{"unsafe path control", func(p *manifest.Preamble) { p.Files[0].Path = "a\x1bb" }, "unsafe"},
		{"reserved folder file", func(p *manifest.Preamble) { p.Files[0].Path = ".dossier/x" }, "reserved"},
		{"reserved folder deep", func(p *manifest.Preamble) { p.Files[0].Path = ".dossier/manifest.json" }, "reserved"},
		{"reserved folder itself", func(p *manifest.Preamble) { p.Files[0].Path = ".dossier" }, "reserved"},
		{"collision case", func(p *manifest.Preamble) {
			p.Files[0].Path = "A"
			p.Files[1].Path = "a"
		}, "collide"},
		{"collision duplicate", func(p *manifest.Preamble) { p.Files[0].Path = p.Files[1].Path }, "collide"},
		{"collision file and folder", func(p *manifest.Preamble) { p.Files[0].Path = "photos" }, "collide"},
		{"negative size", func(p *manifest.Preamble) {
			p.Files[0].Size = -1
			p.TotalSize -= 1001
		}, "negative"},
		{"mode setuid", func(p *manifest.Preamble) { p.Files[0].Mode = 0o4755 }, "mode"},
		{"mode owner only", func(p *manifest.Preamble) { p.Files[0].Mode = 0o600 }, "mode"},
		{"mode zero", func(p *manifest.Preamble) { p.Files[0].Mode = 0 }, "mode"},
		{"mtime after 9999", func(p *manifest.Preamble) {
			p.Files[0].MTime = manifest.TimeOf(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
		}, "mtime"},
		{"mtime before year 0", func(p *manifest.Preamble) {
			p.Files[0].MTime = manifest.TimeOf(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC))
		}, "mtime"},
		{"no category", func(p *manifest.Preamble) { p.Files[0].Categories = 0 }, "no category"},
		{"category outside the vocabulary", func(p *manifest.Preamble) { p.Files[0].Categories = 1 << 7 }, "categor"},
		{"total size too small", func(p *manifest.Preamble) { p.TotalSize-- }, "total_size"},
		{"total size too large", func(p *manifest.Preamble) { p.TotalSize++ }, "total_size"},
		{"total size zero", func(p *manifest.Preamble) { p.TotalSize = 0 }, "total_size"},
		{"total size overflow", func(p *manifest.Preamble) {
			p.Files[0].Size = math.MaxInt64
			p.Files[2].Size = math.MaxInt64
			p.TotalSize = -2
		}, "overflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPreamble(t)
			tt.edit(p)
			_, err := manifest.ParsePreamble(marshalP(t, p))
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("preamble: err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("preamble: error %q does not mention %q", err, tt.msg)
			}
			m := manifestFor(p, hash("p"))
			_, err = manifest.ParseManifest(marshalM(t, m))
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("manifest: err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("manifest: error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

// mtime parses a canonical modification time.
func mtime(t testing.TB, s string) manifest.Time {
	t.Helper()
	var v manifest.Time
	if err := v.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return v
}

// Modes, times and category lists that a File cannot hold are written
// into the bytes: a reader must refuse every spelling but "0644", "0755",
// whole seconds in UTC with a Z, and known categories in vocabulary order,
// each once, in the preamble and in the manifest.
func TestMalformedEntrySpellings(t *testing.T) {
	const mode, when = `"mode":"0644"`, `"mtime":"2025-05-01T10:00:00Z"`
	const cats = `"categories":["personal","law-enforcement"]`
	for _, tt := range []struct{ name, from, to, msg string }{
		{"mode three digits", mode, `"mode":"644"`, "mode"},
		{"mode five digits", mode, `"mode":"00644"`, "mode"},
		{"mode not octal", mode, `"mode":"0648"`, "mode"},
		{"mode setuid", mode, `"mode":"4755"`, "mode"},
		{"mode owner only", mode, `"mode":"0600"`, "mode"},
		{"mode symbolic", mode, `"mode":"rw-r"`, "mode"},
		{"mode empty", mode, `"mode":""`, "mode"},
		{"mode number", mode, `"mode":644`, "mode"},
		{"mode null", mode, `"mode":null`, ""},
		{"mode escaped", mode, `"mode":"\u0030644"`, ""},
		{"mtime garbage", when, `"mtime":"yesterday"`, "mtime"},
		{"mtime empty", when, `"mtime":""`, "mtime"},
		{"mtime offset", when, `"mtime":"2025-05-01T12:00:00+02:00"`, "mtime"},
		{"mtime zero offset", when, `"mtime":"2025-05-01T10:00:00+00:00"`, "mtime"},
		{"mtime fraction", when, `"mtime":"2025-05-01T10:00:00.5Z"`, "mtime"},
		{"mtime lower case", when, `"mtime":"2025-05-01t10:00:00z"`, "mtime"},
		{"mtime no zone", when, `"mtime":"2025-05-01T10:00:00"`, "mtime"},
		{"mtime leap second", when, `"mtime":"2025-06-30T23:59:60Z"`, "mtime"},
		{"mtime day 31 of April", when, `"mtime":"2025-04-31T10:00:00Z"`, "mtime"},
		{"mtime number", when, `"mtime":1746093600`, "mtime"},
		{"mtime null", when, `"mtime":null`, ""},
		{"unsorted categories", cats, `"categories":["law-enforcement","personal"]`, "order"},
		{"duplicate category", cats, `"categories":["personal","personal"]`, "order"},
		{"unknown category", cats, `"categories":["secret"]`, "unknown"},
		{"unknown category after known", cats, `"categories":["personal","zzz"]`, "unknown"},
		{"no category", cats, `"categories":[]`, "no category"},
		{"categories null", cats, `"categories":null`, "null"},
		{"category not a string", cats, `"categories":[1]`, "categor"},
		{"category in capitals", cats, `"categories":["PERSONAL","law-enforcement"]`, "unknown"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := validPreamble(t)
			for what, data := range map[string][]byte{
				"preamble": marshalP(t, p),
				"manifest": marshalM(t, manifestFor(p, hash("p"))),
			} {
				if !bytes.Contains(data, []byte(tt.from)) {
					t.Fatalf("%s has no %s", what, tt.from)
				}
				data = bytes.Replace(data, []byte(tt.from), []byte(tt.to), 1)
				var err error
				if what == "preamble" {
					_, err = manifest.ParsePreamble(data)
				} else {
					_, err = manifest.ParseManifest(data)
				}
				if !errors.Is(err, manifest.ErrInvalid) {
					t.Fatalf("%s: err = %v, want ErrInvalid", what, err)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("%s: error %q does not mention %q", what, err, tt.msg)
				}
				// In a list of a million entries, the error says whose.
				if !unnamed[tt.name] && !strings.Contains(err.Error(), `"report.pdf"`) {
					t.Errorf("%s: error %q does not name the file", what, err)
				}
			}
		})
	}
}

// unnamed lists the spellings of TestMalformedEntrySpellings that decode
// as a value (null leaves it zero; an escape spells the same text), so
// that only the canonical comparison refuses them, by the first byte that
// differs rather than by file.
var unnamed = map[string]bool{"mode null": true, "mode escaped": true, "mtime null": true}

func TestPreambleRules(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *manifest.Preamble)
		msg  string
	}{
		{"type", func(p *manifest.Preamble) { p.Type = manifest.ManifestType }, "type"},
		{"type empty", func(p *manifest.Preamble) { p.Type = "" }, "type"},
		{"no sender", func(p *manifest.Preamble) { p.Sender = nil }, "sender"},
		{"sender card altered", func(p *manifest.Preamble) {
			c := *p.Sender
			c.Name = "Mallory"
			p.Sender = &c
		}, "sender card"},
		{"sender card unsigned", func(p *manifest.Preamble) {
			c := *p.Sender
			c.Signature = nil
			p.Sender = &c
		}, "sender card"},
		{"file with sha256", func(p *manifest.Preamble) { p.Files[1].SHA256 = sum("x") }, "hash or offset"},
		{"file with offset", func(p *manifest.Preamble) { p.Files[1].Offset = 512 }, "hash or offset"},
		{"file with negative offset", func(p *manifest.Preamble) { p.Files[1].Offset = -1 }, "hash or offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPreamble(t)
			tt.edit(p)
			_, err := manifest.ParsePreamble(marshalP(t, p))
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestManifestRules(t *testing.T) {
	tests := []struct {
		name string
		edit func(m *manifest.Manifest)
		msg  string
	}{
		{"type", func(m *manifest.Manifest) { m.Type = manifest.PreambleType }, "type"},
		{"sender fingerprint bad", func(m *manifest.Manifest) { m.Sender.Fingerprint = "abc" }, "sender"},
		{"sender fingerprint empty", func(m *manifest.Manifest) { m.Sender.Fingerprint = "" }, "sender"},
		{"sender name control", func(m *manifest.Manifest) { m.Sender.Name = "Sandra\x1b]0;owned\x07" }, "sender name"},
		{"sender name bidi", func(m *manifest.Manifest) { m.Sender.Name = "\u202eSandra" }, "sender name"},
		{"sender name too long", func(m *manifest.Manifest) { m.Sender.Name = strings.Repeat("s", 201) }, "sender name"},
		{"sender org control", func(m *manifest.Manifest) { m.Sender.Org = "Police\n" }, "sender org"},
		{"preamble hash short", func(m *manifest.Manifest) { m.PreambleSHA256 = m.PreambleSHA256[1:] }, "preamble_sha256"},
		{"preamble hash upper", func(m *manifest.Manifest) { m.PreambleSHA256 = strings.ToUpper(m.PreambleSHA256) }, "preamble_sha256"},
		{"preamble hash empty", func(m *manifest.Manifest) { m.PreambleSHA256 = "" }, "preamble_sha256"},
		{"file without sha256", func(m *manifest.Manifest) { m.Files[0].SHA256 = manifest.SHA256Sum{} }, "sha256"},
		{"file without offset", func(m *manifest.Manifest) { m.Files[2].Offset = 0 }, "offset"},
		{"file negative offset", func(m *manifest.Manifest) { m.Files[2].Offset = -512 }, "offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := manifestFor(validPreamble(t), hash("p"))
			tt.edit(m)
			_, err := manifest.ParseManifest(marshalM(t, m))
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

// Byte-level changes are refused by the canonical-form check.
func TestParseNonCanonical(t *testing.T) {
	p := validPreamble(t)
	pb := marshalP(t, p)
	mb := marshalM(t, manifestFor(p, hash("p")))
	edits := map[string]func([]byte) []byte{
		"no newline":    func(b []byte) []byte { return bytes.TrimSuffix(b, []byte("\n")) },
		"space":         func(b []byte) []byte { return bytes.Replace(b, []byte(`":`), []byte(`": `), 1) },
		"trailing data": func(b []byte) []byte { return append(bytes.Clone(b), b...) },
		"case key":      func(b []byte) []byte { return bytes.Replace(b, []byte(`"bundle_id"`), []byte(`"Bundle_id"`), 1) },
		"unknown field": func(b []byte) []byte { return bytes.Replace(b, []byte(`{"type"`), []byte(`{"x":1,"type"`), 1) },
		"escape":        func(b []byte) []byte { return bytes.Replace(b, []byte(`"report.pdf"`), []byte(`"\u0072eport.pdf"`), 1) },
		"indented": func(b []byte) []byte {
			var out bytes.Buffer
			out.WriteString(strings.ReplaceAll(string(b), `,"`, ",\n  \""))
			return out.Bytes()
		},
		"empty": func([]byte) []byte { return nil },
		"null":  func([]byte) []byte { return []byte("null\n") },
	}
	// A file's SHA-256 has one spelling: 64 lower-case hex digits.
	fileSum := sum(p.Files[0].Path).String()
	for name, to := range map[string]string{
		"sha256 upper":   strings.ToUpper(fileSum),
		"sha256 short":   fileSum[:62],
		"sha256 long":    fileSum + "00",
		"sha256 zero":    strings.Repeat("0", 64),
		"sha256 not hex": "g" + fileSum[1:],
	} {
		if !bytes.Contains(mb, []byte(fileSum)) {
			t.Fatal("the file's hash is not in the manifest")
		}
		if _, err := manifest.ParseManifest(bytes.Replace(mb, []byte(fileSum), []byte(to), 1)); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("manifest %s: err = %v", name, err)
		}
	}
	// A preamble's entries carry no SHA-256, in any spelling.
	firstEntryEnd := bytes.Index(pb, []byte(`]},{"path":`)) + 1
	if firstEntryEnd <= 0 {
		t.Fatal("no second file entry in the preamble")
	}
	for name, value := range map[string]string{"real": fileSum, "zero": strings.Repeat("0", 64)} {
		withHash := slices.Concat(pb[:firstEntryEnd], []byte(`,"sha256":"`+value+`"`), pb[firstEntryEnd:])
		if _, err := manifest.ParsePreamble(withHash); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("preamble entry with a %s sha256: err = %v", name, err)
		}
	}
	for name, edit := range edits {
		if _, err := manifest.ParsePreamble(edit(pb)); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("preamble %s: err = %v", name, err)
		}
		if _, err := manifest.ParseManifest(edit(mb)); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("manifest %s: err = %v", name, err)
		}
	}
	// A preamble is not a manifest and vice versa.
	if _, err := manifest.ParseManifest(pb); !errors.Is(err, manifest.ErrInvalid) {
		t.Errorf("preamble parsed as manifest: %v", err)
	}
	if _, err := manifest.ParsePreamble(mb); !errors.Is(err, manifest.ErrInvalid) {
		t.Errorf("manifest parsed as preamble: %v", err)
	}
}

func TestSignVerify(t *testing.T) {
	s, r1, _ := people(t)
	p := validPreamble(t)
	doc := marshalP(t, p)
	sig, err := manifest.Sign(s.Key, sign.ContextPreamble, doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sig, []byte(`{"ed25519":"`)) || !bytes.HasSuffix(sig, []byte("\"}\n")) {
		t.Fatalf("signature file layout: %.60q", sig)
	}
	if len(sig) > manifest.MaxSignatureLen {
		t.Fatalf("signature file is %d bytes, over the parse limit", len(sig))
	}
	pub := s.Key.Public()
	if err := manifest.Verify(pub, sign.ContextPreamble, doc, sig); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	tampered := bytes.Clone(doc)
	tampered[len(tampered)/2] ^= 1
	var parsed sign.Signature
	if err := canon.Unmarshal(sig, &parsed, false); err != nil {
		t.Fatal(err)
	}
	flipHalf := func(ed bool) []byte {
		s := sign.Signature{Ed25519: bytes.Clone(parsed.Ed25519), MLDSA65: bytes.Clone(parsed.MLDSA65)}
		if ed {
			s.Ed25519[3] ^= 1
		} else {
			s.MLDSA65[3] ^= 1
		}
		b, _ := canon.Marshal(&s)
		return b
	}
	tests := []struct {
		name    string
		pub     *sign.PublicKey
		ctx     string
		doc     []byte
		sig     []byte
		sigFail bool // the signature check itself (not parsing) fails
	}{
		{"wrong context", pub, sign.ContextManifest, doc, sig, true},
		{"wrong key", r1.Key.Public(), sign.ContextPreamble, doc, sig, true},
		{"tampered document", pub, sign.ContextPreamble, tampered, sig, true},
		{"document with extra newline", pub, sign.ContextPreamble, append(bytes.Clone(doc), '\n'), sig, true},
		{"ed25519 half flipped", pub, sign.ContextPreamble, doc, flipHalf(true), true},
		{"ml-dsa half flipped", pub, sign.ContextPreamble, doc, flipHalf(false), true},
		{"signature not canonical", pub, sign.ContextPreamble, doc, bytes.Replace(sig, []byte(`":`), []byte(`": `), 1), false},
		{"signature without newline", pub, sign.ContextPreamble, doc, bytes.TrimSuffix(sig, []byte("\n")), false},
		{"signature unknown field", pub, sign.ContextPreamble, doc, bytes.Replace(sig, []byte(`{`), []byte(`{"x":1,`), 1), false},
		{"signature empty", pub, sign.ContextPreamble, doc, nil, false},
		{"signature empty object", pub, sign.ContextPreamble, doc, []byte(`{"ed25519":null,"ml_dsa_65":null}` + "\n"), true},
		{"signature too large", pub, sign.ContextPreamble, doc, append(bytes.Repeat([]byte(" "), manifest.MaxSignatureLen), sig...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := manifest.Verify(tt.pub, tt.ctx, tt.doc, tt.sig)
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if got := errors.Is(err, sign.ErrBadSignature) || strings.Contains(err.Error(), sign.ErrBadSignature.Error()); got != tt.sigFail {
				t.Errorf("error %q: signature failure = %v, want %v", err, got, tt.sigFail)
			}
		})
	}
	if _, err := manifest.Sign(s.Key, "", doc); err == nil {
		t.Fatal("Sign with an empty context succeeded")
	}
}

func TestConsistent(t *testing.T) {
	_, r1, _ := people(t)
	const ph = "1111111111111111111111111111111111111111111111111111111111111111"
	tests := []struct {
		name string
		edit func(m *manifest.Manifest)
		what string // "" = consistent
	}{
		{"unchanged", func(m *manifest.Manifest) {}, ""},
		{"other hashes and offsets", func(m *manifest.Manifest) {
			m.Files[0].SHA256 = sum("other")
			m.Files[0].Offset = 99
		}, ""},
		{"preamble hash", func(m *manifest.Manifest) { m.PreambleSHA256 = hash("x") }, "preamble hash"},
		{"bundle id", func(m *manifest.Manifest) { m.BundleID = "ffffffffffffffffffffffffffffffff" }, "bundle id"},
		{"created", func(m *manifest.Manifest) { m.Created = "2025-06-01T12:00:01Z" }, "creation time"},
		{"created same instant other zone", func(m *manifest.Manifest) { m.Created = "2025-06-01T14:00:00+02:00" }, "creation time"},
		{"sender name", func(m *manifest.Manifest) { m.Sender.Name = "Sandra" }, "sender"},
		{"sender org", func(m *manifest.Manifest) { m.Sender.Org = "" }, "sender"},
		{"sender fingerprint", func(m *manifest.Manifest) { m.Sender.Fingerprint = r1.Card.Fingerprint().Hex() }, "sender"},
		{"recipients swapped", func(m *manifest.Manifest) {
			m.Recipients[0], m.Recipients[1] = m.Recipients[1], m.Recipients[0]
		}, "recipients"},
		{"recipient dropped", func(m *manifest.Manifest) { m.Recipients = m.Recipients[:1] }, "recipients"},
		{"recipient added", func(m *manifest.Manifest) {
			m.Recipients = append(m.Recipients, manifest.Party{Fingerprint: hash("z"), Name: "Z"})
		}, "recipients"},
		{"recipient renamed", func(m *manifest.Manifest) { m.Recipients[0].Name += "x" }, "recipients"},
		{"age header hash", func(m *manifest.Manifest) { m.AgeHeaderSHA256 = hash("other header") }, "age header"},
		{"case reference", func(m *manifest.Manifest) { m.Case.Reference += "1" }, "case"},
		{"case purpose", func(m *manifest.Manifest) { m.Case.Purpose = "" }, "case"},
		{"case retain until", func(m *manifest.Manifest) { m.Case.RetainUntil = "2032-01-01" }, "case"},
		{"case override", func(m *manifest.Manifest) { m.Case.PolicyOverride = "yes" }, "case"},
		{"case restrictions reordered", func(m *manifest.Manifest) {
			m.Case.Restrictions = []string{m.Case.Restrictions[1], m.Case.Restrictions[0]}
		}, "case"},
		{"case restriction dropped", func(m *manifest.Manifest) { m.Case.Restrictions = m.Case.Restrictions[:1] }, "case"},
		{"total size", func(m *manifest.Manifest) { m.TotalSize++ }, "file list"},
		{"file dropped", func(m *manifest.Manifest) { m.Files = m.Files[:3] }, "file list"},
		{"file added", func(m *manifest.Manifest) { m.Files = append(m.Files, m.Files[0]) }, "file list"},
		{"files reordered", func(m *manifest.Manifest) { m.Files[0], m.Files[1] = m.Files[1], m.Files[0] }, "file"},
		{"file path", func(m *manifest.Manifest) { m.Files[1].Path = "photos/img 002.jpg" }, `file "photos/img 001.jpg"`},
		{"file size", func(m *manifest.Manifest) {
			m.Files[0].Size--
			m.Files[1].Size++
		}, `file "report.pdf"`},
		{"file mode", func(m *manifest.Manifest) { m.Files[2].Mode = manifest.ModeRegular }, `file "photos/Ünïcødé.txt"`},
		{"file mtime", func(m *manifest.Manifest) { m.Files[3].MTime++ }, `file ".dossierx/not-reserved"`},
		{"file categories", func(m *manifest.Manifest) { m.Files[0].Categories = category.MustSet(category.Personal) }, `file "report.pdf"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPreamble(t)
			m := manifestFor(p, ph)
			tt.edit(m)
			err := m.Consistent(p, ph)
			if tt.what == "" {
				if err != nil {
					t.Fatalf("Consistent: %v", err)
				}
				return
			}
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "disagree on") || !strings.Contains(msg, tt.what) {
				t.Errorf("error %q does not say they disagree on %s", err, tt.what)
			}
		})
	}
	// A nil and an empty restriction list are the same case metadata.
	p := validPreamble(t)
	p.Case.Restrictions = nil
	m := manifestFor(p, ph)
	m.Case.Restrictions = []string{}
	if err := m.Consistent(p, ph); err != nil {
		t.Fatalf("nil vs empty restrictions: %v", err)
	}
	// Consistent does not modify the manifest's files.
	p = validPreamble(t)
	m = manifestFor(p, ph)
	before := marshalM(t, m)
	m.Consistent(p, ph)
	if !bytes.Equal(before, marshalM(t, m)) {
		t.Fatal("Consistent changed the manifest")
	}
}

func TestSummary(t *testing.T) {
	files := []manifest.File{
		{Path: "a", Size: 10, Categories: category.MustSet(category.Other)},
		{Path: "b", Size: 5, Categories: category.MustSet(category.Personal, category.LawEnforcement)},
		{Path: "c", Size: 0, Categories: category.MustSet(category.Personal)},
		{Path: "d", Size: 100, Categories: category.MustSet(category.LawEnforcement, category.Other)},
	}
	got := manifest.Summary(files)
	want := []manifest.CategoryTotal{
		{Category: category.Personal, Files: 2, Bytes: 5},
		{Category: category.LawEnforcement, Files: 2, Bytes: 105},
		{Category: category.Other, Files: 2, Bytes: 110},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Summary =\n%+v\nwant\n%+v", got, want)
	}
	if s := manifest.Summary(nil); len(s) != 0 {
		t.Fatalf("Summary(nil) = %+v", s)
	}
	// Summary of the valid preamble covers every byte at least once.
	p := validPreamble(t)
	var total int64
	for _, ct := range manifest.Summary(p.Files) {
		total += ct.Bytes
		if !ct.Category.Valid() {
			t.Fatalf("unknown category %q in summary", ct.Category)
		}
	}
	if total < p.TotalSize {
		t.Fatalf("summary bytes %d < total %d", total, p.TotalSize)
	}
	order := manifest.Summary([]manifest.File{
		{Size: 1, Categories: category.MustSet(category.Other)},
		{Size: 1, Categories: category.MustSet(category.Intelligence)},
		{Size: 1, Categories: category.MustSet(category.TradeSecret)},
		{Size: 1, Categories: category.MustSet(category.SpecialCategory)},
	})
	var ids []category.ID
	for _, ct := range order {
		ids = append(ids, ct.Category)
	}
	if want := []category.ID{category.SpecialCategory, category.TradeSecret, category.Intelligence, category.Other}; !slices.Equal(ids, want) {
		t.Fatalf("Summary order %v, want vocabulary order %v", ids, want)
	}
}

func TestCaseCheck(t *testing.T) {
	ok := []manifest.Case{
		{},
		{RetainUntil: "2024-02-29"},
		{Reference: strings.Repeat("r", manifest.MaxTextLen), Restrictions: []string{"", "x"}},
		{Purpose: "Ünïcødé 名前 😀"},
	}
	for _, c := range ok {
		if err := c.Check(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := []manifest.Case{
		{RetainUntil: "2023-02-29"},
		{RetainUntil: "２０３１-12-31"},
		{RetainUntil: " 2031-12-31"},
		{Reference: strings.Repeat("r", manifest.MaxTextLen+1)},
		{Restrictions: []string{"ok", "\x1b"}},
		{Purpose: "\xff"},
	}
	for _, c := range bad {
		if err := c.Check(); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", c, err)
		}
	}
}

func preambleSeeds(t testing.TB) [][]byte {
	p := validPreamble(t)
	valid := marshalP(t, p)
	p.Files, p.TotalSize, p.Case = []manifest.File{}, 0, manifest.Case{}
	minimal := marshalP(t, p)
	return [][]byte{
		valid,
		minimal,
		bytes.Replace(valid, []byte(`"version":3`), []byte(`"version":4`), 1),
		bytes.Replace(valid, []byte(`report.pdf`), []byte(`../report.pdf`), 1),
		bytes.TrimSuffix(valid, []byte("\n")),
		valid[:len(valid)/2],
		[]byte("{}\n"),
	}
}

func manifestSeeds(t testing.TB) [][]byte {
	p := validPreamble(t)
	valid := marshalM(t, manifestFor(p, hash("p")))
	p.Files, p.TotalSize, p.Case = []manifest.File{}, 0, manifest.Case{}
	minimal := marshalM(t, manifestFor(p, hash("p")))
	return [][]byte{
		valid,
		minimal,
		bytes.Replace(valid, []byte(`"total_size":1025`), []byte(`"total_size":1024`), 1),
		bytes.Replace(valid, []byte(`"offset":1024`), []byte(`"offset":0`), 1),
		bytes.Replace(valid, []byte(`"mode":"0644"`), []byte(`"mode":"644"`), 1),
		append(bytes.Clone(valid), ' '),
		[]byte("{}\n"),
	}
}

func fuzzPreambleBody(t *testing.T, data []byte) bool {
	p, err := manifest.ParsePreamble(data)
	if err != nil {
		if !errors.Is(err, manifest.ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		return false
	}
	again, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("ParsePreamble accepted %q but Marshal gives %q", data, again)
	}
	if whole, err := canon.Marshal(p); err != nil || !bytes.Equal(whole, data) {
		t.Fatalf("ParsePreamble accepted %q but encoding/json gives %q (%v)", data, whole, err)
	}
	return true
}

func fuzzManifestBody(t *testing.T, data []byte) bool {
	m, err := manifest.ParseManifest(data)
	if err != nil {
		if !errors.Is(err, manifest.ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		return false
	}
	again, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("ParseManifest accepted %q but Marshal gives %q", data, again)
	}
	if whole, err := canon.Marshal(m); err != nil || !bytes.Equal(whole, data) {
		t.Fatalf("ParseManifest accepted %q but encoding/json gives %q (%v)", data, whole, err)
	}
	// Whatever is accepted passes the rules when restated.
	var sum int64
	for _, f := range m.Files {
		sum += f.Size
		if f.Size < 0 || f.Offset <= 0 || f.Categories.Len() == 0 {
			t.Fatalf("accepted bad file entry %+v", f)
		}
	}
	if sum != m.TotalSize || len(m.Recipients) == 0 {
		t.Fatalf("accepted inconsistent totals or no recipients")
	}
	return true
}

func FuzzParsePreamble(f *testing.F) {
	for _, s := range preambleSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzPreambleBody(t, data) })
}

func FuzzParseManifest(f *testing.F) {
	for _, s := range manifestSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzManifestBody(t, data) })
}

func TestFuzzSeeds(t *testing.T) {
	for name, tc := range map[string]struct {
		seeds [][]byte
		body  func(*testing.T, []byte) bool
	}{
		"preamble": {preambleSeeds(t), fuzzPreambleBody},
		"manifest": {manifestSeeds(t), fuzzManifestBody},
	} {
		accepted := 0
		for _, s := range tc.seeds {
			if tc.body(t, s) {
				accepted++
			}
		}
		if accepted != 2 || len(tc.seeds) <= 2 {
			t.Errorf("%s: %d of %d seeds parse, want the 2 valid ones", name, accepted, len(tc.seeds))
		}
	}
}

// The card inside a preamble is the sender's real card.
func TestPreambleSenderIsCard(t *testing.T) {
	s, _, _ := people(t)
	p, err := manifest.ParsePreamble(marshalP(t, validPreamble(t)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Sender.Fingerprint() != s.Fingerprint() {
		t.Fatal("sender fingerprint changed")
	}
	if _, err := card.ParseFingerprintHex(p.Recipients[0].Fingerprint); err != nil {
		t.Fatal(err)
	}
}

// Restatement builds the manifest a sender signs for a preamble, and
// EncodesTo accepts exactly its canonical encoding.
func TestRestatementEncodesTo(t *testing.T) {
	const ph = "1111111111111111111111111111111111111111111111111111111111111111"
	p := validPreamble(t)
	want := manifestFor(p, ph)
	m := manifest.Restatement(p, ph, want.Files)
	data := marshalM(t, want)
	if got := marshalM(t, m); !bytes.Equal(got, data) {
		t.Fatalf("Restatement encodes as\n%s\nwant\n%s", got, data)
	}
	if !m.EncodesTo(data) {
		t.Fatal("EncodesTo refuses the manifest's own encoding")
	}
	bad := map[string][]byte{
		"empty":         nil,
		"no newline":    data[:len(data)-1],
		"cut":           data[:len(data)/2],
		"extra byte":    append(bytes.Clone(data), ' '),
		"second value":  append(bytes.Clone(data), data...),
		"flipped first": append([]byte{'['}, data[1:]...),
	}
	for i := 1; i < len(data)-1; i += len(data) / 37 {
		b := bytes.Clone(data)
		b[i] ^= 0x20
		bad[fmt.Sprintf("byte %d flipped", i)] = b
	}
	other := manifestFor(p, ph)
	other.Files[2].SHA256 = sum("other")
	bad["another hash"] = marshalM(t, other)
	other = manifestFor(p, ph)
	other.Files[3].Offset++
	bad["another offset"] = marshalM(t, other)
	other = manifestFor(p, ph)
	other.Case.Reference += "x"
	bad["another case"] = marshalM(t, other)
	for name, b := range bad {
		if m.EncodesTo(b) {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A file's SHA-256 is 64 lower-case hex digits, never all zeros (the
// value that means no hash).
func TestParseSHA256Sum(t *testing.T) {
	want := sum("x")
	got, err := manifest.ParseSHA256Sum(want.String())
	if err != nil || got != want {
		t.Fatalf("ParseSHA256Sum(%s) = %x, %v", want, got, err)
	}
	if text, _ := want.MarshalText(); string(text) != want.String() || len(text) != 64 {
		t.Errorf("MarshalText = %s, String = %s", text, want)
	}
	for _, bad := range []string{"", strings.Repeat("0", 64), strings.ToUpper(want.String()), want.String()[:62], want.String() + "0", "g" + want.String()[1:]} {
		if _, err := manifest.ParseSHA256Sum(bad); err == nil {
			t.Errorf("ParseSHA256Sum(%q) accepted", bad)
		}
		var s manifest.SHA256Sum
		if err := s.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) accepted", bad)
		}
	}
}

// A File's JSON lists its fields in the manifest's order, which is no
// longer the struct's, exactly as encoding/json wrote it when it was.
func TestFileJSONOrder(t *testing.T) {
	type listed struct {
		Path       string             `json:"path"`
		Size       int64              `json:"size"`
		Mode       manifest.Mode      `json:"mode"`
		MTime      manifest.Time      `json:"mtime"`
		Categories category.Set       `json:"categories"`
		SHA256     manifest.SHA256Sum `json:"sha256,omitzero"`
		Offset     int64              `json:"offset,omitempty"`
	}
	sum := manifest.SHA256Sum{1, 2, 3}
	for _, f := range []manifest.File{
		{Path: "a.txt", Size: 3, Mode: manifest.ModeRegular, MTime: 1_700_000_000, Categories: category.MustSet(category.Other)},
		{Path: "docs/<b> & \"c\"\\é\u2028\xff.pdf", Size: 1 << 40, Mode: manifest.ModeExecutable, MTime: -5,
			Categories: category.MustSet(category.Personal, category.SpecialCategory), SHA256: sum, Offset: 512},
		{Path: "x", Mode: manifest.ModeRegular, Categories: category.MustSet(category.Other), Offset: 7},
	} {
		got, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(listed{f.Path, f.Size, f.Mode, f.MTime, f.Categories, f.SHA256, f.Offset})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("File JSON\n got %s\nwant %s", got, want)
		}
		var back manifest.File
		if err := json.Unmarshal(got, &back); err != nil || back != f && f.Path != "docs/<b> & \"c\"\\é\u2028\xff.pdf" {
			t.Errorf("%s reads back as %+v (%v)", got, back, err)
		}
	}
}
