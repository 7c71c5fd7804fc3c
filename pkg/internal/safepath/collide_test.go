package safepath

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

func TestCollisions(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		want  [][2]string // nil: no collision
	}{
		{"none", nil, nil},
		{"empty slice", []string{}, nil},
		{"single", []string{"a"}, nil},
		{"distinct", []string{"a", "b", "c/d", "c/e", "ab", "a.b", "a b"}, nil},
		{"shared folder is fine", []string{"dir/a", "dir/b", "dir/sub/c"}, nil},
		{"folder in two cases", []string{"dir/a", "DIR/b"}, [][2]string{{"dir/a", "DIR/b"}}},
		{"reviewer's case", []string{"case/A/x", "case/a/y"}, [][2]string{{"case/A/x", "case/a/y"}}},
		{"deep folder in two cases", []string{"x/Sub/y/a", "x/sub/y/b", "x/SUB/c"}, [][2]string{{"x/Sub/y/a", "x/sub/y/b"}, {"x/Sub/y/a", "x/SUB/c"}}},
		{"folder nfc and nfd", []string{"café/a", "cafe\u0301/b"}, [][2]string{{"café/a", "cafe\u0301/b"}}},
		{"folder in the same case is fine", []string{"Dir/a", "Dir/b", "Dir/Sub/c", "Dir/Sub/d"}, nil},
		{"prefix is not a folder", []string{"ab", "a/b", "abc/d"}, nil},
		{"duplicate", []string{"a/b", "x", "a/b"}, [][2]string{{"a/b", "a/b"}}},
		{"triple duplicate", []string{"a", "a", "a"}, [][2]string{{"a", "a"}, {"a", "a"}}},
		{"case", []string{"Report.pdf", "report.PDF"}, [][2]string{{"Report.pdf", "report.PDF"}}},
		{"case in folder", []string{"Case/a", "case/A"}, [][2]string{{"Case/a", "case/A"}}},
		{"case three ways", []string{"a", "A", "a"}, [][2]string{{"a", "A"}, {"a", "a"}}},
		{"sharp s", []string{"straße", "STRASSE"}, [][2]string{{"straße", "STRASSE"}}},
		{"greek sigma", []string{"ΟΔΟΣ", "οδος", "οδοσ"}, [][2]string{{"ΟΔΟΣ", "οδος"}, {"ΟΔΟΣ", "οδοσ"}}},
		{"kelvin sign", []string{"\u212a", "k"}, [][2]string{{"\u212a", "k"}}},
		{"nfc nfd", []string{"café", "cafe\u0301"}, [][2]string{{"café", "cafe\u0301"}}},
		{"nfd and upper nfc", []string{"cafe\u0301", "CAFÉ"}, [][2]string{{"cafe\u0301", "CAFÉ"}}},
		{"file and folder", []string{"a", "a/b"}, [][2]string{{"a", "a/b"}}},
		{"folder before file", []string{"a/b/c", "a/b"}, [][2]string{{"a/b", "a/b/c"}}},
		{"file and deep folder", []string{"a", "a/b/c/d"}, [][2]string{{"a", "a/b/c/d"}}},
		{"file and folder case", []string{"A", "a/b"}, [][2]string{{"A", "a/b"}}},
		{"file and folder nfd", []string{"e\u0301", "é/x"}, [][2]string{{"e\u0301", "é/x"}}},
		{"two levels", []string{"a", "a/b", "a/b/c"}, [][2]string{{"a", "a/b"}, {"a", "a/b/c"}, {"a/b", "a/b/c"}}},
		{"same name then file/folder", []string{"x", "X", "x/y"}, [][2]string{{"x", "X"}, {"x", "x/y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CollisionsOrSpellings(tt.paths)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Collisions(%q) = %v, want nil", tt.paths, err)
				}
				return
			}
			var ce *CollisionError
			if !errors.As(err, &ce) {
				t.Fatalf("Collisions(%q) = %v, want *CollisionError", tt.paths, err)
			}
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("error does not match ErrUnsafe")
			}
			if fmt.Sprint(ce.Pairs) != fmt.Sprint(tt.want) {
				t.Errorf("Collisions(%q) pairs = %q, want %q", tt.paths, ce.Pairs, tt.want)
			}
			if ce.More != 0 {
				t.Errorf("More = %d, want 0", ce.More)
			}
		})
	}
}

