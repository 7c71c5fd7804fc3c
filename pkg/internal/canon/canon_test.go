package canon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	A string `json:"a"`
	B int    `json:"b,omitempty"`
}

type doc struct {
	Name  string   `json:"name"`
	Org   string   `json:"org,omitempty"`
	N     int      `json:"n"`
	Data  []byte   `json:"data"`
	Tags  []string `json:"tags,omitempty"`
	Inner *inner   `json:"inner,omitempty"`
}

func sample() *doc {
	return &doc{Name: "Ann <a&b>", Org: "Ørg", N: -3, Data: []byte{0, 1, 0xff}, Tags: []string{"x", "y"}, Inner: &inner{A: "é", B: 2}}
}

const sampleCompact = `{"name":"Ann <a&b>","org":"Ørg","n":-3,"data":"AAH/","tags":["x","y"],"inner":{"a":"é","b":2}}` + "\n"

func TestMarshalForm(t *testing.T) {
	got, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != sampleCompact {
		t.Fatalf("Marshal =\n%s\nwant\n%s", got, sampleCompact)
	}
	ind, err := MarshalIndent(&inner{A: "x", B: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"a\": \"x\",\n  \"b\": 1\n}\n"; string(ind) != want {
		t.Fatalf("MarshalIndent = %q, want %q", ind, want)
	}
	if _, err := Marshal(make(chan int)); err == nil {
		t.Fatal("Marshal of a channel succeeded")
	}
	if _, err := MarshalIndent(func() {}); err == nil {
		t.Fatal("MarshalIndent of a func succeeded")
	}
}

// Unmarshal accepts exactly what Marshal and MarshalIndent produce, and
// gives back the value.
func TestUnmarshalAcceptsOwnOutput(t *testing.T) {
	values := []*doc{
		{},
		{Name: "x"},
		sample(),
		{Name: "tab\tnl\nquote\"back\\ctl\x01", Data: []byte{}},
		{Name: "line sep \u2028 para \u2029 bom \ufeff", N: 1 << 40},
		{Name: strings.Repeat("long", 1000), Tags: []string{""}},
		{Inner: &inner{}},
	}
	for i, v := range values {
		for _, indented := range []bool{false, true} {
			enc := Marshal
			if indented {
				enc = MarshalIndent
			}
			data, err := enc(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(data, []byte("}\n")) || bytes.HasSuffix(data, []byte("\n\n")) {
				t.Errorf("%d: output %q does not end in exactly one newline", i, data)
			}
			var got doc
			if err := Unmarshal(data, &got, indented); err != nil {
				t.Fatalf("%d indented=%v: Unmarshal of own output %q: %v", i, indented, data, err)
			}
			want := *v
			if !reflect.DeepEqual(&got, &want) {
				t.Errorf("%d indented=%v: got %+v, want %+v", i, indented, got, want)
			}
			// The other form is refused.
			var other doc
			if err := Unmarshal(data, &other, !indented); !errors.Is(err, ErrNotCanonical) {
				t.Errorf("%d: form indented=%v accepted as indented=%v: %v", i, indented, !indented, err)
			}
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	const good = `{"name":"A","n":1,"data":"AAE="}` + "\n"
	var d doc
	if err := Unmarshal([]byte(good), &d, false); err != nil {
		t.Fatalf("base case refused: %v", err)
	}
	tests := []struct {
		name         string
		in           string
		notCanonical bool // the error must wrap ErrNotCanonical
	}{
		{"duplicate key", `{"name":"A","name":"A","n":1,"data":"AAE="}` + "\n", true},
		{"duplicate key last wins", `{"name":"B","n":1,"data":"AAE=","name":"A"}` + "\n", true},
		{"case variant key", `{"Name":"A","n":1,"data":"AAE="}` + "\n", true},
		{"upper case key", `{"NAME":"A","n":1,"data":"AAE="}` + "\n", true},
		{"case variant duplicate", `{"name":"A","Name":"A","n":1,"data":"AAE="}` + "\n", true},
		{"unknown field", `{"name":"A","n":1,"data":"AAE=","extra":1}` + "\n", false},
		{"invalid utf-8", "{\"name\":\"A\xff\",\"n\":1,\"data\":\"AAE=\"}\n", true},
		{"overlong utf-8", "{\"name\":\"\xc0\x81\",\"n\":1,\"data\":\"AAE=\"}\n", true},
		{"surrogate utf-8", "{\"name\":\"\xed\xa0\x80\",\"n\":1,\"data\":\"AAE=\"}\n", true},
		{"escaped letter", `{"name":"\u0041","n":1,"data":"AAE="}` + "\n", true},
		{"escaped key", `{"n\u0061me":"A","n":1,"data":"AAE="}` + "\n", true},
		{"escaped slash", `{"name":"a\/b","n":1,"data":"AAE="}` + "\n", true},
		{"escaped html", `{"name":"\u003c","n":1,"data":"AAE="}` + "\n", true},
		{"space after colon", `{"name": "A","n":1,"data":"AAE="}` + "\n", true},
		{"space after comma", `{"name":"A", "n":1,"data":"AAE="}` + "\n", true},
		{"leading space", ` {"name":"A","n":1,"data":"AAE="}` + "\n", true},
		{"tab", "{\"name\":\"A\",\t\"n\":1,\"data\":\"AAE=\"}\n", true},
		{"crlf", `{"name":"A","n":1,"data":"AAE="}` + "\r\n", true},
		{"indented as compact", "{\n  \"name\": \"A\",\n  \"n\": 1,\n  \"data\": \"AAE=\"\n}\n", true},
		{"missing newline", `{"name":"A","n":1,"data":"AAE="}`, true},
		{"two newlines", `{"name":"A","n":1,"data":"AAE="}` + "\n\n", true},
		{"trailing document", `{"name":"A","n":1,"data":"AAE="}` + "\n{}\n", true},
		{"trailing garbage", `{"name":"A","n":1,"data":"AAE="}` + "\nxyz", true},
		{"trailing nul", `{"name":"A","n":1,"data":"AAE="}` + "\n\x00", true},
		{"key order", `{"n":1,"name":"A","data":"AAE="}` + "\n", true},
		{"missing field", `{"name":"A","n":1}` + "\n", true},
		{"omitempty field present empty", `{"name":"A","org":"","n":1,"data":"AAE="}` + "\n", true},
		{"omitempty field null", `{"name":"A","org":null,"n":1,"data":"AAE="}` + "\n", true},
		{"negative zero", `{"name":"A","n":-0,"data":"AAE="}` + "\n", true},
		{"leading zero", `{"name":"A","n":01,"data":"AAE="}` + "\n", false},
		{"float", `{"name":"A","n":1.0,"data":"AAE="}` + "\n", false},
		{"exponent", `{"name":"A","n":1e0,"data":"AAE="}` + "\n", false},
		{"number as string", `{"name":"A","n":"1","data":"AAE="}` + "\n", false},
		{"base64 unpadded", `{"name":"A","n":1,"data":"AAE"}` + "\n", false},
		{"base64 with escaped newline", `{"name":"A","n":1,"data":"AA\nE="}` + "\n", true},
		{"base64 url alphabet", `{"name":"A","n":1,"data":"-_8="}` + "\n", false},
		{"base64 non-zero pad bits", `{"name":"A","n":1,"data":"AAF="}` + "\n", true},
		{"raw line separator", "{\"name\":\"\u2028\",\"n\":1,\"data\":\"AAE=\"}\n", true},
		{"null document", "null\n", true},
		{"empty", "", false},
		{"newline only", "\n", false},
		{"array", "[]\n", false},
		{"truncated", `{"name":"A","n":1,"data":"AAE="`, false},
		{"bom", "\ufeff" + `{"name":"A","n":1,"data":"AAE="}` + "\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Unmarshal([]byte(tt.in), &d, false)
			if err == nil {
				t.Fatalf("Unmarshal(%q) succeeded", tt.in)
			}
			if tt.notCanonical && !errors.Is(err, ErrNotCanonical) {
				t.Errorf("error %v does not wrap ErrNotCanonical", err)
			}
			if !strings.HasPrefix(err.Error(), "canon: ") {
				t.Errorf("error %q does not say it comes from canon", err)
			}
		})
	}
}

func TestUnmarshalIndentedRejects(t *testing.T) {
	good, err := MarshalIndent(&inner{A: "x", B: 1})
	if err != nil {
		t.Fatal(err)
	}
	var v inner
	if err := Unmarshal(good, &v, true); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"tabs":         "{\n\t\"a\": \"x\",\n\t\"b\": 1\n}\n",
		"four spaces":  "{\n    \"a\": \"x\",\n    \"b\": 1\n}\n",
		"no space":     "{\n  \"a\":\"x\",\n  \"b\":1\n}\n",
		"crlf":         "{\r\n  \"a\": \"x\",\r\n  \"b\": 1\r\n}\r\n",
		"no newline":   strings.TrimSuffix(string(good), "\n"),
		"compact":      `{"a":"x","b":1}` + "\n",
		"key order":    "{\n  \"b\": 1,\n  \"a\": \"x\"\n}\n",
		"trailing doc": string(good) + string(good),
	} {
		var v inner
		if err := Unmarshal([]byte(in), &v, true); !errors.Is(err, ErrNotCanonical) {
			t.Errorf("%s: err = %v, want ErrNotCanonical", name, err)
		}
	}
}

func TestUnmarshalErrorPosition(t *testing.T) {
	in := `{"name":"A","n":1,"data":"AAE="} ` + "\n"
	var d doc
	err := Unmarshal([]byte(in), &d, false)
	if !errors.Is(err, ErrNotCanonical) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "byte 32") {
		t.Errorf("error %q does not point at byte 32", err)
	}
	if got := firstDiff([]byte("abc"), []byte("abd")); got != 2 {
		t.Errorf("firstDiff = %d", got)
	}
	if got := firstDiff([]byte("ab"), []byte("abc")); got != 2 {
		t.Errorf("firstDiff prefix = %d", got)
	}
}

func TestUnmarshalNotPointer(t *testing.T) {
	if err := Unmarshal([]byte("{}\n"), doc{}, false); err == nil {
		t.Fatal("Unmarshal into a non-pointer succeeded")
	}
	if err := Unmarshal([]byte("{}\n"), nil, false); err == nil {
		t.Fatal("Unmarshal into nil succeeded")
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(fuzzUnmarshalBody)
}

func fuzzSeeds(t testing.TB) [][]byte {
	a, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	b, err := MarshalIndent(sample())
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{a, b, []byte(`{"name":"A","n":1,"data":null}` + "\n"), []byte(`{"Name":"A"}`)}
}

// fuzzUnmarshalBody: whatever Unmarshal accepts re-encodes to the same
// bytes in one of the two forms.
func fuzzUnmarshalBody(t *testing.T, data []byte) {
	for _, indented := range []bool{false, true} {
		var d doc
		if err := Unmarshal(data, &d, indented); err != nil {
			continue
		}
		enc := Marshal
		if indented {
			enc = MarshalIndent
		}
		again, err := enc(&d)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted %q but it re-encodes as %q", data, again)
		}
	}
}

func TestFuzzUnmarshalSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	if len(seeds) == 0 {
		t.Fatal("no seeds")
	}
	for _, s := range seeds {
		fuzzUnmarshalBody(t, s)
	}
}

// The comparison names the first byte that differs, wherever it is: in
// the middle, at a missing end, or in extra bytes after the value.
func TestUnmarshalFirstDifference(t *testing.T) {
	mid := strings.Index(sampleCompact, `"n":`)
	for _, tt := range []struct {
		name string
		data string
		at   int
	}{
		{"space in the middle", sampleCompact[:mid] + " " + sampleCompact[mid:], mid},
		{"no final newline", strings.TrimSuffix(sampleCompact, "\n"), len(sampleCompact) - 1},
		{"two newlines", sampleCompact + "\n", len(sampleCompact)},
		{"a second value", sampleCompact + sampleCompact, len(sampleCompact)},
	} {
		err := Unmarshal([]byte(tt.data), new(doc), false)
		if !errors.Is(err, ErrNotCanonical) {
			t.Errorf("%s: err = %v, want ErrNotCanonical", tt.name, err)
			continue
		}
		if want := fmt.Sprintf("first difference at byte %d)", tt.at); !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", tt.name, err, want)
		}
	}
}

