package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dossier-evidence/dossier/pkg/internal/canon"
)

// ErrNoEntry is returned by [ParseManifestEntry] when the manifest lists no
// file at the requested path.
var ErrNoEntry = errors.New("no such file in the manifest")

// splitList splits a canonical document whose last field is its file list
// into head, the document as it would be with a null list (a new buffer),
// and list, the list from "[" through "]", and returns where the list's key
// starts. at is -1 if there is no "files" key; list is nil if the document
// does not end with the list.
func splitList(data []byte) (head, list []byte, at int) {
	at = bytes.Index(data, filesKey)
	if at < 0 {
		return nil, nil, -1
	}
	list = data[at+len(filesKey)-1:] // from "["
	if !bytes.HasSuffix(list, []byte(listEnd)) {
		return nil, nil, at
	}
	list = list[:len(list)-len(listEnd)+1] // through "]"
	head = make([]byte, 0, at+len(nullFiles))
	head = append(append(head, data[:at]...), nullFiles...)
	return head, list, at
}

// ParseManifestEntry is the part of [ParseManifest] that extracting one
// file needs. It is meant for a signed manifest, and is safe on any input
// (it is fuzzed; extract runs it while the signature is being checked),
// but only the signature makes what it returns trustworthy. It parses and checks every field but the file list, strictly, and finds and
// checks the one entry for path, strictly (canonical encoding, path, mode,
// time, categories, hash, offset, size within the total). It does not
// decode or check the other entries, so its cost barely grows with the
// number of files; a manifest it accepts may still be one that
// ParseManifest refuses for another entry (a collision, a malformed
// field), which only a signer can cause. The returned manifest has no
// Files. If no entry has that path, it returns the manifest and an error
// wrapping ErrNoEntry; if more than one has, an error wrapping ErrInvalid.
func ParseManifestEntry(data []byte, path string) (*Manifest, File, error) {
	var f File
	if len(data) > MaxDocumentSize {
		return nil, f, fmt.Errorf("%w: manifest larger than %d bytes", ErrInvalid, MaxDocumentSize)
	}
	head, list, at := splitList(data)
	if at < 0 {
		return nil, f, fmt.Errorf("%w: manifest: no file list", ErrInvalid)
	}
	if list == nil {
		return nil, f, fmt.Errorf("%w: manifest: %v (the file list is not its last field)", ErrInvalid, canon.ErrNotCanonical)
	}

	// The header is checked as the manifest it would be with a null list.
	m := new(Manifest)
	if err := canon.Unmarshal(head, m, false); err != nil {
		return nil, f, fmt.Errorf("%w: manifest: %v", ErrInvalid, err)
	}
	if err := m.checkHeader(); err != nil {
		return nil, f, err
	}

	name, err := canon.Marshal(path)
	if err != nil {
		return nil, f, err
	}
	// Every canonical entry starts with its path, then its size.
	needle := append(append([]byte(`{"path":`), bytes.TrimSuffix(name, []byte("\n"))...), `,"size":`...)
	start := -1
	for off := 0; ; {
		i := bytes.Index(list[off:], needle)
		if i < 0 {
			break
		}
		i += off
		if list[i-1] != '[' && list[i-1] != ',' {
			return nil, f, fmt.Errorf("%w: manifest: malformed file list at byte %d", ErrInvalid, at+i)
		}
		if start >= 0 {
			return nil, f, fmt.Errorf("%w: %q is listed twice", ErrInvalid, path)
		}
		start = i
		off = i + len(needle)
	}
	if start < 0 {
		return m, f, fmt.Errorf("%w: %q", ErrNoEntry, path)
	}
	dec := json.NewDecoder(bytes.NewReader(list[start:]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, f, fmt.Errorf("%w: manifest entry %q: %v", ErrInvalid, path, err)
	}
	stop := start + int(dec.InputOffset())
	if stop >= len(list) || (list[stop] != ',' && list[stop] != ']') {
		return nil, f, fmt.Errorf("%w: manifest: malformed file list after %q", ErrInvalid, path)
	}
	enc, err := canon.Marshal(&f)
	if err != nil {
		return nil, f, err
	}
	if !bytes.Equal(bytes.TrimSuffix(enc, []byte("\n")), list[start:stop]) {
		return nil, f, fmt.Errorf("%w: manifest entry %q: %v", ErrInvalid, path, canon.ErrNotCanonical)
	}
	if err := f.check(true); err != nil {
		return nil, f, err
	}
	if f.Size > m.TotalSize {
		return nil, f, fmt.Errorf("%w: %q is larger than the bundle's total size", ErrInvalid, path)
	}
	return m, f, nil
}
