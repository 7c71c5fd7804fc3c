package bundle

import (
	"bytes"
	"fmt"
	"io"
)

// RandomAccess is implemented by an input to [Verify], [Open] and
// [Inspect] that can also be read at random: a bundle in files, not a
// pipe. The reader given to them stays the one every byte is read from,
// once and in order (it may hash the bundle and check its seals as it
// goes); ReaderAt is used only for the few bytes age's random-access
// decrypter reads ahead of that (the last chunk, first), and those are
// compared with the in-order bytes when the reader reaches them.
//
// age's random-access decrypter decrypts each chunk in place, where its
// stream decrypter allocates every 64 KiB chunk anew and copies it once
// more: reading the mixed benchmark bundle, about twice as fast and a
// fourteenth of the garbage.
type RandomAccess interface {
	// RandomAccess returns the bundle's bytes at random and their number,
	// or ok false if the input cannot be read so.
	RandomAccess() (ra io.ReaderAt, size int64, ok bool)
}

// errChanged reports an input whose bytes read ahead differ from the same
// bytes read in order, or whose length is not the one it stated. It is an
// integrity failure: what was decrypted may not be what was hashed.
var errChanged error = changedError{}

type changedError struct{}

func (changedError) Error() string {
	return "the bundle changed while it was being read (a file written to, or a failing disk or stick): read it again"
}

// IntegrityFailure marks the error as a verdict on the bundle's bytes,
// which read reports in place of the error age or the decompressor gave.
func (changedError) IntegrityFailure() bool { return true }

// Is makes the error match ErrIntegrity.
func (changedError) Is(target error) bool { return target == ErrIntegrity }

// aheadSpan is a read served ahead of the in-order position, to be
// compared when the in-order reads pass it.
type aheadSpan struct {
	off  int64
	data []byte
}

// maxAhead bounds what inOrderReaderAt serves ahead of the in-order
// position: age reads ahead only its last chunk (64 KiB and its tag).
const maxAhead = 1 << 20

// inOrderReaderAt gives age's random-access decrypter the bundle while
// reading every byte from r exactly once, in order. A read at the
// in-order position is served from r; a read behind it from the bytes
// kept; a read ahead of it from ra, and those bytes are checked when r
// reaches them. finish reads r to its end and reports any difference,
// and a length other than size.
//
// Every byte is kept while the age header is parsed (twice: by dossier,
// to hash it, and by age), then keepFrom keeps only those from the
// payload's start that were read with the header: age reads its first
// chunk from there, and every later chunk in order, with no re-reads.
type inOrderReaderAt struct {
	r       io.Reader
	ra      io.ReaderAt
	size    int64
	pos     int64  // bytes read from r
	keptAt  int64  // kept holds r's bytes [keptAt, keptAt+len(kept))
	kept    []byte //
	keepAll bool   // keep every byte read (until keepFrom)
	ahead   []aheadSpan
	nAhead  int
	err     error // sticky: a difference, or r's error
	// fail, if set, is told of errChanged when it is found and of ra's
	// errors: the read reports its source's failure in place of what age
	// and the decompressor make of it (errChanged as an integrity
	// failure, a failing disk as a read error).
	fail func(error)
}

func newInOrderReaderAt(r io.Reader, ra io.ReaderAt, size int64) *inOrderReaderAt {
	return &inOrderReaderAt{r: r, ra: ra, size: size, keepAll: true}
}

// setChanged records errChanged as the sticky error.
func (a *inOrderReaderAt) setChanged() {
	a.err = errChanged
	if a.fail != nil {
		a.fail(errChanged)
	}
}

// keepFrom stops keeping the bytes read: of those kept, only the ones
// from off on stay.
func (a *inOrderReaderAt) keepFrom(off int64) {
	a.keepAll = false
	drop := min(max(off-a.keptAt, 0), int64(len(a.kept)))
	a.kept = bytes.Clone(a.kept[drop:])
	a.keptAt += drop
}

// ReadAt implements io.ReaderAt.
func (a *inOrderReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		if a.err != nil {
			return n, a.err
		}
		at := off + int64(n)
		if at >= a.size {
			return n, io.EOF
		}
		want := min(int64(len(p)-n), a.size-at)
		switch {
		case at < a.pos && (at < a.keptAt || at >= a.keptAt+int64(len(a.kept))):
			return n, fmt.Errorf("read bundle: offset %d was read already and not kept", at)
		case at < a.pos:
			n += copy(p[n:n+int(want)], a.kept[at-a.keptAt:])
		case at == a.pos:
			k, err := io.ReadFull(a.r, p[n:n+int(want)])
			a.consume(p[n : n+k])
			n += k
			if a.err != nil {
				return n, a.err
			}
			if err != nil {
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					a.setChanged() // shorter than it said
					return n, a.err
				}
				a.err = err
				return n, err
			}
		default:
			if a.nAhead+int(want) > maxAhead {
				return n, fmt.Errorf("read bundle: more than %d bytes read ahead", maxAhead)
			}
			k, err := a.ra.ReadAt(p[n:n+int(want)], at)
			if k > 0 {
				a.ahead = append(a.ahead, aheadSpan{off: at, data: bytes.Clone(p[n : n+k])})
				a.nAhead += k
			}
			n += k
			switch {
			case err == io.EOF && k == int(want):
			case err == io.EOF:
				return n, io.ErrUnexpectedEOF // the file is shorter than it was
			case err != nil:
				if a.fail != nil {
					a.fail(err)
				}
				return n, err
			case k == 0:
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

// consume records b, just read from r at pos, and checks it against the
// bytes read ahead that it covers.
func (a *inOrderReaderAt) consume(b []byte) {
	for _, s := range a.ahead {
		lo, hi := max(s.off, a.pos), min(s.off+int64(len(s.data)), a.pos+int64(len(b)))
		if lo < hi && !bytes.Equal(s.data[lo-s.off:hi-s.off], b[lo-a.pos:hi-a.pos]) {
			a.setChanged()
		}
	}
	a.pos += int64(len(b))
	if a.keepAll {
		a.kept = append(a.kept, b...)
	}
}

// finish reads the rest of r, checking it as it goes, and reports a
// difference from what was read ahead or a length other than size.
func (a *inOrderReaderAt) finish() error {
	buf := make([]byte, 64<<10)
	for a.err == nil {
		k, err := a.r.Read(buf)
		if a.pos+int64(k) > a.size {
			a.setChanged() // longer than it said
			break
		}
		a.consume(buf[:k])
		if err == io.EOF {
			break
		}
		if err != nil {
			a.err = err
		}
	}
	if a.err == nil && a.pos != a.size {
		a.setChanged()
	}
	return a.err
}
