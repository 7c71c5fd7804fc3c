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
func Unmarshal(data []byte, v any, indented bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("canon: %w", err)
	}
	again, err := encode(v, map[bool]string{false: "", true: "  "}[indented])
	if err != nil {
		return err
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("%w (first difference at byte %d)", ErrNotCanonical, firstDiff(again, data))
	}
	return nil
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
