package manifest

import (
	"reflect"
	"testing"
)

// The header types are their documents without the file list, field for
// field, so that the piecewise encoding is the document's.
func TestHeadersMirrorDocuments(t *testing.T) {
	for _, c := range []struct{ doc, head any }{{Preamble{}, preambleHeader{}}, {Manifest{}, manifestHeader{}}} {
		dt, ht := reflect.TypeOf(c.doc), reflect.TypeOf(c.head)
		if dt.NumField() != ht.NumField()+1 {
			t.Fatalf("%v has %d fields, %v %d: want one fewer", dt, dt.NumField(), ht, ht.NumField())
		}
		for i := range ht.NumField() {
			d, h := dt.Field(i), ht.Field(i)
			if d.Name != h.Name || d.Type != h.Type || d.Tag != h.Tag {
				t.Errorf("%v field %d is %s %v %q, %v has %s %v %q", dt, i, d.Name, d.Type, d.Tag, ht, h.Name, h.Type, h.Tag)
			}
		}
		last := dt.Field(dt.NumField() - 1)
		if last.Name != "Files" || last.Tag.Get("json") != "files" {
			t.Errorf("%v: the last field is %s %q, want Files `json:\"files\"` (never omitted)", dt, last.Name, last.Tag)
		}
	}
}
