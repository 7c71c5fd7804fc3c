package category

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAll(t *testing.T) {
	want := []ID{Personal, SpecialCategory, TradeSecret, LawEnforcement, Intelligence, Other}
	got := All()
	if !slices.Equal(got, want) {
		t.Fatalf("All() = %q, want %q", got, want)
	}
	got[0] = "mutated"
	if All()[0] != Personal {
		t.Fatal("All() returned shared storage")
	}
}

func TestDescription(t *testing.T) {
	tests := []struct {
		id   ID
		want string
	}{
		{Personal, "personal data: names, identification numbers, contact details"},
		{SpecialCategory, "sensitive personal data: health, biometric, genetic, etc."},
		{TradeSecret, "corporate and commercial secrets"},
		{LawEnforcement, "criminal investigation material"},
		{Intelligence, "intelligence / national-security material"},
		{Other, "none of the above"},
		{"nope", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := tt.id.Description(); got != tt.want {
			t.Errorf("%q.Description() = %q, want %q", tt.id, got, tt.want)
		}
		if got := tt.id.Valid(); got != (tt.want != "") {
			t.Errorf("%q.Valid() = %v", tt.id, got)
		}
	}
}

func TestParse(t *testing.T) {
	for _, id := range All() {
		got, err := Parse(string(id))
		if err != nil || got != id {
			t.Errorf("Parse(%q) = %q, %v", id, got, err)
		}
		if id.String() != string(id) {
			t.Errorf("String() = %q", id.String())
		}
	}
	for _, s := range []string{"", "Personal", " personal", "personal ", "pii", "special_category", "other\n"} {
		got, err := Parse(s)
		if err == nil {
			t.Errorf("Parse(%q) = %q, want error", s, got)
			continue
		}
		if !errors.Is(err, ErrUnknown) {
			t.Errorf("Parse(%q) error %v does not wrap ErrUnknown", s, err)
		}
		if got != "" {
			t.Errorf("Parse(%q) returned %q with error", s, got)
		}
	}
	_, err := Parse("x")
	want := `category: unknown category "x" (known: personal, special-category, trade-secret, law-enforcement, intelligence, other)`
	if err.Error() != want {
		t.Errorf("Parse error = %q, want %q", err, want)
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in      string
		want    []ID
		wantErr string
		unknown bool
	}{
		{in: "personal", want: []ID{Personal}},
		{in: "personal,law-enforcement", want: []ID{Personal, LawEnforcement}},
		{in: "law-enforcement,personal", want: []ID{Personal, LawEnforcement}},
		{in: "other, personal , personal,trade-secret", want: []ID{Personal, TradeSecret, Other}},
		{in: "other,intelligence,law-enforcement,trade-secret,special-category,personal", want: All()},
		{in: "", wantErr: "category: empty category list"},
		{in: "  ", wantErr: "category: empty category list"},
		{in: "personal,", wantErr: `category: empty element in category list "personal,"`},
		{in: ",personal", wantErr: "empty element"},
		{in: "personal,,other", wantErr: "empty element"},
		{in: "personal,pii", wantErr: `unknown category "pii"`, unknown: true},
		{in: "PERSONAL", wantErr: `unknown category "PERSONAL"`, unknown: true},
	}
	for _, tt := range tests {
		got, err := ParseList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseList(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			if errors.Is(err, ErrUnknown) != tt.unknown {
				t.Errorf("ParseList(%q) error %v: errors.Is(ErrUnknown) = %v", tt.in, err, !tt.unknown)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseList(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSort(t *testing.T) {
	tests := []struct {
		in, want []ID
	}{
		{nil, []ID{}},
		{[]ID{Other}, []ID{Other}},
		{[]ID{Other, Personal, Other, Intelligence, Personal}, []ID{Personal, Intelligence, Other}},
		{[]ID{"zeta", Other, "alpha", Personal, "zeta"}, []ID{Personal, Other, "alpha", "zeta"}},
		{All(), All()},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		got := Sort(in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Sort(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("Sort modified its input: %q", in)
		}
		if len(got) > 0 && len(in) > 0 && &got[0] == &in[0] {
			t.Errorf("Sort(%q) shares storage with its input", tt.in)
		}
	}
}

// Sorted(ids) holds exactly when Sort(ids) equals ids, for every list of
// up to three IDs drawn from the vocabulary and two unknown names.
func TestSorted(t *testing.T) {
	pool := append(All(), "alpha", "zeta")
	var lists [][]ID
	var grow func(prefix []ID)
	grow = func(prefix []ID) {
		lists = append(lists, slices.Clone(prefix))
		if len(prefix) == 3 {
			return
		}
		for _, id := range pool {
			grow(append(prefix, id))
		}
	}
	grow(nil)
	sorted := 0
	for _, ids := range lists {
		want := slices.Equal(Sort(ids), ids)
		if got := Sorted(ids); got != want {
			t.Errorf("Sorted(%q) = %v, want %v", ids, got, want)
		}
		if want {
			sorted++
		}
	}
	if sorted < 10 || sorted == len(lists) {
		t.Fatalf("%d of %d lists sorted: the test does not tell the two apart", sorted, len(lists))
	}
}

func ExampleAll() {
	for _, id := range All() {
		fmt.Printf("%-16s %s\n", id, id.Description())
	}
	// Output:
	// personal         personal data: names, identification numbers, contact details
	// special-category sensitive personal data: health, biometric, genetic, etc.
	// trade-secret     corporate and commercial secrets
	// law-enforcement  criminal investigation material
	// intelligence     intelligence / national-security material
	// other            none of the above
}

func ExampleParse() {
	id, err := Parse("law-enforcement")
	fmt.Println(id, err)
	_, err = Parse("pii")
	fmt.Println(err)
	fmt.Println(errors.Is(err, ErrUnknown))
	// Output:
	// law-enforcement <nil>
	// category: unknown category "pii" (known: personal, special-category, trade-secret, law-enforcement, intelligence, other)
	// true
}

func ExampleParseList() {
	ids, err := ParseList("law-enforcement, personal,law-enforcement")
	fmt.Println(ids, err)
	// Output:
	// [personal law-enforcement] <nil>
}

func ExampleSort() {
	fmt.Println(Sort([]ID{Other, TradeSecret, Personal, TradeSecret}))
	// Output:
	// [personal trade-secret other]
}
