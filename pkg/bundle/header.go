package bundle

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// Caps on the age header, applied before anything is allocated for it.
const (
	maxHeaderSize   = 1 << 20
	maxHeaderLine   = 16 << 10
	maxStanzas      = 1024
	ageIntro        = "age-encryption.org/v1\n"
	ageArmorHeader  = "-----BEGIN AGE ENCRYPTED FILE-----"
	stanzaLinePrefx = "-> "
	macLinePrefix   = "--- "
)

// readAgeHeader reads the age header (from the version line through the MAC
// line, newline included) from br without reading past it. The header is
// parsed again by age itself; this scan only finds its end, under caps.
func readAgeHeader(br *bufio.Reader) ([]byte, error) {
	var hdr bytes.Buffer
	stanzas := 0
	for lineNo := 0; ; lineNo++ {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				if lineNo == 0 && hdr.Len() == 0 && len(line) == 0 {
					return nil, integrity("the bundle is empty")
				}
				return nil, integrity("the bundle ends inside its age header (truncated?)")
			}
			return nil, err
		}
		hdr.Write(line)
		if hdr.Len() > maxHeaderSize {
			return nil, integrity("the age header is larger than %d bytes", maxHeaderSize)
		}
		switch {
		case lineNo == 0:
			if string(line) != ageIntro {
				return nil, integrity("not a dossier bundle: it does not start like an age file")
			}
		case bytes.HasPrefix(line, []byte(macLinePrefix)):
			return hdr.Bytes(), nil
		case bytes.HasPrefix(line, []byte(stanzaLinePrefx)):
			stanzas++
			if stanzas > maxStanzas {
				return nil, integrity("the age header has more than %d recipient stanzas", maxStanzas)
			}
		}
	}
}

// countStanzas returns the number of recipient stanzas in the age header
// hdr: one for each recipient the bundle was encrypted to.
func countStanzas(hdr []byte) int {
	n := 0
	for line := range bytes.Lines(hdr) {
		if bytes.HasPrefix(line, []byte(stanzaLinePrefx)) {
			n++
		}
	}
	return n
}

// readLine reads one '\n'-terminated line of at most maxHeaderLine bytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxHeaderLine {
			return nil, integrity("an age header line is longer than %d bytes", maxHeaderLine)
		}
		if err == nil {
			return line, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return line, io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read bundle: %w", err)
	}
}

// headerHash is the SHA-256 of the exact age header bytes, as bound by the
// preamble and manifest.
func headerHash(hdr []byte) [32]byte { return sha256.Sum256(hdr) }

// headerCapture passes writes through to w and keeps a copy of the first
// bytes written, so that the age header written by age.Encrypt can be
// hashed.
type headerCapture struct {
	w    io.Writer
	buf  bytes.Buffer
	keep bool
}

func (h *headerCapture) Write(p []byte) (int, error) {
	if h.keep {
		h.buf.Write(p)
	}
	return h.w.Write(p)
}
