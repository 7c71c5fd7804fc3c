// Package canon encodes dossier's JSON documents in one canonical form and
// parses them strictly: a document is accepted only if re-encoding what was
// parsed gives back the very same bytes.
//
// The re-encoding test rejects, without further code, duplicate keys,
// keys that differ only by case, unknown fields, invalid UTF-8, needless
// escapes, other key orders, other whitespace and trailing data.
package canon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// ErrNotCanonical is wrapped by [Unmarshal] when the input is valid JSON but
// not in canonical form.
var ErrNotCanonical = errors.New("canon: not in canonical form")

// Marshal returns the compact canonical encoding of v followed by one
// newline. HTML characters are not escaped.
func Marshal(v any) ([]byte, error) {
	return encode(v, "")
}

// MarshalIndent returns the canonical encoding of v indented by two spaces
// and followed by one newline, for documents that people read (cards).
func MarshalIndent(v any) ([]byte, error) {
	return encode(v, "  ")
}

func encode(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("canon: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Unmarshal parses data into v (a pointer to a struct) and checks that data
// is exactly the encoding [Marshal] (indented = false) or [MarshalIndent]
// (indented = true) gives for the parsed value.
//
// Documents can hold a file list of many megabytes, so the check copies
// data as little as encoding/json allows: json.Unmarshal reads it in place
// (a json.Decoder would copy it), and the re-encoding, which the encoder
// builds in its own buffer, is compared from there instead of being copied
// into another. An unknown field, which the comparison also catches, is
// named by a strict second decoding on that failure path only.
func Unmarshal(data []byte, v any, indented bool) error {
	return unmarshal(data, v, indented, nil)
}

// UnmarshalEncoded is [Unmarshal] (compact form) for a value whose
// canonical encoding encode writes piecewise, for documents too large to
// re-encode in one buffer: encode must write exactly what [Marshal] gives
// for v. Only the comparison differs; the errors are Unmarshal's.
func UnmarshalEncoded(data []byte, v any, encode func(io.Writer) error) error {
	return unmarshal(data, v, false, encode)
}

// unmarshal is Unmarshal, comparing with what encode writes if it is set.
func unmarshal(data []byte, v any, indented bool, encode func(io.Writer) error) error {
	if err := json.Unmarshal(data, v); err != nil {
		// One value followed by more is not canonical rather than
		// malformed: say so, as the comparison would.
		first, serr := decodeStrictly(data, v)
		if serr != nil {
			return fmt.Errorf("canon: %w", serr)
		}
		return notCanonical(first, data, indented)
	}
	if encode == nil {
		return notCanonical(v, data, indented)
	}
	cw := &compareWriter{want: data, diff: -1}
	if err := encode(cw); err != nil {
		return fmt.Errorf("canon: encode: %w", err)
	}
	return cw.result(data, v)
}

// Matches reports whether encode writes exactly data. It stops encode at
// the first byte that differs.
func Matches(data []byte, encode func(io.Writer) error) bool {
	cw := &compareWriter{want: data, diff: -1, stop: true}
	return encode(cw) == nil && cw.diff < 0 && cw.off == len(data)
}

var errDiffers = errors.New("canon: differs")

// notCanonical re-encodes v and compares the encoding with data as it is
// written. It returns nil if they are the same, else an error naming the
// first byte that differs (an unknown field, which is one cause, is named
// by a strict second decoding, on this failure path only).
func notCanonical(v any, data []byte, indented bool) error {
	cw := &compareWriter{want: data, diff: -1}
	enc := json.NewEncoder(cw)
	enc.SetEscapeHTML(false)
	if indented {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("canon: encode: %w", err)
	}
	return cw.result(data, v)
}

// result is nil if everything written matched data, else the error that
// names why the data are not canonical.
func (w *compareWriter) result(data []byte, v any) error {
	if w.diff < 0 && w.off == len(data) {
		return nil
	}
	if _, err := decodeStrictly(data, v); err != nil {
		return fmt.Errorf("canon: %w", err)
	}
	at := w.diff
	if at < 0 {
		at = min(w.off, len(data))
	}
	return fmt.Errorf("%w (first difference at byte %d)", ErrNotCanonical, at)
}

// decodeStrictly decodes the first JSON value in data into a new value of
// v's type, refusing unknown fields. It is used only to explain a failure.
func decodeStrictly(data []byte, v any) (any, error) {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil, &json.InvalidUnmarshalError{Type: t}
	}
	fresh := reflect.New(t.Elem()).Interface()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(fresh); err != nil {
		return nil, err
	}
	return fresh, nil
}

// compareWriter compares what is written to it with want, remembering the
// offset of the first difference (-1 while there is none). If stop is set,
// the write that holds the first difference fails.
type compareWriter struct {
	want []byte
	off  int
	diff int
	stop bool
}

func (w *compareWriter) Write(p []byte) (int, error) {
	if w.diff < 0 {
		rest := w.want[min(w.off, len(w.want)):]
		if i := firstDiff(p, rest); i < len(p) {
			w.diff = w.off + i
			if w.stop {
				return 0, errDiffers
			}
		}
	}
	w.off += len(p)
	return len(p), nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