// UnmarshalEncoded compares with what its encoder writes, piece by piece,
// and fails as Unmarshal does.
func TestUnmarshalEncoded(t *testing.T) {
	type doc struct {
		A string `json:"a"`
		L []int  `json:"l"`
	}
	data := []byte(`{"a":"x","l":[1,22,3]}` + "\n")
	pieces := func(d *doc) func(w io.Writer) error {
		return func(w io.Writer) error {
			fmt.Fprintf(w, `{"a":%q,"l":[`, d.A)
			for i, n := range d.L {
				if i > 0 {
					io.WriteString(w, ",")
				}
				fmt.Fprint(w, n)
			}
			_, err := io.WriteString(w, "]}\n")
			return err
		}
	}
	var d doc
	if err := UnmarshalEncoded(data, &d, pieces(&d)); err != nil {
		t.Fatal(err)
	}
	if d.A != "x" || len(d.L) != 3 {
		t.Fatalf("decoded %+v", d)
	}
	for name, bad := range map[string][]byte{
		"spaced":        []byte(`{"a":"x","l":[1, 22,3]}` + "\n"),
		"unknown field": []byte(`{"a":"x","l":[1],"z":1}` + "\n"),
		"trailing":      []byte(`{"a":"x","l":[1]}` + "\n{}"),
		"short":         []byte(`{"a":"x","l":[1]}`),
	} {
		var d doc
		err := UnmarshalEncoded(bad, &d, pieces(&d))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if want := Unmarshal(bad, new(doc), false); want == nil || err.Error() != want.Error() {
			t.Errorf("%s: %v, but Unmarshal says %v", name, err, want)
		}
	}
	failing := func(io.Writer) error { return errors.New("boom") }
	if err := UnmarshalEncoded(data, new(doc), failing); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("encoder error: got %v", err)
	}
}

