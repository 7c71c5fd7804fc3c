package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
)

// The file list of a preamble or manifest can be tens of megabytes. Its
// canonical encoding is therefore written, and checked, one entry at a
// time: encoding/json would build the whole document in a buffer that
// grows by doubling (and then copy it), about three times the document's
// size at the moment memory peaks. The pieces are exactly what
// canon.Marshal gives for the whole document, because "files" is its last
// field and is never omitted; TestEncodingMatchesCanon holds them to it.

// preambleHeader is a Preamble without its file list.
type preambleHeader struct {
	Type            string     `json:"type"`
	Version         int        `json:"version"`
	BundleID        string     `json:"bundle_id"`
	Created         string     `json:"created"`
	Sender          *card.Card `json:"sender"`
	Recipients      []Party    `json:"recipients"`
	AgeHeaderSHA256 string     `json:"age_header_sha256"`
	Case            Case       `json:"case"`
	TotalSize       int64      `json:"total_size"`
}

// manifestHeader is a Manifest without its file list.
type manifestHeader struct {
	Type            string  `json:"type"`
	Version         int     `json:"version"`
	BundleID        string  `json:"bundle_id"`
	Created         string  `json:"created"`
	Sender          Party   `json:"sender"`
	Recipients      []Party `json:"recipients"`
	AgeHeaderSHA256 string  `json:"age_header_sha256"`
	PreambleSHA256  string  `json:"preamble_sha256"`
	Case            Case    `json:"case"`
	TotalSize       int64   `json:"total_size"`
}

func (p *Preamble) header() *preambleHeader {
	return &preambleHeader{Type: p.Type, Version: p.Version, BundleID: p.BundleID, Created: p.Created, Sender: p.Sender,
		Recipients: p.Recipients, AgeHeaderSHA256: p.AgeHeaderSHA256, Case: p.Case, TotalSize: p.TotalSize}
}

func (m *Manifest) header() *manifestHeader {
	return &manifestHeader{Type: m.Type, Version: m.Version, BundleID: m.BundleID, Created: m.Created, Sender: m.Sender,
		Recipients: m.Recipients, AgeHeaderSHA256: m.AgeHeaderSHA256, PreambleSHA256: m.PreambleSHA256,
		Case: m.Case, TotalSize: m.TotalSize}
}

// Marshal returns the canonical encoding.
func (p *Preamble) Marshal() ([]byte, error) {
	return marshalWithFiles(p.header(), p.Files)
}

// Marshal returns the canonical encoding.
func (m *Manifest) Marshal() ([]byte, error) {
	return marshalWithFiles(m.header(), m.Files)
}

// marshalWithFiles encodes a document into one buffer sized for it.
func marshalWithFiles(head any, files []File) ([]byte, error) {
	size := 4 << 10
	for i := range files {
		f := &files[i]
		size += 128 + len(f.Path) + len(f.SHA256) + 16*len(f.Categories)
	}
	var buf bytes.Buffer
	buf.Grow(size)
	if err := writeWithFiles(&buf, head, files); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeWithFiles writes the canonical encoding of a document whose last
// field is "files": head is the document without it, files the list.
func writeWithFiles(w io.Writer, head any, files []File) error {
	hb, err := canon.Marshal(head)
	if err != nil {
		return err
	}
	open, ok := bytes.CutSuffix(hb, []byte("}\n"))
	if !ok || len(open) < 2 {
		return errors.New("manifest: internal error: the header is not a JSON object")
	}
	if _, err := w.Write(open); err != nil {
		return err
	}
	if files == nil {
		_, err := io.WriteString(w, ",\"files\":null}\n")
		return err
	}
	if _, err := io.WriteString(w, `,"files":[`); err != nil {
		return err
	}
	var entry bytes.Buffer
	enc := json.NewEncoder(&entry)
	enc.SetEscapeHTML(false)
	for i := range files {
		entry.Reset()
		if i > 0 {
			entry.WriteByte(',')
		}
		if err := enc.Encode(&files[i]); err != nil {
			return err
		}
		if _, err := w.Write(entry.Bytes()[:entry.Len()-1]); err != nil { // without the newline
			return err
		}
	}
	_, err = io.WriteString(w, "]}\n")
	return err
}
