package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/identity"
)

var (
	fuzzSignerOnce sync.Once
	fuzzSigner     *identity.Identity
)

func sealSeeds(t testing.TB) [][]byte {
	fuzzSignerOnce.Do(func() {
		id, err := identity.Generate("Fuzz Signer", "Org", nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			panic(err)
		}
		fuzzSigner = id
	})
	d := digest([]byte("bundle bytes"))
	whole, err := Sign(fuzzSigner.Key, fuzzSigner.Card, d, Info{BundleID: strings.Repeat("ab", 16)})
	if err != nil {
		t.Fatal(err)
	}
	vol, err := Sign(fuzzSigner.Key, fuzzSigner.Card, d, Info{BundleID: strings.Repeat("cd", 16), Volume: 2, Volumes: 3})
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		whole,
		vol,
		bytes.Replace(whole, []byte("\ntrusted comment: "), []byte("\ntrusted comment:  "), 1),
		bytes.Replace(vol, []byte("volume=2/3"), []byte("volume=4/3"), 1),
		bytes.Replace(whole, []byte("\n"), []byte("\r\n"), -1),
		append(bytes.Clone(whole), '\n'),
		whole[:len(whole)/2],
		[]byte("untrusted comment: x\n\n\n\n"),
		{},
	}
}

// fuzzSealBody: Parse never panics, every failure wraps ErrInvalid, and a
// seal it accepts re-encodes to the very same bytes from what was parsed
// (the untrusted comment line aside, which is free text).
func fuzzSealBody(t *testing.T, data []byte) bool {
	s, err := Parse(data)
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("Parse error %v does not wrap ErrInvalid", err)
		}
		return false
	}
	if s.Volume < 0 || s.Volume > s.Volumes || (s.Volume == 0) != (s.Volumes == 0) {
		t.Fatalf("accepted volume %d of %d", s.Volume, s.Volumes)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	b64 := base64.StdEncoding.EncodeToString
	trusted := statement(s.Info, s.Fingerprint) + " ml-dsa-65=" + b64(s.mlSig)
	if trusted != s.trusted {
		t.Fatalf("trusted comment %q re-encodes as %q", s.trusted, trusted)
	}
	again := first + "\n" +
		b64(append(append([]byte("ED"), s.keyID[:]...), s.edSig...)) + "\n" +
		"trusted comment: " + trusted + "\n" +
		b64(s.global) + "\n"
	if again != string(data) {
		t.Fatalf("Parse accepted %q but it re-encodes as %q", data, again)
	}
	return true
}

func FuzzParse(f *testing.F) {
	for _, s := range sealSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzSealBody(t, data) })
}

func TestFuzzParseSeeds(t *testing.T) {
	seeds := sealSeeds(t)
	accepted := 0
	for _, s := range seeds {
		if fuzzSealBody(t, s) {
			accepted++
		}
	}
	if len(seeds) < 5 || accepted != 2 {
		t.Fatalf("%d of %d seeds parse, want the 2 valid seals", accepted, len(seeds))
	}
}
