package manifest

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
)

// repeatSum is a SHA-256 of 32 bytes b.
func repeatSum(b byte) SHA256Sum {
	var s SHA256Sum
	for i := range s {
		s[i] = b
	}
	return s
}

// decodeDoc is a manifest whose entries exercise every part of an entry's
// spelling: several categories, none (null), an empty list, a hash and an
// offset or not, a negative size, a path with a quote and one with an
// accent, a control character and a line separator.
func decodeDoc() *Manifest {
	return &Manifest{
		Type: ManifestType, Version: 1, BundleID: "0123456789abcdef0123456789abcdef",
		Created: "2025-06-01T12:00:00Z", Sender: Party{Fingerprint: "ab", Name: "S"},
		Recipients: []Party{{Fingerprint: "cd", Name: "R"}}, Case: Case{Reference: "C-1"},
		TotalSize: 3,
		Files: []File{
			{Path: "a/b.txt", Size: 1, Mode: ModeRegular, MTime: 1746093600, Categories: category.MustSet(category.Personal, category.Other), SHA256: repeatSum(0xaa), Offset: 1024},
			{Path: "a/c.txt", Size: 2, Mode: ModeExecutable, MTime: 1746093600, Categories: category.MustSet(category.Personal), SHA256: repeatSum(0xbb), Offset: 2048},
			{Path: "d", Size: -5, Mode: ModeExecutable, MTime: 0, Categories: 0},
			{Path: "e", Size: 0, Mode: ModeRegular, MTime: -62167219200, Categories: category.MustSet(category.Personal, category.SpecialCategory, category.TradeSecret, category.LawEnforcement, category.Intelligence, category.Other)}, // 0000-01-01
			{Path: `say "hi".txt`, Size: 7, Mode: ModeRegular, MTime: 253402300799, Categories: category.MustSet(category.Intelligence)},                                                                                                  // 9999-12-31T23:59:59
			{Path: "Ünïcødé\u2028\x01.txt", Size: 8, Mode: ModeRegular, MTime: 1746093601, Categories: category.MustSet(category.TradeSecret, category.Intelligence), Offset: -3},
		},
	}
}

// decodeBoth decodes data with unmarshalWithFiles and with the plain
// encoding/json path it replaces, and fails unless both agree: both refuse
// with the same error, or both accept the same value.
func decodeBoth(t *testing.T, data []byte) (accepted bool) {
	fast := new(Manifest)
	errFast := unmarshalWithFiles(data, fast, &fast.Files, func() any { return fast.head() }, 0)
	slow := new(Manifest)
	errSlow := canon.UnmarshalEncoded(data, slow, func(w io.Writer) error { return writeWithFiles(w, slow.head(), slow.Files) })
	switch {
	case (errFast == nil) != (errSlow == nil):
		t.Fatalf("fast decoding says %v, encoding/json %v, for %q", errFast, errSlow, data)
	case errFast != nil && errFast.Error() != errSlow.Error():
		t.Fatalf("fast decoding refuses with %q, encoding/json with %q", errFast, errSlow)
	case errFast == nil && !reflect.DeepEqual(fast, slow):
		t.Fatalf("fast decoding gives %+v, encoding/json %+v", fast, slow)
	}
	return errFast == nil
}

