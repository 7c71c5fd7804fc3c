package card_test

import (
	"bytes"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Fixed key material, so that fingerprints are stable across runs.
const (
	fixedAgeIdentity = "AGE-SECRET-KEY-PQ-1D3VD8MKQZGWWT2MDSAA9LLD9RXF5GQ9F9X5TWJFGUEUMCRZQTLHQLATHZG"
	fixedFingerprint = "7WNR-CBXM-1BBP-154V-ZZB0"
)

var fixedTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func fixedKeys(t testing.TB, b byte) (*age.HybridIdentity, *sign.PrivateKey) {
	t.Helper()
	ageID, err := age.ParseHybridIdentity(fixedAgeIdentity)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sign.NewKeyFromSeeds(bytes.Repeat([]byte{b}, 32), bytes.Repeat([]byte{b + 1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return ageID, key
}

func newCard(t testing.TB, name, org string, accepts []category.ID) (*card.Card, *sign.PrivateKey) {
	t.Helper()
	ageID, key := fixedKeys(t, 1)
	c, err := card.New(name, org, accepts, fixedTime, ageID.Recipient(), key)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, key
}

func marshal(t testing.TB, c *card.Card) []byte {
	t.Helper()
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name, org string
		accepts   []category.ID
	}{
		{"Ann Example", "", nil},
		{"Ann Example", "Police of Example", []category.ID{category.Personal}},
		{"Ünïcødé 名前", "Org & <Co>", []category.ID{category.Personal, category.SpecialCategory, category.LawEnforcement, category.Other}},
		{strings.Repeat("n", 200), strings.Repeat("o", 200), category.All()},
	} {
		c, key := newCard(t, tt.name, tt.org, tt.accepts)
		data := marshal(t, c)
		got, err := card.Parse(data)
		if err != nil {
			t.Fatalf("%q: Parse: %v\n%s", tt.name, err, data)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("%q: parsed card differs:\n%+v\n%+v", tt.name, got, c)
		}
		if again := marshal(t, got); !bytes.Equal(again, data) {
			t.Fatalf("re-marshal differs")
		}
		if got.Fingerprint() != c.Fingerprint() {
			t.Fatal("fingerprint changed")
		}
		if got.Type != card.Type || got.Version != card.Version || got.Created != "2025-03-14T15:09:26Z" {
			t.Fatalf("fields: %+v", got)
		}
		pk, err := got.SigningKey()
		if err != nil || !pk.Equal(key.Public()) {
			t.Fatalf("SigningKey: %v", err)
		}
		r, err := got.Recipient()
		if err != nil || r.String() != c.AgeRecipient {
			t.Fatalf("Recipient: %v", err)
		}
		// The file is indented JSON ending in a newline.
		if !bytes.HasPrefix(data, []byte("{\n  \"type\": \"dossier-card\",\n")) || !bytes.HasSuffix(data, []byte("}\n")) {
			t.Fatalf("unexpected layout:\n%s", data)
		}
	}
}

func TestNewConvertsTimeToUTC(t *testing.T) {
	ageID, key := fixedKeys(t, 1)
	loc := time.FixedZone("X", 5*3600)
	c, err := card.New("A", "", nil, fixedTime.In(loc), ageID.Recipient(), key)
	if err != nil {
		t.Fatal(err)
	}
	if c.Created != "2025-03-14T15:09:26Z" {
		t.Fatalf("Created = %q", c.Created)
	}
}

func TestNewRejectsBadFields(t *testing.T) {
	ageID, key := fixedKeys(t, 1)
	for _, tt := range []struct {
		name, org string
		accepts   []category.ID
		created   time.Time
	}{
		{"", "", nil, fixedTime},
		{"a\x1b[31m", "", nil, fixedTime},
		{"a", "org\u202e", nil, fixedTime},
		{strings.Repeat("n", 201), "", nil, fixedTime},
		{"a", "", []category.ID{"nope"}, fixedTime},
		{"a", "", []category.ID{category.Other, category.Personal}, fixedTime},
		{"a", "", []category.ID{category.Personal, category.Personal}, fixedTime},
		{"a", "", nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := card.New(tt.name, tt.org, tt.accepts, tt.created, ageID.Recipient(), key); !errors.Is(err, card.ErrInvalid) {
			t.Errorf("New(%q, %q, %v, %v): err = %v, want ErrInvalid", tt.name, tt.org, tt.accepts, tt.created, err)
		}
	}
}

// Every single-field edit of a valid card breaks it.
func TestParseRejectsEdits(t *testing.T) {
	base, _ := newCard(t, "Ann Example", "Police", []category.ID{category.Personal, category.LawEnforcement})
	otherAge, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	otherSigned, _ := newCard(t, "Bob", "", nil)

	tests := []struct {
		name    string
		edit    func(c *card.Card)
		selfSig bool // the fields stay valid: only the self-signature catches it
	}{
		{"name", func(c *card.Card) { c.Name = "Ann Exampl" }, true},
		{"name case", func(c *card.Card) { c.Name = "ann Example" }, true},
		{"org", func(c *card.Card) { c.Org = "Polices" }, true},
		{"org removed", func(c *card.Card) { c.Org = "" }, true},
		{"created", func(c *card.Card) { c.Created = "2025-03-14T15:09:27Z" }, true},
		{"created other zone same instant", func(c *card.Card) { c.Created = "2025-03-14T16:09:26+01:00" }, true},
		{"accepts added", func(c *card.Card) {
			c.Accepts = []category.ID{category.Personal, category.LawEnforcement, category.Other}
		}, true},
		{"accepts removed", func(c *card.Card) { c.Accepts = []category.ID{category.Personal} }, true},
		{"accepts cleared", func(c *card.Card) { c.Accepts = nil }, true},
		{"age recipient", func(c *card.Card) { c.AgeRecipient = otherAge.Recipient().String() }, true},
		{"ed25519 key", func(c *card.Card) { c.Ed25519 = otherKey.Public().Ed25519Bytes() }, true},
		{"ml-dsa key", func(c *card.Card) { c.MLDSA65 = otherKey.Public().MLDSABytes() }, true},
		{"both signing keys", func(c *card.Card) {
			c.Ed25519, c.MLDSA65 = otherKey.Public().Ed25519Bytes(), otherKey.Public().MLDSABytes()
		}, true},
		{"ed25519 signature", func(c *card.Card) { c.Signature.Ed25519[0] ^= 1 }, true},
		{"ml-dsa signature", func(c *card.Card) { c.Signature.MLDSA65[7] ^= 1 }, true},
		{"signature of another card", func(c *card.Card) { c.Signature = otherSigned.Signature }, true},
		{"signature removed", func(c *card.Card) { c.Signature = nil }, true},
		{"signature truncated", func(c *card.Card) { c.Signature.MLDSA65 = c.Signature.MLDSA65[:100] }, true},
		{"type", func(c *card.Card) { c.Type = "dossier-kard" }, false},
		{"version", func(c *card.Card) { c.Version = 2 }, false},
		{"name empty", func(c *card.Card) { c.Name = "" }, false},
		{"name control", func(c *card.Card) { c.Name = "Ann\x07" }, false},
		{"name bidi", func(c *card.Card) { c.Name = "Ann\u202eelpmaxE" }, false},
		{"org newline", func(c *card.Card) { c.Org = "a\nb" }, false},
		{"created garbage", func(c *card.Card) { c.Created = "yesterday" }, false},
		{"created date only", func(c *card.Card) { c.Created = "2025-03-14" }, false},
		{"accepts unknown", func(c *card.Card) { c.Accepts = []category.ID{"secret"} }, false},
		{"accepts unsorted", func(c *card.Card) {
			c.Accepts = []category.ID{category.LawEnforcement, category.Personal}
		}, false},
		{"accepts duplicate", func(c *card.Card) {
			c.Accepts = []category.ID{category.Personal, category.Personal}
		}, false},
		{"age recipient garbage", func(c *card.Card) { c.AgeRecipient = "age1qqqq" }, false},
		{"age recipient classic", func(c *card.Card) {
			x, _ := age.GenerateX25519Identity()
			c.AgeRecipient = x.Recipient().String()
		}, false},
		{"ed25519 short", func(c *card.Card) { c.Ed25519 = c.Ed25519[:31] }, false},
		{"ml-dsa empty", func(c *card.Card) { c.MLDSA65 = nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cloneCard(t, base)
			tt.edit(c)
			data, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(data, marshal(t, base)) {
				t.Fatal("edit changed nothing")
			}
			_, err = card.Parse(data)
			if !errors.Is(err, card.ErrInvalid) {
				t.Fatalf("Parse: err = %v, want ErrInvalid", err)
			}
			if tt.selfSig && !strings.Contains(err.Error(), "self-signature") {
				t.Errorf("error %q does not blame the self-signature", err)
			}
			if err := c.Check(); !errors.Is(err, card.ErrInvalid) {
				t.Errorf("Check: err = %v, want ErrInvalid", err)
			}
		})
	}
	// The base card itself is untouched by the edits.
	if _, err := card.Parse(marshal(t, base)); err != nil {
		t.Fatal(err)
	}
}

func cloneCard(t *testing.T, c *card.Card) *card.Card {
	t.Helper()
	got, err := card.Parse(marshal(t, c))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Byte-level changes that keep the JSON meaning are refused too.
func TestParseRejectsNonCanonical(t *testing.T) {
	c, _ := newCard(t, "Ann", "Org", nil)
	data := marshal(t, c)
	compact := bytes.Join(bytes.Fields(data), nil) // crude, but valid JSON
	tests := map[string][]byte{
		"compact":        append(compact, '\n'),
		"no newline":     bytes.TrimSuffix(data, []byte("\n")),
		"crlf":           bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")),
		"tabs":           bytes.ReplaceAll(data, []byte("  "), []byte("\t")),
		"escaped":        bytes.Replace(data, []byte(`"Ann"`), []byte(`"\u0041nn"`), 1),
		"case key":       bytes.Replace(data, []byte(`"name"`), []byte(`"Name"`), 1),
		"trailing":       append(bytes.Clone(data), data...),
		"unknown field":  bytes.Replace(data, []byte(`"type"`), []byte(`"extra": 1,`+"\n"+`  "type"`), 1),
		"duplicate name": bytes.Replace(data, []byte(`"name": "Ann",`), []byte(`"name": "Bob",`+"\n"+`  "name": "Ann",`), 1),
		"empty":          nil,
		"garbage":        []byte("not json\n"),
		"too large":      append(bytes.Repeat([]byte(" "), card.MaxSize), data...),
	}
	for name, in := range tests {
		if bytes.Equal(in, data) {
			t.Fatalf("%s: no change", name)
		}
		if _, err := card.Parse(in); !errors.Is(err, card.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// A card changed by an editor or a transfer says what to do.
	_, err := card.Parse(tests["crlf"])
	if want := "it is not byte for byte as it was written (canon: not in canonical form (first difference at byte "; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "use the original file") {
		t.Errorf("crlf: %v", err)
	}
}

func TestParseIdentityFileGivesHelp(t *testing.T) {
	identity.ScryptWorkFactor = 10
	id, err := identity.Generate("Ann", "", nil, fixedTime)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := id.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := id.MarshalEncrypted("pass")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"plain":              plain,
		"encrypted":          enc,
		"encrypted, leading": append([]byte("\n  "), enc...),
	} {
		_, err := card.Parse(data)
		if !errors.Is(err, card.ErrSecretGiven) {
			t.Fatalf("%s: err = %v, want ErrSecretGiven", name, err)
		}
		if !strings.Contains(err.Error(), "secret identity file") || !strings.Contains(err.Error(), ".card") {
			t.Errorf("%s: error %q does not explain the mix-up", name, err)
		}
	}
	// The identity's own card parses.
	if _, err := card.Parse(marshal(t, id.Card)); err != nil {
		t.Fatal(err)
	}
}

var fingerprintRe = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$`)

var crockford32 = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

func TestFingerprintString(t *testing.T) {
	var f card.Fingerprint
	check := func(f card.Fingerprint) {
		t.Helper()
		s := f.String()
		if !fingerprintRe.MatchString(s) {
			t.Fatalf("%q is not 5 groups of 4 Crockford characters", s)
		}
		// Independent reference: the first 100 bits in base32.
		want := crockford32.EncodeToString(f[:13])[:20]
		if got := strings.ReplaceAll(s, "-", ""); got != want {
			t.Fatalf("String() = %q, want %q", got, want)
		}
	}
	check(f)
	if f.String() != "0000-0000-0000-0000-0000" {
		t.Fatalf("zero fingerprint = %q", f.String())
	}
	for i := range f {
		f[i] = 0xff
	}
	check(f)
	if f.String() != "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ" {
		t.Fatalf("all-ones fingerprint = %q", f.String())
	}
	for i := range f {
		f[i] = byte(i*37 + 11)
	}
	check(f)
	// Only the first 100 bits count.
	g := f
	g[12] ^= 0x0f
	g[31] ^= 0xff
	if g.String() != f.String() {
		t.Fatal("bits after the first 100 changed the short form")
	}
	g[12] ^= 0x10
	if g.String() == f.String() {
		t.Fatal("bit 100 did not change the short form")
	}
}

func TestFingerprintStable(t *testing.T) {
	c, _ := newCard(t, "Ann", "", nil)
	if got := c.Fingerprint().String(); got != fixedFingerprint {
		t.Fatalf("fingerprint of the fixed keys is %s, want %s (the fingerprint format changed?)", got, fixedFingerprint)
	}
	// Name, organisation, accepted categories, time and signature are not
	// part of the fingerprint.
	ageID, key := fixedKeys(t, 1)
	d, err := card.New("Someone Else", "Other", []category.ID{category.Other}, fixedTime.Add(time.Hour), ageID.Recipient(), key)
	if err != nil {
		t.Fatal(err)
	}
	if d.Fingerprint() != c.Fingerprint() {
		t.Fatal("fingerprint depends on more than the keys")
	}
	if !strings.HasSuffix(d.Label(), " ["+fixedFingerprint+"]") || d.Label() != "Someone Else (Other) ["+fixedFingerprint+"]" {
		t.Fatalf("Label = %q", d.Label())
	}
	if c.Label() != "Ann ["+fixedFingerprint+"]" {
		t.Fatalf("Label = %q", c.Label())
	}
	// Each key changes it.
	_, key2 := fixedKeys(t, 9)
	e, _ := card.New("Ann", "", nil, fixedTime, ageID.Recipient(), key2)
	if e.Fingerprint() == c.Fingerprint() {
		t.Fatal("signing key not in the fingerprint")
	}
	other, _ := age.GenerateHybridIdentity()
	g, _ := card.New("Ann", "", nil, fixedTime, other.Recipient(), key)
	if g.Fingerprint() == c.Fingerprint() {
		t.Fatal("age recipient not in the fingerprint")
	}
	h := *c
	h.MLDSA65 = bytes.Clone(c.MLDSA65)
	h.MLDSA65[len(h.MLDSA65)-1] ^= 1
	if h.Fingerprint() == c.Fingerprint() {
		t.Fatal("ML-DSA key not in the fingerprint")
	}
}

func TestFingerprintHex(t *testing.T) {
	c, _ := newCard(t, "Ann", "", nil)
	f := c.Fingerprint()
	s := f.Hex()
	if len(s) != 64 || strings.ToLower(s) != s {
		t.Fatalf("Hex = %q", s)
	}
	got, err := card.ParseFingerprintHex(s)
	if err != nil || got != f {
		t.Fatalf("ParseFingerprintHex(%q) = %v, %v", s, got, err)
	}
	for _, bad := range []string{
		"",
		strings.ToUpper(s),
		s[:63],
		s + "0",
		s[:62],
		s + "00",
		"0x" + s[2:],
		" " + s[1:],
		s[:63] + "g",
		s[:32] + "-" + s[33:],
		hex.EncodeToString(make([]byte, 20)),
	} {
		if _, err := card.ParseFingerprintHex(bad); !errors.Is(err, card.ErrInvalid) {
			t.Errorf("ParseFingerprintHex(%q): err = %v, want ErrInvalid", bad, err)
		}
	}
	mixed := []byte(s)
	for i, ch := range mixed {
		if ch >= 'a' && ch <= 'f' {
			mixed[i] = ch - 'a' + 'A'
			break
		}
	}
	if _, err := card.ParseFingerprintHex(string(mixed)); err == nil {
		t.Errorf("mixed case %q accepted", mixed)
	}
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		s   string
		max int
		ok  bool
	}{
		{"", 10, true},
		{"Ann Example", 100, true},
		{"Ünïcødé 名前 😀", 100, true},
		{"abc", 3, true},
		{"abcd", 3, false},
		{"é", 1, false}, // length is in bytes
		{"a\x00b", 100, false},
		{"a\tb", 100, false},
		{"a\nb", 100, false},
		{"a\rb", 100, false},
		{"\x1b[2J", 100, false},
		{"a\x7fb", 100, false},
		{"a\u0085b", 100, false}, // C1 NEL
		{"a\u009bb", 100, false}, // C1 CSI
		{"a\u202eb", 100, false}, // RLO
		{"a\u202ab", 100, false}, // LRE
		{"a\u2066b", 100, false}, // LRI
		{"a\u2069b", 100, false}, // PDI
		{"a\u200eb", 100, false}, // LRM
		{"a\u200fb", 100, false}, // RLM
		{"a\u061cb", 100, false}, // ALM
		{"a\u2028b", 100, false},
		{"a\u2029b", 100, false},
		{"a\xffb", 100, false},
		{"a\xc3", 100, false},
	}
	for _, tt := range tests {
		err := card.CheckText("field", tt.s, tt.max)
		if tt.ok && err != nil {
			t.Errorf("CheckText(%q, %d): %v", tt.s, tt.max, err)
		}
		if !tt.ok {
			if !errors.Is(err, card.ErrInvalid) {
				t.Errorf("CheckText(%q, %d): err = %v, want ErrInvalid", tt.s, tt.max, err)
			} else if !strings.Contains(err.Error(), "field") {
				t.Errorf("error %q does not name the field", err)
			}
		}
	}
}

func TestAccepting(t *testing.T) {
	all := category.All()
	for _, tt := range []struct {
		accepts []category.ID
		yes     []category.ID
	}{
		{nil, all},
		{[]category.ID{}, all},
		{[]category.ID{category.Personal}, []category.ID{category.Personal}},
		{[]category.ID{category.Personal, category.LawEnforcement}, []category.ID{category.Personal, category.LawEnforcement}},
		{all, all},
	} {
		c := &card.Card{Accepts: tt.accepts}
		for _, id := range all {
			want := false
			for _, y := range tt.yes {
				want = want || y == id
			}
			if got := c.Accepting(id); got != want {
				t.Errorf("Accepts %v: Accepting(%s) = %v, want %v", tt.accepts, id, got, want)
			}
		}
		if len(tt.accepts) > 0 && c.Accepting("unknown") {
			t.Errorf("Accepts %v: accepts an unknown category", tt.accepts)
		}
	}
	// Through a real card: an empty accepts list survives the round trip
	// as "accepts everything".
	c, _ := newCard(t, "A", "", []category.ID{})
	got, err := card.Parse(marshal(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Accepting(category.Intelligence) {
		t.Fatal("card without accepts refuses a category")
	}
	c, _ = newCard(t, "A", "", []category.ID{category.TradeSecret})
	got, err = card.Parse(marshal(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if got.Accepting(category.Personal) || !got.Accepting(category.TradeSecret) {
		t.Fatal("accepts list not honoured after parsing")
	}
}

func TestCardAccessorsOnBadKeys(t *testing.T) {
	c := &card.Card{AgeRecipient: "nonsense", Ed25519: []byte{1}, MLDSA65: []byte{2}}
	if _, err := c.SigningKey(); !errors.Is(err, card.ErrInvalid) {
		t.Errorf("SigningKey: err = %v", err)
	}
	if _, err := c.Recipient(); !errors.Is(err, card.ErrInvalid) {
		t.Errorf("Recipient: err = %v", err)
	}
}

// fuzzSeeds returns a valid card file and mutations of it.
func fuzzSeeds(t testing.TB) [][]byte {
	c, _ := newCard(t, "Ann Example", "Org", []category.ID{category.Personal, category.Other})
	valid := marshal(t, c)
	d, _ := newCard(t, "B", "", nil)
	valid2 := marshal(t, d)
	seeds := [][]byte{valid, valid2}
	seeds = append(seeds,
		bytes.Replace(valid, []byte("Ann"), []byte("Anne"), 1),
		bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 2`), 1),
		bytes.TrimSuffix(valid, []byte("\n")),
		append(bytes.Clone(valid), '\n'),
		bytes.Replace(valid, []byte("\n  "), []byte("\n   "), 1),
		bytes.Replace(valid, []byte(`"org": "Org",`+"\n"), nil, 1),
		valid[:len(valid)/2],
		[]byte(`{"type":"dossier-identity"}`),
		[]byte("{}\n"),
	)
	flipped := bytes.Clone(valid)
	flipped[len(flipped)-20] ^= 0x01
	seeds = append(seeds, flipped)
	return seeds
}

// fuzzParseBody: Parse never panics, fails only with ErrInvalid, and what
// it accepts is exactly the canonical file of the parsed card.
func fuzzParseBody(t *testing.T, data []byte) bool {
	c, err := card.Parse(data)
	if err != nil {
		if !errors.Is(err, card.ErrInvalid) && !errors.Is(err, card.ErrSecretGiven) {
			t.Fatalf("error %v wraps neither ErrInvalid nor ErrSecretGiven", err)
		}
		return false
	}
	again, err := c.Marshal()
	if err != nil {
		t.Fatalf("Marshal of a parsed card: %v", err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("Parse accepted %q but Marshal gives %q", data, again)
	}
	if err := c.Check(); err != nil {
		t.Fatalf("parsed card fails Check: %v", err)
	}
	return true
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseBody(t, data) })
}

func TestFuzzParseSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	if len(seeds) < 3 {
		t.Fatalf("only %d seeds", len(seeds))
	}
	accepted := 0
	for _, s := range seeds {
		if fuzzParseBody(t, s) {
			accepted++
		}
	}
	if accepted != 2 {
		t.Fatalf("%d seeds parse, want exactly the 2 valid cards", accepted)
	}
}
