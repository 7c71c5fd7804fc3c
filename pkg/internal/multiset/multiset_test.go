package multiset

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func sumOf(x *Hasher, records [][]string) *Sum {
	var s Sum
	for _, r := range records {
		parts := make([][]byte, len(r))
		for i, p := range r {
			parts[i] = []byte(p)
		}
		x.Add(&s, parts...)
	}
	return &s
}

// Equal multisets in any order have equal sums; a record changed, left
// out, added, given twice instead of once, or split differently into
// parts does not.
func TestEqual(t *testing.T) {
	x := NewHasher()
	var recs [][]string
	for i := range 1000 {
		recs = append(recs, []string{fmt.Sprintf("case/file-%04d.txt", i), fmt.Sprint(i * 7)})
	}
	want := sumOf(x, recs)
	shuffled := append([][]string(nil), recs...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if got := sumOf(x, shuffled); !got.Equal(want) || got.Len() != 1000 {
		t.Fatal("the same records in another order differ")
	}
	for name, edit := range map[string]func([][]string) [][]string{
		"changed":  func(r [][]string) [][]string { r[5] = []string{r[5][0], "8"}; return r },
		"left out": func(r [][]string) [][]string { return r[1:] },
		"added":    func(r [][]string) [][]string { return append(r, []string{"x", "1"}) },
		"twice":    func(r [][]string) [][]string { r[3] = r[4]; return r },
		"split":    func(r [][]string) [][]string { r[0] = []string{r[0][0][:4], r[0][0][4:] + r[0][1]}; return r },
		"swapped":  func(r [][]string) [][]string { r[0] = []string{r[0][1], r[0][0]}; return r },
	} {
		r := edit(append([][]string(nil), recs...))
		if sumOf(x, r).Equal(want) {
			t.Errorf("%s: the sums are equal", name)
		}
	}
	// Another key, another sum.
	if sumOf(NewHasher(), recs).Equal(want) {
		t.Error("two keys gave one sum")
	}
}