func TestUnmarshalWithFilesAgreesWithJSON(t *testing.T) {
	doc := decodeDoc()
	data, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !decodeBoth(t, data) {
		t.Fatal("the canonical document is refused")
	}
	got := new(Manifest)
	if err := unmarshalWithFiles(data, got, &got.Files, func() any { return got.head() }, 0); err != nil || !reflect.DeepEqual(got, doc) {
		t.Fatalf("decoded %+v (%v), want %+v", got, err, doc)
	}
	// Each change is refused by both, or accepted by both alike.
	for _, c := range [][2]string{
		{`"size":1,`, `"size":01,`},
		{`"size":1,`, `"size":1.0,`},
		{`"size":1,`, `"size":1e0,`},
		{`"size":1,`, `"size":-0,`},
		{`"size":1,`, `"size":99999999999999999999,`},
		{`"offset":1024`, `"offset":1024 `},
		{`"mode":"0644"`, `"mode":"0\u0036\u00344"`},
		{`"mode":"0644"`, `"mode":"0600"`},
		{`"mode":"0644"`, `"mode":644`},
		{`"mtime":"2025-05-01T10:00:00Z"`, `"mtime":"2025-05-01T10:00:00+00:00"`},
		{`"mtime":"2025-05-01T10:00:00Z"`, `"mtime":"2025-05-01T10:00:00.0Z"`},
		{`"mtime":"2025-05-01T10:00:00Z"`, `"mtime":"2025-05-01T10:00:0\u0030Z"`},
		{`"mtime":"2025-05-01T10:00:00Z"`, `"mtime":"10000-01-01T00:00:00Z"`},
		{`"mode":"0644"`, `"Mode":"0644"`},
		{`"mode":"0644"`, `"mode":"0644","mode":"0644"`},
		{`"categories":[]`, `"categories":[ ]`},
		{`"categories":[]`, `"categories":null`},
		{`"categories":[]`, `"categories":["x"]`},
		{`"categories":[]`, `"categories":["Other"]`},
		{`"categories":[]`, `"categories":["other","other"]`},
		{`"categories":["personal","other"]`, `"categories":["other","personal"]`},
		{`"categories":["personal","other"]`, `"categories":["personal","\u006fther"]`},
		{`{"path":"d"`, `{"path":"d","extra":1`},
		{`{"path":"a/b.txt"`, `{"size":1,"path":"a/b.txt"`},
		{`],"sha256"`, `], "sha256"`},
		{`"files":[`, `"files":[ `},
		{`"files":[`, `"files":null,"x":[`},
		{`]}` + "\n", `]}`},
		{`]}` + "\n", `],"files":[]}` + "\n"},
		{`"C-1"`, `"C-1","files":[]`},
		{`"a/b.txt"`, "\"a/b\xff.txt\""},
		{`"a/b.txt"`, `"a/b` + "\u2028" + `.txt"`},
	} {
		changed := bytes.Replace(data, []byte(c[0]), []byte(c[1]), 1)
		if bytes.Equal(changed, data) {
			t.Fatalf("%q is not in the document", c[0])
		}
		if decodeBoth(t, changed) {
			t.Errorf("%q → %q: accepted", c[0], c[1])
		}
	}
	// Canonical changes are accepted by both, and alike.
	for _, c := range [][2]string{
		{`"categories":[]`, `"categories":["other"]`},
		{`"a/b.txt"`, `"a/b\u0000.txt"`},
		{`"a/b.txt"`, `"a/\"b\".txt"`},
	} {
		if !decodeBoth(t, bytes.Replace(data, []byte(c[0]), []byte(c[1]), 1)) {
			t.Errorf("%q → %q: refused", c[0], c[1])
		}
	}
	// An empty list and no list at all.
	for _, files := range [][]File{{}, nil} {
		d := *doc
		d.Files = files
		data, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !decodeBoth(t, data) {
			t.Errorf("files %#v: refused", files)
		}
	}
}

// The quick decoding is what a canonical document gets; an escape in a
// string sends the document to encoding/json instead.
func TestDecodeFastIsTaken(t *testing.T) {
	doc := decodeDoc()
	doc.Files = doc.Files[:4]
	data, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := new(Manifest)
	if !decodeFast(data, m, &m.Files) || len(m.Files) != 4 || m.Files[1].MTime != doc.Files[1].MTime {
		t.Fatalf("decodeFast refuses a canonical document, or decodes %+v", m.Files)
	}
	doc = decodeDoc()
	if data, err = doc.Marshal(); err != nil {
		t.Fatal(err)
	}
	if decodeFast(data, new(Manifest), new([]File)) {
		t.Fatal("decodeFast takes a string with escapes")
	}
	if !decodeBoth(t, data) {
		t.Fatal("a document with escapes is refused")
	}
	// Decoded again by encoding/json, into a list allocated at the size
	// expected.
	sized := new(Manifest)
	if err := unmarshalWithFiles(data, sized, &sized.Files, func() any { return sized.head() }, 9); err != nil || !reflect.DeepEqual(sized.Files, doc.Files) || cap(sized.Files) != 9 {
		t.Fatalf("sized decoding: %v, %d of capacity %d", err, len(sized.Files), cap(sized.Files))
	}
}

