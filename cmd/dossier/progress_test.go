package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/schollz/progressbar/v3"
)

// The bar is plain text on every system: no ESC byte (colours, cursor
// movement, line clearing) reaches a console that might print it raw.
func TestProgressBarWritesNoEscapes(t *testing.T) {
	var out bytes.Buffer
	bar := progressbar.NewOptions64(3<<20, barOptions(&out, "packing")...)
	for done := int64(0); done <= 3<<20; done += 1 << 18 {
		if err := bar.Set64(done); err != nil {
			t.Fatal(err)
		}
	}
	if err := bar.Finish(); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "packing") || !strings.Contains(s, "\r") {
		t.Fatalf("the bar drew nothing recognisable: %q", s)
	}
	if strings.ContainsRune(s, '\x1b') {
		t.Fatalf("the bar wrote an escape sequence: %q", s)
	}
}
