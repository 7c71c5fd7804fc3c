package bagit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var (
	fuzzSum = strings.Repeat("ab", 32)

	manifestSeeds = []string{
		fuzzSum + "  data/a.txt\n" + strings.ToUpper(fuzzSum) + " data/dir/b c.txt\n",
		fuzzSum + "\tdata/100%25%0Aodd%0D.txt\r\n\n",
		fuzzSum + "  data/../../etc/passwd\n",
		fuzzSum + "  /etc/passwd\n",
		fuzzSum + "  data/a.txt\n" + fuzzSum + "  data/./a.txt\n",
		fuzzSum + "  data/a%2\n",
		fuzzSum[:10] + "  data/a.txt\n",
		"",
	}
	infoSeeds = []string{
		"Source-Organization: Police of Example\nBagging-Date: 2026-11-26\nPayload-Oxum: 10.2\n",
		"Dossier-Purpose: line one\n  line two\n\tline three\r\nExternal-Identifier: x\n",
		"  leading: space\nno colon here\n",
		"A: b\rc\n",
		"",
	}
)

// fuzzManifestBody: parseManifest never panics, fails only with ErrInvalid,
// accepts only clean relative paths without "..", and what it accepts
// re-encodes (as WriteTags writes manifests) to a manifest that parses to
// the same entries.
func fuzzManifestBody(t *testing.T, data []byte) bool {
	m, err := parseManifest(data, ManifestName)
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		return false
	}
	var b strings.Builder
	paths := make([]string, 0, len(m))
	for p := range m {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if p == "" || p != path.Clean(p) || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, `\`) {
			t.Fatalf("accepted unsafe path %q", p)
		}
		sum := m[p]
		fmt.Fprintf(&b, "%x  %s\n", sum[:], encodePath(p))
	}
	again, err := parseManifest([]byte(b.String()), ManifestName)
	if err != nil {
		t.Fatalf("re-encoded manifest %q does not parse: %v", b.String(), err)
	}
	if !reflect.DeepEqual(again, m) {
		t.Fatalf("re-encoded manifest parses to %v, want %v", again, m)
	}
	return true
}

// fuzzInfoBody: parseInfo never panics and fails only with ErrInvalid;
// writing what it parsed (encodeInfo) and parsing that again is stable
// after one round (CR line breaks in values become LF).
func fuzzInfoBody(t *testing.T, data []byte) bool {
	fields, err := parseInfo(data)
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
		return false
	}
	once, err := parseInfo(encodeInfo(fields))
	if err != nil {
		t.Fatalf("encodeInfo(%q) does not parse: %v", fields, err)
	}
	if len(once) != len(fields) {
		t.Fatalf("%d fields re-encode to %d", len(fields), len(once))
	}
	for i := range once {
		if once[i].Label != fields[i].Label {
			t.Fatalf("label %q re-encodes as %q", fields[i].Label, once[i].Label)
		}
	}
	twice, err := parseInfo(encodeInfo(once))
	if err != nil || !reflect.DeepEqual(twice, once) {
		t.Fatalf("bag-info does not re-encode stably: %q then %q (%v)", once, twice, err)
	}
	return true
}

func FuzzParseManifest(f *testing.F) {
	for _, s := range manifestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzManifestBody(t, data) })
}

func FuzzParseInfo(f *testing.F) {
	for _, s := range infoSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzInfoBody(t, data) })
}

// referenceEncodePath is encodePath as it was, through a
// strings.Replacer.
func referenceEncodePath(p string) string {
	p = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(p)
	switch {
	case strings.HasPrefix(p, " "):
		p = "%20" + p[1:]
	case strings.HasPrefix(p, "\t"):
		p = "%09" + p[1:]
	}
	return p
}

// FuzzPathEncoding: decodePath undoes encodePath for every path, which
// writes what the Replacer it had written; a payload manifest's line
// ends with data/ and the path escaped as encodePath escapes data/ and
// the path.
func FuzzPathEncoding(f *testing.F) {
	for _, s := range []string{"data/a.txt", "data/100%/x\r\n", "%0A%25", "", " a", "\ta%", "%\n\r\r%%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		enc := encodePath(p)
		if want := referenceEncodePath(p); enc != want {
			t.Fatalf("encodePath(%q) = %q, want %q", p, enc, want)
		}
		got, err := decodePath(enc)
		if err != nil || got != p {
			t.Fatalf("decodePath(encodePath(%q)) = %q, %v", p, got, err)
		}
		if line, want := string(appendEscaped([]byte("data/"), p)), encodePath("data/"+p); line != want {
			t.Fatalf("appendEscaped(data/, %q) = %q, encodePath gives %q", p, line, want)
		}
	})
}

func TestFuzzSeeds(t *testing.T) {
	accepted := 0
	for _, s := range manifestSeeds {
		if fuzzManifestBody(t, []byte(s)) {
			accepted++
		}
	}
	if accepted != 3 {
		t.Errorf("%d of %d manifest seeds parse, want 3", accepted, len(manifestSeeds))
	}
	accepted = 0
	for _, s := range infoSeeds {
		if fuzzInfoBody(t, []byte(s)) {
			accepted++
		}
	}
	if accepted != len(infoSeeds)-1 {
		t.Errorf("%d of %d bag-info seeds parse, want all but one", accepted, len(infoSeeds))
	}
}

// fuzzPayload is the payload of FuzzReadNoList's bag.
var fuzzPayload = map[string]string{"a.txt": "a", "dir/b c.txt": "bc", "dir/sub/c.txt": ""}

// FuzzReadNoList: with any payload manifest (the tag manifest resealed
// over it, as anyone who edits a bag can), a read that holds no list
// (EachPayload) accepts exactly the bags a read that holds it accepts,
// and gives the same entries: it is never the weaker check.
func FuzzReadNoList(f *testing.F) {
	line := func(p, content string) string {
		return fmt.Sprintf("%x  data/%s\n", sha256.Sum256([]byte(content)), encodePath(p))
	}
	good := line("a.txt", "a") + line("dir/b c.txt", "bc") + line("dir/sub/c.txt", "")
	for _, seed := range []string{
		good,
		good + line("a.txt", "a"), // listed twice
		strings.Replace(good, "data/a.txt", "data/A.txt", 1),                // another case
		line("a.txt", "a") + line("dir/sub/c.txt", ""),                      // one left out
		good + line("dir", ""),                                              // a folder
		good + line("a.txt/x", ""),                                          // through a file
		line("a.txt", "a") + line("a.txt", "a") + line("dir/sub/c.txt", ""), // twice, one left out
		strings.Replace(good, "b c.txt", "b%20c.txt", 1),                    // encoded
		"",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, manifest string, oxum bool) {
		var info []Field
		if oxum {
			info = []Field{{"Source-Organization", "x"}}
		}
		dir, _ := makeBag(t, fuzzPayload, info, nil)
		if !oxum {
			os.Remove(filepath.Join(dir, InfoName))
		}
		writeFile(t, dir, ManifestName, manifest)
		resealTags(t, dir)
		held, herr := Read(dir)
		_, given, serr := readNoList(dir)
		if (herr == nil) != (serr == nil) {
			t.Fatalf("manifest %q: holding the list: %v; holding none: %v", manifest, herr, serr)
		}
		if herr == nil && !reflect.DeepEqual(given, held.Payload) {
			t.Fatalf("manifest %q: entries %+v, want %+v", manifest, given, held.Payload)
		}
	})
}