// No canonical entry is shorter than minEntry.
func TestMinEntry(t *testing.T) {
	var e bytes.Buffer
	enc := json.NewEncoder(&e)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&File{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSuffix(e.String(), "\n"); got != minEntry {
		t.Fatalf("the shortest entry encodes as %s, minEntry is %s", got, minEntry)
	}
	// A list of bare markers is refused before anything is allocated for it.
	if files, ok := decodeFileList([]byte("[" + strings.Repeat(`{"path":`, 1000) + "]")); ok || files != nil {
		t.Fatal("a list of markers decodes")
	}
}

func FuzzUnmarshalWithFiles(f *testing.F) {
	data, err := decodeDoc().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(bytes.Replace(data, []byte(`"size":1,`), []byte(`"size":-1,`), 1))
	f.Add([]byte(`{"files":[]}` + "\n"))
	f.Add([]byte(`{"type":"x","case":{"reference":"r","files":[1]},"files":[]}` + "\n"))
	f.Add(append(append(bytes.Clone(data[:bytes.Index(data, filesKey)+len(filesKey)]), bytes.Repeat([]byte(`{"path":`), 100)...), "]}\n"...))
	f.Fuzz(func(t *testing.T, data []byte) { decodeBoth(t, data) })
}

// Marshal allocates exactly the document's size, for lists with escapes,
// odd numbers, nil and empty lists, with and without hashes.
func TestMarshalSizesExactly(t *testing.T) {
	m := decodeDoc()
	p := &Preamble{Type: PreambleType, Version: 1, BundleID: m.BundleID, Created: m.Created,
		Recipients: m.Recipients, Case: m.Case, TotalSize: m.TotalSize, Files: m.Files}
	empty := *m
	empty.Files = []File{}
	none := *m
	none.Files = nil
	for name, doc := range map[string]interface{ Marshal() ([]byte, error) }{
		"manifest": m, "preamble": p, "empty list": &empty, "nil list": &none,
	} {
		b, err := doc.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != cap(b) {
			t.Errorf("%s: %d bytes in a buffer of %d", name, len(b), cap(b))
		}
	}
}

// appendFile writes exactly what encoding/json writes for an entry.
func TestAppendFileMatchesJSON(t *testing.T) {
	for _, f := range decodeDoc().Files {
		checkAppendFile(t, f)
	}
	for c := range 256 {
		checkAppendFile(t, File{Path: "a" + string(rune(c)) + string([]byte{byte(c)}), Categories: category.Set(c)})
	}
}

func FuzzAppendFile(f *testing.F) {
	f.Add("a/b.txt", int64(1), uint16(0o644), int64(1746093600), uint8(9), "ab", int64(512))
	f.Add("<&>\"\\\u2028\x7f\xff", int64(-1), uint16(0), int64(-1<<62), uint8(0xff), "", int64(0))
	f.Fuzz(func(t *testing.T, path string, size int64, mode uint16, mtime int64, cats uint8, sum string, offset int64) {
		file := File{Path: path, Size: size, Mode: Mode(mode), MTime: Time(mtime), Offset: offset, Categories: category.Set(cats)}
		copy(file.SHA256[:], sum)
		checkAppendFile(t, file)
	})
}

func checkAppendFile(t *testing.T, f File) {
	t.Helper()
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&f); err != nil {
		t.Fatal(err)
	}
	if got := appendFile(nil, &f, true); !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
		t.Fatalf("appendFile(%+v) = %s, want %s", f, got, want.Bytes())
	}
	// Marshal sizes its buffer by fileLen.
	for _, withHashes := range []bool{true, false} {
		if got, want := fileLen(&f, withHashes), len(appendFile(nil, &f, withHashes)); got != want {
			t.Fatalf("fileLen(%+v, %v) = %d, appendFile writes %d", f, withHashes, got, want)
		}
	}
}

// Category lists decode to their sets; a list a document cannot hold
// (null, unknown or repeated ids, another order) is not decoded here but
// left to encoding/json.
func TestDecodeCategoryLists(t *testing.T) {
	entry := func(cats string) string {
		return `{"path":"a","size":1,"mode":"0644","mtime":"2025-05-01T10:00:00Z","categories":` + cats + `}`
	}
	for list, want := range map[string]category.Set{
		`["personal","other"]`:  category.MustSet(category.Personal, category.Other),
		`["personal"]`:          category.MustSet(category.Personal),
		`["intelligence"]`:      category.MustSet(category.Intelligence),
		`[]`:                    0,
		`["personal","other"] `: 0, // not canonical: refused
	} {
		files, ok := decodeFileList([]byte("[" + entry(list) + "]"))
		if ok != (want != 0 || list == `[]`) {
			t.Errorf("%s: decoded %v", list, ok)
			continue
		}
		if ok && files[0].Categories != want {
			t.Errorf("%s: %v, want %v", list, files[0].Categories, want)
		}
	}
	for _, list := range []string{`null`, `["x"]`, `["other","personal"]`, `["other","other"]`, `["personal",]`, `["Personal"]`, `[""]`} {
		if _, ok := decodeFileList([]byte("[" + entry(list) + "]")); ok {
			t.Errorf("%s: decoded", list)
		}
	}
}