func TestCollisionErrorMessage(t *testing.T) {
	tests := []struct {
		paths []string
		want  string
	}{
		{[]string{"A", "a"}, `safepath: paths collide: "A" and "a" (same name when case is ignored)`},
		{[]string{"a", "a"}, `safepath: paths collide: "a" and "a" (duplicate path)`},
		{[]string{"é", "e\u0301"}, `safepath: paths collide: "\u00e9" and "e\u0301" (same name after Unicode normalization)`},
		{[]string{"a", "a/b"}, `safepath: paths collide: "a" and "a/b" (file is also a folder)`},
		{[]string{"A", "a/b"}, `safepath: paths collide: "A" and "a/b" (file is also a folder when case is ignored)`},
		{[]string{"A", "a", "b", "b/c"}, `safepath: paths collide: "A" and "a" (same name when case is ignored); "b" and "b/c" (file is also a folder)`},
		{[]string{"x\x1b", "X\x1b"}, `safepath: paths collide: "x\x1b" and "X\x1b" (same name when case is ignored)`},
		{[]string{"case/A/x", "case/a/y"}, `safepath: paths collide: "case/A/x" and "case/a/y" (same folder, spelled in two cases)`},
		{[]string{"é/x", "e\u0301/y"}, `safepath: paths collide: "\u00e9/x" and "e\u0301/y" (same folder, spelled two ways after Unicode normalization)`},
	}
	for _, tt := range tests {
		err := CollisionsOrSpellings(tt.paths)
		if err == nil {
			t.Errorf("Collisions(%q) = nil", tt.paths)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("Collisions(%q):\n got %s\nwant %s", tt.paths, got, tt.want)
		}
	}
}

func TestCollisionsLimit(t *testing.T) {
	var paths []string
	for i := range 25 {
		paths = append(paths, fmt.Sprintf("f%02d", i), fmt.Sprintf("F%02d", i))
	}
	err := Collisions(paths)
	var ce *CollisionError
	if !errors.As(err, &ce) {
		t.Fatalf("Collisions = %v, want *CollisionError", err)
	}
	if len(ce.Pairs) != maxPairs || ce.More != 15 {
		t.Fatalf("got %d pairs and %d more, want %d and 15", len(ce.Pairs), ce.More, maxPairs)
	}
	if ce.Pairs[0] != [2]string{"f00", "F00"} || ce.Pairs[9] != [2]string{"f09", "F09"} {
		t.Errorf("pairs not in input order: %q", ce.Pairs)
	}
	if !strings.HasSuffix(err.Error(), "; and 15 more") {
		t.Errorf("message does not count the rest: %s", err)
	}
}

func TestCollisionsLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	// Distinct paths plus one file that clashes with many folders. Speed
	// is measured by BenchmarkCollisions, not asserted here.
	const n = 100_000
	paths := make([]string, 0, n+1)
	clashes := 0
	for i := range n {
		paths = append(paths, fmt.Sprintf("case-%03d/sub-%02d/Ünïcode file %06d.jpg", i%997, i%31, i))
		if i%997 == 5 {
			clashes++
		}
	}
	paths = append(paths, "CASE-005")
	err := Collisions(paths)
	var ce *CollisionError
	if !errors.As(err, &ce) {
		t.Fatalf("Collisions = %v, want file/folder clash", err)
	}
	if len(ce.Pairs) != maxPairs || ce.More != clashes-maxPairs {
		t.Errorf("got %d pairs and %d more, want %d and %d", len(ce.Pairs), ce.More, maxPairs, clashes-maxPairs)
	}
	for _, p := range ce.Pairs {
		if p[0] != "CASE-005" || !strings.HasPrefix(p[1], "case-005/") {
			t.Errorf("unexpected pair %q", p)
		}
	}
}

