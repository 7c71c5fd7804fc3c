package textarena

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// Strings cut from an Arena keep their text while later ones fill the
// block and the next, and share blocks.
func TestArena(t *testing.T) {
	var a Arena
	var want, got []string
	for i := range 5000 {
		s := strings.Repeat(string(rune('a'+i%26)), i%40) + fmt.Sprint(i)
		want = append(want, s)
		if i%2 == 0 {
			got = append(got, a.Bytes([]byte(s)))
		} else {
			got = append(got, a.String(s))
		}
	}
	long := strings.Repeat("x", BlockSize/8+1)
	want, got = append(want, long, long), append(got, a.Bytes([]byte(long)), a.String(long))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("text %d is %q, want %q", i, got[i], want[i])
		}
	}
	if next := unsafe.Add(unsafe.Pointer(unsafe.StringData(got[0])), len(got[0])); unsafe.Pointer(unsafe.StringData(got[1])) != next {
		t.Error("consecutive texts do not share a block")
	}
	if unsafe.StringData(got[len(got)-1]) == unsafe.StringData(long) {
		t.Error("String of a long text returned the text itself, not a copy")
	}
}
