// Package spool keeps a stream of bytes that is written once and read
// back any number of times in a temporary file instead of in memory,
// encrypted to a key that lives only in the process (age, to an X25519
// identity made for the spool): a list of a million files to pack takes
// some 100 MB held, and the names of evidence must not lie on a disk in
// the clear. The file has no name while it is used where the system
// allows it (removed at once on Unix, deleted on close by Windows), so a
// process that is killed leaves nothing behind.
package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
)

// Spool is an encrypted temporary stream: written through Write until
// Finish, then read from its start by each Reader.
type Spool struct {
	f        *os.File
	name     string // the file's name, if it still has one
	id       *age.X25519Identity
	enc      io.WriteCloser
	buf      *bufio.Writer
	size     int64 // the file's size once finished
	finished bool
	err      error
}

// New makes a spool in a temporary file in dir (the system's temporary
// folder if dir is "").
func New(dir string) (*Spool, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("spool: key: %w", err)
	}
	f, name, err := createUnnamed(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{f: f, name: name, id: id}
	if s.enc, err = age.Encrypt(f, id.Recipient()); err != nil {
		s.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	s.buf = bufio.NewWriterSize(s.enc, 64<<10)
	return s, nil
}

// Write adds p to the spool. It fails once the spool is finished.
func (s *Spool) Write(p []byte) (int, error) {
	if s.finished {
		return 0, errors.New("spool: write after Finish")
	}
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.buf.Write(p)
	if err != nil {
		s.err = fmt.Errorf("spool: %w", err)
		return n, s.err
	}
	return n, nil
}

// Finish ends writing; the spool can then be read.
func (s *Spool) Finish() error {
	if s.finished {
		return s.err
	}
	s.finished = true
	if s.err != nil {
		return s.err
	}
	if err := s.buf.Flush(); err != nil {
		s.err = fmt.Errorf("spool: %w", err)
		return s.err
	}
	if err := s.enc.Close(); err != nil {
		s.err = fmt.Errorf("spool: %w", err)
		return s.err
	}
	s.buf, s.enc = nil, nil // their buffers are not needed again
	st, err := s.f.Stat()
	if err != nil {
		s.err = fmt.Errorf("spool: %w", err)
		return s.err
	}
	s.size = st.Size()
	return nil
}

// Reader returns a reader of everything written, from its start. Each
// reader is independent; a byte changed on disk is an error, never read.
func (s *Spool) Reader() (*bufio.Reader, error) {
	if !s.finished {
		return nil, errors.New("spool: read before Finish")
	}
	if s.f == nil {
		return nil, errors.New("spool: read after Close")
	}
	if s.err != nil {
		return nil, s.err
	}
	r, err := age.Decrypt(io.NewSectionReader(s.f, 0, s.size), s.id)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return bufio.NewReaderSize(readError{r}, 64<<10), nil
}

// readError says that an error reading the spool is the spool's.
type readError struct{ r io.Reader }

func (r readError) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("spool: %w", err)
	}
	return n, err
}

// Close removes the spool. It may be called more than once.
func (s *Spool) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if s.name != "" {
		if rerr := os.Remove(s.name); rerr != nil && err == nil {
			err = rerr
		}
		s.name = ""
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}
