package custody

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The byte forms accept exactly what the regular expressions they replace
// accepted.
func TestByteFormsMatchTheirExpressions(t *testing.T) {
	forms := []struct {
		form byteForm
		re   *regexp.Regexp
	}{
		{actionForm, regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)},
		{outcomeForm, regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)},
		{bundleIDForm, regexp.MustCompile(`^[0-9A-Za-z._-]{1,128}$`)},
		{hex256Form, regexp.MustCompile(`^[0-9a-f]{64}$`)},
		{hex512Form, regexp.MustCompile(`^[0-9a-f]{128}$`)},
	}
	alphabet := "az09AZ-_.f g\n\x00é"
	r := rand.New(rand.NewPCG(1, 2))
	samples := []string{"", "a", "0", "-", "A", "a-", strings.Repeat("a", 32), strings.Repeat("a", 33),
		strings.Repeat("0", 64), strings.Repeat("0", 63), strings.Repeat("f", 128), strings.Repeat("f", 129), "a\n", "ab\x00"}
	for range 20000 {
		n := r.IntN(140)
		if r.IntN(2) == 0 {
			n = []int{0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129}[r.IntN(11)]
		}
		b := make([]byte, 0, n)
		for len(b) < n {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		samples = append(samples, string(b))
	}
	for _, f := range forms {
		// Every length near the bounds, of bytes the form allows, and
		// with one byte it does not.
		for n := 0; n <= f.form.max+2; n++ {
			b := []byte(strings.Repeat(f.form.rest[n%len(f.form.rest):n%len(f.form.rest)+1], n))
			if n > 0 && f.form.first != "" {
				b[0] = f.form.first[n%len(f.form.first)]
			}
			samples = append(samples, string(b))
			if n > 0 {
				b[r.IntN(n)] = "A~ \n"[r.IntN(4)]
				samples = append(samples, string(b))
			}
		}
		for _, s := range samples {
			if got, want := f.form.MatchString(s), f.re.MatchString(s); got != want {
				t.Fatalf("%s on %q: %v, the expression says %v", f.re, s, got, want)
			}
		}
	}
}