func BenchmarkCollisions(b *testing.B) {
	paths := make([]string, 100_000)
	for i := range paths {
		paths[i] = fmt.Sprintf("case-%03d/sub-%02d/file %06d.jpg", i%997, i%31, i)
	}
	for b.Loop() {
		if err := Collisions(paths); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleCollisions() {
	err := Collisions([]string{
		"case/Report.pdf",
		"case/report.pdf",
		"case/photos",
		"case/photos/1.jpg",
		"case/notes.txt",
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, ErrUnsafe))
	// Output:
	// safepath: paths collide: "case/Report.pdf" and "case/report.pdf" (same name when case is ignored); "case/photos" and "case/photos/1.jpg" (file is also a folder)
	// true
}

// For ASCII paths the comparison keys are computed without the Unicode
// transforms; they must be exactly what the transforms give.
func TestASCIIKeysAreTheUnicodeOnes(t *testing.T) {
	key := foldKey(cases.Fold())
	var paths []string
	for c := range utf8.RuneSelf {
		paths = append(paths, "Ab"+string(rune(c))+"Z/x", string(rune(c)))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, 1+rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(utf8.RuneSelf))
		}
		paths = append(paths, string(b))
	}
	for _, p := range paths {
		want := norm.NFD.String(cases.Fold().String(norm.NFD.String(p)))
		if key(p) != want {
			t.Fatalf("key(%q) = %q, want %q", p, key(p), want)
		}
		if got := string(appendKey(nil, p, cases.Fold())); got != want {
			t.Fatalf("appendKey(%q) = %q, want %q", p, got, want)
		}
		if norm.NFC.String(p) != p {
			t.Fatalf("NFC changes ASCII %q", p)
		}
	}
}

// mayCollide, the one-map check Collisions runs first, finds a collision
// exactly when the full search finds a pair: otherwise Collisions would
// pass a list that collides.
func FuzzMayCollide(f *testing.F) {
	f.Add("a\nA\nb")
	f.Add("a/b\nA")
	f.Add("A\na/b")
	f.Add("stra\u00dfe\nSTRASSE")
	f.Add("caf\u00e9\ncafe\u0301")
	f.Add("x\ny/z\nz")
	f.Fuzz(func(t *testing.T, list string) {
		paths := strings.Split(list, "\n")
		fold := cases.Fold()
		for _, spellings := range []bool{false, true} {
			may, err := mayCollide(paths, fold, spellings), collisions(paths, foldKey(fold), spellings)
			if may != (err != nil) {
				t.Fatalf("mayCollide(%q, %v) = %v, but the full search says %v", paths, spellings, may, err)
			}
		}
	})
}

// randomPaths returns a list of 1 to most paths over an alphabet of
// letters that fold, normalize and nest into each other.
func randomPaths(rng *rand.Rand, most int) []string {
	parts := []string{"a", "A", "ss", "\u00df", "\u00e9", "e\u0301", "/", "b"}
	paths := make([]string, 1+rng.IntN(most))
	for i := range paths {
		for range 1 + rng.IntN(3) {
			paths[i] += parts[rng.IntN(len(parts))]
		}
	}
	return paths
}

// Random lists over an alphabet of letters that fold, normalize and nest
// into each other: mayCollide agrees with the full search on every one.
func TestMayCollideAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fold := cases.Fold()
	key := foldKey(fold)
	found := 0
	for range 20_000 {
		paths := randomPaths(rng, 4)
		for _, spellings := range []bool{true, false} {
			may, err := mayCollide(paths, fold, spellings), collisions(paths, key, spellings)
			if may != (err != nil) {
				t.Fatalf("mayCollide(%q, %v) = %v, but the full search says %v", paths, spellings, may, err)
			}
		}
		may := mayCollide(paths, fold, false)
		for _, p := range paths {
			// The formula written out, not foldKey, which uses appendKey.
			want := norm.NFD.String(cases.Fold().String(norm.NFD.String(p)))
			if got := string(appendKey(nil, p, fold)); got != want {
				t.Fatalf("appendKey(%q) = %q, want %q", p, got, want)
			}
		}
		if may {
			found++
		}
	}
	if found < 1000 || found > 19_000 {
		t.Fatalf("%d of 20,000 lists collide: the lists do not exercise both answers", found)
	}
}

// A folder spelled two ways is refused when packing only: readers accept
// it, as bundles made before the check may hold one (found by review: an
// older bundle, and the folder opened from it, no longer verified).
func TestReadersAcceptAFolderSpelledTwoWays(t *testing.T) {
	for _, paths := range [][]string{{"case/A/x", "case/a/y"}, {"dir/a", "DIR/b"}, {"caf\u00e9/a", "cafe\u0301/b"}} {
		if err := Collisions(paths); err != nil {
			t.Errorf("Collisions(%q) = %v, want nil", paths, err)
		}
		if err := CollisionsOrSpellings(paths); err == nil {
			t.Errorf("CollisionsOrSpellings(%q) = nil, want the folder pair", paths)
		}
	}
}