func TestMatches(t *testing.T) {
	pieces := func(parts ...string) func(io.Writer) error {
		return func(w io.Writer) error {
			for _, p := range parts {
				if _, err := io.WriteString(w, p); err != nil {
					return err
				}
			}
			return nil
		}
	}
	enc := pieces(`{"a":`, `"x"`, `,"l":[1,2]`, "}\n")
	if !Matches([]byte(`{"a":"x","l":[1,2]}`+"\n"), enc) {
		t.Fatal("refused its own encoding")
	}
	for _, data := range []string{"", `{"a":"x","l":[1,2]}`, `{"a":"x","l":[1,2]}` + "\n\n", `{"a":"y","l":[1,2]}` + "\n", `{"a":"x"}` + "\n"} {
		if Matches([]byte(data), enc) {
			t.Errorf("%q matched", data)
		}
	}
	// The encoder is stopped at the first difference.
	calls := 0
	stop := func(w io.Writer) error {
		for _, p := range []string{"ab", "cd", "ef"} {
			calls++
			if _, err := io.WriteString(w, p); err != nil {
				return err
			}
		}
		return nil
	}
	if Matches([]byte("abXdef"), stop) || calls != 2 {
		t.Fatalf("matched, or the encoder went on after the difference (%d writes)", calls)
	}
}
