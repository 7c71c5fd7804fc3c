package category

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSet(t *testing.T) {
	s, err := SetOf(Other, Personal, LawEnforcement, Personal)
	if err != nil {
		t.Fatal(err)
	}
	if want := []ID{Personal, LawEnforcement, Other}; !slices.Equal(s.IDs(), want) {
		t.Errorf("IDs = %v, want %v (vocabulary order, each once)", s.IDs(), want)
	}
	if s.Len() != 3 || !s.Has(Personal) || s.Has(Intelligence) || s.Has("secret") || !s.Valid() {
		t.Errorf("Len %d, Has(personal) %v, Has(intelligence) %v, Valid %v", s.Len(), s.Has(Personal), s.Has(Intelligence), s.Valid())
	}
	if got := s.String(); got != "personal,law-enforcement,other" {
		t.Errorf("String = %q", got)
	}
	if _, err := SetOf(Personal, "secret"); !errors.Is(err, ErrUnknown) {
		t.Errorf("SetOf with an unknown id: %v", err)
	}
	var zero Set
	if zero.IDs() != nil || zero.Len() != 0 || zero.String() != "" || string(zero.AppendJSON(nil)) != "[]" {
		t.Errorf("the empty set: %v %d %q %s", zero.IDs(), zero.Len(), zero.String(), zero.AppendJSON(nil))
	}
	if bad := Set(1 << 7); bad.Valid() || bad.Len() != 0 || (s|bad).Len() != 3 {
		t.Errorf("a bit outside the vocabulary: Valid %v, Len %d", bad.Valid(), bad.Len())
	}
}

// Every set's JSON is its ids in vocabulary order, as encoding/json writes
// the list; it decodes back to the set, and JSONLen is its length.
func TestSetJSON(t *testing.T) {
	for v := range 1 << len(vocabulary) {
		s := Set(v)
		got, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(append([]ID{}, s.IDs()...))
		if string(got) != string(want) || s.JSONLen() != len(got) {
			t.Fatalf("%v: %s (JSONLen %d), want %s", s.IDs(), got, s.JSONLen(), want)
		}
		var back Set
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Fatalf("%s decodes to %v (%v)", got, back, err)
		}
	}
}

func TestSetUnmarshalRefuses(t *testing.T) {
	for in, msg := range map[string]string{
		`null`:                     "null",
		`["secret"]`:               "unknown",
		`["other","personal"]`:     "order",
		`["personal","personal"]`:  "order",
		`["Personal"]`:             "unknown",
		`[1]`:                      "1 is not a category id",
		`[null]`:                   "null is not a category id",
		`{}`:                       "not a list",
		`"personal"`:               "not a list",
		`["personal","other",""]`:  "unknown",
		`["intelligence","other"]`: "",
	} {
		var s Set
		err := json.Unmarshal([]byte(in), &s)
		if msg == "" {
			if err != nil {
				t.Errorf("%s: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want one about %q", in, err, msg)
		}
	}
}

func TestBit(t *testing.T) {
	for i, id := range All() {
		bit, rank, ok := Bit([]byte(id))
		if !ok || rank != i || bit != MustSet(id) {
			t.Errorf("Bit(%q) = %v, %d, %v", id, bit, rank, ok)
		}
	}
	if _, _, ok := Bit([]byte("secret")); ok {
		t.Error("Bit knows an unknown id")
	}
}