// A CollisionChecker refuses a path exactly when it collides with one
// added before it, as Collisions judges the list so far, with an error
// that matches ErrUnsafe and names it.
func TestCollisionChecker(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	refused := 0
	for range 5_000 {
		paths := randomPaths(rng, 5)
		c := NewCollisionChecker(0)
		for i, p := range paths {
			err := c.Add(p)
			want := Collisions(paths[:i+1])
			if (err != nil) != (want != nil) {
				t.Fatalf("Add(%q) after %q = %v; Collisions says %v", p, paths[:i], err, want)
			}
			if err != nil {
				if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), quote(p)) {
					t.Fatalf("Add(%q) = %v: not ErrUnsafe naming the path", p, err)
				}
				refused++
				break
			}
		}
	}
	if refused < 500 || refused > 4_500 {
		t.Fatalf("%d of 5,000 lists refused: the lists do not exercise both answers", refused)
	}
}

// A spelling checker refuses a path exactly when CollisionsOrSpellings
// refuses the list so far.
func TestSpellingChecker(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	refused, spelled := 0, 0
	for range 5_000 {
		paths := randomPaths(rng, 5)
		c := NewSpellingChecker(0)
		for i, p := range paths {
			err := c.Add(p)
			want := CollisionsOrSpellings(paths[:i+1])
			if (err != nil) != (want != nil) {
				t.Fatalf("Add(%q) after %q = %v; CollisionsOrSpellings says %v", p, paths[:i], err, want)
			}
			if err != nil {
				refused++
				if Collisions(paths[:i+1]) == nil {
					spelled++
				}
				break
			}
		}
	}
	if refused < 500 || refused > 4_500 || spelled == 0 {
		t.Fatalf("%d of 5,000 lists refused, %d for spelling alone: the lists do not exercise every answer", refused, spelled)
	}
}

// A CollisionChecker with a limit refuses the path that takes the
// folders past it, whatever came before, and counts folders as folding
// makes them one.
func TestCollisionCheckerFolderLimit(t *testing.T) {
	c := NewCollisionChecker(3)
	for _, p := range []string{"a/x", "A/y", "a/b/z", "c/d"} {
		if err := c.Add(p); err != nil {
			t.Fatalf("Add(%q) = %v", p, err)
		}
	}
	if c.Folders() != 3 {
		t.Fatalf("%d folders, want 3 (a, a/b, c)", c.Folders())
	}
	if err := c.Add("C/E/f"); !errors.Is(err, ErrTooManyFolders) {
		t.Fatalf("a fourth folder: %v, want ErrTooManyFolders", err)
	}
	list := []string{"a/x", "A/y", "a/b/z", "c/d", "C/E/f", "f"}
	if n := CountFolders(list); n != 4 {
		t.Fatalf("CountFolders = %d, want 4", n)
	}
	if err := CollisionsOrSpellingsWithin(list, 4); err == nil || errors.Is(err, ErrTooManyFolders) {
		t.Fatalf("within 4 folders: %v, want the folder a spelled two ways", err)
	}
	list[1], list[4] = "a/y", "c/E/f"
	if err := CollisionsOrSpellingsWithin(list, 4); err != nil {
		t.Fatalf("within 4 folders: %v", err)
	}
	if err := CollisionsOrSpellingsWithin(list, 3); !errors.Is(err, ErrTooManyFolders) {
		t.Fatalf("within 3 folders: %v, want ErrTooManyFolders", err)
	}
	// Memory follows the limit, not the paths: 20,000 paths of 64
	// components each, every folder new, keep at most the limit.
	c = NewCollisionChecker(1000)
	var err error
	for i := 0; i < 20_000 && err == nil; i++ {
		err = c.Add(fmt.Sprintf("u%d/%s", i, strings.Repeat("a/", 62)+"f"))
	}
	if !errors.Is(err, ErrTooManyFolders) || c.Folders() > 1000 {
		t.Fatalf("deep paths: %v with %d folders kept", err, c.Folders())
	}
}
