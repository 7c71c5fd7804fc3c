package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"

	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/crypto/blake2b"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/asyncw"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/safepath"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// ReadOptions configure [Verify], [Open] and [Inspect].
type ReadOptions struct {
	// Identity decrypts the bundle; its card must be among the signed
	// recipients.
	Identity *identity.Identity
	// Sender is the card the bundle must be signed by. Verify and Open
	// require it; Inspect without it reports the claimed sender unconfirmed.
	Sender *card.Card
	// Progress, if set, is told about payload bytes read.
	Progress ProgressFunc
	// BundleID, if set, is the id the bundle must have (for example the
	// one its seal states).
	BundleID string
	// Proven, if set, is called once the preamble has been proven, before
	// any payload is read, with the number of files it lists (for example
	// to size buffers or memory limits by it). The read goes on to write
	// each file's SHA-256 and offset into this preamble's list as it
	// reads the file (see Result.Preamble): a callback that keeps it must
	// not read those fields concurrently, and they are confirmed only by
	// a read that succeeds. The same holds for Accept. (A format-3
	// preamble's list is not held by Verify and Open: see Result.)
	Proven func(pre *manifest.Preamble, files int)
	// Signed, if set, is called with the preamble's size in bytes once its
	// signature by Sender has been checked, before it is parsed (for
	// example to make room in a memory limit for parsing it: a preamble
	// of 100,000 files is about 20 MB and parses into about 60 MB).
	Signed func(size int)
	// Accept, if set, is called at the same point as Proven (before it);
	// an error it returns aborts the read before any payload is read or
	// written (for example to refuse a bundle already opened here).
	Accept func(*manifest.Preamble) error
}

// Result describes a bundle that was read.
type Result struct {
	// Preamble is the signed preamble (always set on success). After
	// Verify or Open, its files also carry the SHA-256 and offset that
	// were read and that the signed manifest confirms: Manifest.Files
	// shares them rather than holding a second copy of the list.
	//
	// Verify and Open of a format-3 bundle hold no file list: they check
	// the preamble and the manifest as they read them, keeping some 17
	// bytes a file. Their Preamble and Manifest then have no Files (nil);
	// FileCount and Categories describe the list, and an opened bag keeps
	// the signed manifest, with every file. Inspect always gives the
	// list.
	Preamble *manifest.Preamble
	// Manifest is the signed manifest (nil for Inspect).
	Manifest *manifest.Manifest
	// FileCount is the number of files the signed preamble lists.
	FileCount int
	// Categories totals the signed files per category, as
	// manifest.Summary does for a list.
	Categories []manifest.CategoryTotal
	// Streamed is true when the read held no file list (see Preamble).
	Streamed bool
	// ManifestSig is the manifest's signature file (nil for Inspect).
	ManifestSig []byte
	// ManifestBytes are the manifest's exact signed bytes, for a format-1
	// bundle only: a format-2 or 3 manifest is checked as it is read and
	// not kept (it is some 240 bytes a file). [Result.SignedManifest]
	// gives them for format 1 and 2.
	ManifestBytes []byte
	// ManifestSHA256 is the SHA-256 of the manifest's exact bytes (zero
	// for Inspect).
	ManifestSHA256 [32]byte
	// SenderConfirmed is true when the signature was checked against a
	// sender card the caller supplied, false when only against the card
	// the bundle carries (Inspect without a sender).
	SenderConfirmed bool
	// UnlistedRecipients is how many more recipients the bundle is
	// encrypted to (stanzas in its age header) than its signed recipient
	// list names: 0 for a bundle dossier packs. More means that someone
	// not named can decrypt it, which only the sender can have done (the
	// header is signed): not a fault of the bundle, but a leak to report.
	UnlistedRecipients int
	// UnreachableRecipients is how many fewer recipients the bundle is
	// encrypted to than its signed list names: 0 for a bundle dossier
	// packs. More means that some of those named cannot decrypt it,
	// though the list says they were sent it: only the sender can have
	// done that too. Stanzas are counted, not matched to the list (age
	// does not say whose a stanza is).
	UnreachableRecipients int
}

// SignedManifest returns a source of the signed manifest's exact bytes:
// those read, for format 1, or for format 2 the encoding of Manifest,
// which the read proved to be byte for byte the signed one, written a
// piece at a time (so it holds only while Manifest and Preamble.Files,
// which it shares, are left as the read returned them). It is nil for
// Inspect and for a read that held no list (Streamed).
func (r *Result) SignedManifest() io.WriterTo {
	switch {
	case r.Streamed:
		return nil // no list to encode it from
	case r.ManifestBytes != nil:
		return bytes.NewReader(r.ManifestBytes)
	case r.Manifest != nil:
		return r.Manifest
	}
	return nil
}

// Caps applied while reading, before the sender is proven.
const (
	maxPreambleEntry = manifest.MaxDocumentSize
	// perEntryOverhead bounds the tar bytes (header blocks, PAX records,
	// padding) around one file's data.
	perEntryOverhead = 8 << 10
)

// sink receives verified-in-order payload. create is called for each file
// in signed order; commit only after every check has passed.
type sink interface {
	create(f *manifest.File) (io.Writer, error)
	closeFile(f *manifest.File) error
	commit(ctx context.Context, res *Result) error
	abort()
}

// roomWriter is a sink's writer that lends the room for the data to be
// read into (space) and then takes what was read (written), instead of a
// copy of it. written fails as Write would.
type roomWriter interface {
	space() ([]byte, error)
	written(n int) error
}

// discardSink checks without writing anything.
type discardSink struct{}

func (discardSink) create(*manifest.File) (io.Writer, error) { return io.Discard, nil }
func (discardSink) closeFile(*manifest.File) error           { return nil }
func (discardSink) commit(context.Context, *Result) error    { return nil }
func (discardSink) abort()                                   {}

// Verify reads the whole bundle from r and checks everything Open checks:
// the sender's signatures, that this identity is a signed recipient, the
// age header binding, every entry against the signed list, every SHA-256,
// and the integrity of the whole age stream. It writes nothing.
func Verify(ctx context.Context, r io.Reader, opts ReadOptions) (*Result, error) {
	if opts.Sender == nil {
		return nil, errors.New("verify: the expected sender's card is required (--from)")
	}
	return read(ctx, r, opts, discardSink{}, false)
}

// Inspect reads and checks only the signed preamble: who sent the bundle,
// to whom, the case metadata and the file list with sizes and categories.
// It does not read the payload, so it proves neither the file hashes nor
// the integrity of the rest of the bundle; use Verify for that.
func Inspect(ctx context.Context, r io.Reader, opts ReadOptions) (*Result, error) {
	return read(ctx, r, opts, nil, true)
}

// srcReader remembers read errors of the underlying source, so that an I/O
// failure is not reported as tampering. It is safe for concurrent use: the
// decompressor's read-ahead may still be reading when read returns.
type srcReader struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (s *srcReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
	}
	return n, err
}

// fail records err as the source's failure, unless one is recorded.
func (s *srcReader) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *srcReader) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// limitCounter counts decompressed bytes consumed by the tar reader and
// refuses to go past limit: a trusted sender's bundle can never expand
// beyond what its preamble declared.
type limitCounter struct {
	r     io.Reader
	n     int64
	limit int64
}

var errExpansion = errors.New("the archive is larger than its signed preamble declares")

func (c *limitCounter) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, errExpansion
	}
	if int64(len(p)) > c.limit-c.n {
		p = p[:c.limit-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// reading is the state of one read of a bundle.
type reading struct {
	ctx  context.Context
	opts ReadOptions
	out  sink
	zr   *zframe.Reader
	lc   *limitCounter
	tr   *tar.Reader

	hdrHash [32]byte
	stanzas int // recipient stanzas in the age header
	pre     *manifest.Preamble
	preHash [32]byte // SHA-256 of the exact preamble bytes (not kept)
	preLen  int
	signer  *card.Card
	signKey *sign.PublicKey

	manOffset int64

	// A format-3 preamble read as a stream (streamed): what is kept of
	// each file instead of the list, to match the payload and the
	// manifest against it.
	streamed bool
	count    int
	tally    manifest.Tally
	tags     *entryTags
	fields   []uint64       // tags of each file's path, size, mode and time
	cats     []category.Set // each file's categories
	results  []uint64       // tags of each file's SHA-256 and offset, as read
}

func read(ctx context.Context, r io.Reader, opts ReadOptions, out sink, preambleOnly bool) (res *Result, err error) {
	if opts.Identity == nil {
		return nil, errors.New("read bundle: no identity given (-i)")
	}
	src := &srcReader{r: r}
	committed := false
	defer func() {
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				err = ctxErr
			} else if serr := src.failure(); serr != nil && !errors.Is(err, ErrNoIdentity) {
				// The source's own error explains the failure. A source
				// that checks what it reads (such as seals per volume)
				// marks its findings as integrity failures.
				var ig interface{ IntegrityFailure() bool }
				if errors.As(serr, &ig) && ig.IntegrityFailure() {
					err = serr
				} else {
					err = fmt.Errorf("read bundle: %w", serr)
				}
			}
			if out != nil && !committed {
				out.abort()
			}
		}
	}()

	plain, hdr, rest, err := decrypter(src, r, opts, !preambleOnly)
	if err != nil {
		return nil, err
	}
	zr, err := zframe.NewReader(plain, zframe.ReaderOptions{})
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	rd := &reading{ctx: ctx, opts: opts, out: out, zr: zr, hdrHash: headerHash(hdr), stanzas: countStanzas(hdr)}
	// Until the preamble is proven, the archive may expand only to what
	// its first two entries may hold, so that a stranger's chain of tar
	// headers (PAX or GNU long-name records, which archive/tar follows
	// within one Next) costs no more than a preamble would.
	rd.lc = &limitCounter{r: zr, limit: preambleCap(opts) + manifest.MaxSignatureLen + 4*perEntryOverhead}
	rd.tr = tar.NewReader(rd.lc)

	if err := rd.preamble(preambleOnly); err != nil {
		return nil, err
	}
	res = &Result{Preamble: rd.pre, SenderConfirmed: opts.Sender != nil, UnlistedRecipients: max(rd.stanzas-len(rd.pre.Recipients), 0),
		UnreachableRecipients: max(len(rd.pre.Recipients)-rd.stanzas, 0), FileCount: rd.count, Streamed: rd.streamed}
	if rd.streamed {
		res.Categories = rd.tally.Summary()
	} else {
		res.Categories = manifest.Summary(rd.pre.Files)
	}
	if preambleOnly {
		// Checked once more: a large preamble takes a moment to prove.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return res, nil
	}
	if rd.streamed {
		err = rd.streamedPayload()
	} else {
		err = rd.payload()
	}
	if err != nil {
		return nil, err
	}
	if err := rd.manifest(res); err != nil {
		return nil, err
	}
	if err := rd.end(rest, src); err != nil {
		return nil, err
	}
	// A cancellation that arrived during the last file must not publish.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The stream is read: its frame buffers (some 15 MB) can go before
	// open writes the bag.
	zr.Close()
	if err := out.commit(ctx, res); err != nil {
		return nil, err
	}
	committed = true
	return res, nil
}

// unprovenPreambleCap bounds the preamble read when no expected sender is
// given (inspect without --from): nothing proves who made it, so it gets
// less room than a signed one.
const unprovenPreambleCap = 16 << 20

// MaxPreamble is the largest preamble accepted (and written). It must be
// held in memory before its signature can be checked, so it is kept well
// below the manifest's limit: about 400,000 files with typical names.
const MaxPreamble = 64 << 20

// preamble reads and proves the signed preamble before any payload frame
// is decompressed. With an expected sender, the signature is checked over
// the exact bytes before they are parsed at all, so a stranger's bundle
// costs one signature check, whatever it declares; a format-3 preamble,
// whose signature covers the SHA-512 of its bytes, is parsed as it is
// read instead, and judged only once its signature is checked.
func (rd *reading) preamble(keepList bool) error {
	th, err := nextMetaEntry(rd.tr, PreambleName, MaxPreamble)
	if err != nil {
		return err
	}
	if limit := preambleCap(rd.opts); th.Size > limit {
		// Not damage: a genuine bundle of many files (some 165,000 of short names)
		// (found by an audit: it was refused as an integrity failure).
		return fmt.Errorf("%w: its preamble (the file list the sender signs) is %d bytes, more than the %d read before knowing who sent it; give the sender's card with --from CARD", ErrNeedsSender, th.Size, limit)
	}
	// The version is the document's second field, at a fixed place in
	// its canonical encoding.
	first := make([]byte, min(th.Size, int64(len(v3Prefix))))
	if _, err := io.ReadFull(rd.tr, first); err != nil {
		return shortEntry(err, PreambleName)
	}
	if string(first) == v3Prefix {
		return rd.streamedPreamble(th.Size, first, keepList)
	}
	preBytes := make([]byte, th.Size)
	copy(preBytes, first)
	if _, err := io.ReadFull(rd.tr, preBytes[len(first):]); err != nil {
		return shortEntry(err, PreambleName)
	}
	preSig, err := readMetaEntry(rd.tr, PreambleSigName, manifest.MaxSignatureLen)
	if err != nil {
		return err
	}
	if exp := rd.opts.Sender; exp != nil {
		key, err := exp.SigningKey()
		if err != nil {
			return err
		}
		if err := manifest.Verify(key, sign.ContextPreamble, preBytes, preSig); err != nil {
			if d := manifest.Digest(sha512.Sum512(preBytes)); manifest.VerifyPreambleDigest(key, &d, preSig) == nil {
				// Signed by the expected sender the format-3 way, but
				// not a format-3 preamble as written: not canonical, or
				// of another version.
				if _, err := manifest.ParsePreamble(preBytes); err != nil {
					return integrityWrap(err, "the bundle's preamble is invalid")
				}
				return integrity("the bundle's preamble is invalid: it is signed as format 3 but is not a format-3 preamble")
			}
			return wrongSenderError(preBytes, preSig, exp, err)
		}
		rd.signer, rd.signKey = exp, key
		if rd.opts.Signed != nil {
			rd.opts.Signed(len(preBytes))
		}
	}
	rd.preHash, rd.preLen = sha256.Sum256(preBytes), len(preBytes)
	var pre *manifest.Preamble
	if rd.signer == nil {
		// No expected sender: check against the card the bundle carries,
		// and report the sender as unconfirmed.
		if pre, err = manifest.ParsePreamble(preBytes); err != nil {
			return integrityWrap(err, "the bundle's preamble is invalid")
		}
		rd.signer = pre.Sender
		if rd.signKey, err = pre.Sender.SigningKey(); err != nil {
			return err
		}
		if err := manifest.Verify(rd.signKey, sign.ContextPreamble, preBytes, preSig); err != nil {
			return integrityWrap(err, "the preamble's signature by %s does not verify", quoteLabel(pre.Sender))
		}
	} else {
		// The bytes are not used after they are decoded, so the collector
		// may free them while ParsePreamble checks the list it made
		// (building the collision check's map): 22 MB at 148,890 files.
		if pre, err = manifest.ParsePreamble(preBytes); err != nil {
			return integrityWrap(err, "the bundle's preamble is invalid")
		}
	}
	if pre.Version == manifest.Version3 {
		// A format-3 preamble is always read as one (v3Prefix), and its
		// signature covers its digest, in its own context.
		return integrity("the bundle's preamble is invalid")
	}
	rd.count = len(pre.Files)
	return rd.proven(pre)
}

// v3Prefix is how every format-3 preamble begins.
const v3Prefix = `{"type":"dossier-preamble","version":3,`

// streamedPreamble reads a format-3 preamble of size bytes, whose first
// bytes were read already, as a stream: it hashes the bytes as a
// PreambleScanner parses them, keeping the head and, of each file, what
// the payload and the manifest are matched against (and the file itself
// if keepList), then checks the signature over the digest. Whatever the
// parse found is reported only after that, so that a stranger's bundle
// is refused as one whatever it holds.
func (rd *reading) streamedPreamble(size int64, first []byte, keepList bool) error {
	h512, h256 := sha512.New(), sha256.New()
	// The preamble is hashed by a goroutine of its own while this one
	// parses it: the other core is otherwise idle until the preamble is
	// proven.
	hashing := asyncw.NewHasher(h512, h256)
	defer hashing.Finish()
	body := io.TeeReader(io.MultiReader(bytes.NewReader(first), rd.tr), hashing)
	tags, err := newEntryTags()
	if err != nil {
		return err
	}
	rd.streamed, rd.tags = !keepList, tags
	ps := manifest.NewPreambleScanner(body)
	pre, parseErr := ps.Head()
	if parseErr == nil {
		if pre.Files == nil {
			parseErr = fmt.Errorf("%w: the file list is null; format 3 writes an empty list as []", manifest.ErrInvalid)
		} else {
			pre.Files = nil
			parseErr = rd.scanFiles(ps, pre, keepList)
		}
	}
	// Whatever stopped the parse, the digest covers every byte.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return shortEntry(err, PreambleName)
	}
	if parseErr != nil && !errors.Is(parseErr, manifest.ErrInvalid) {
		return shortEntry(parseErr, PreambleName) // a read error, not the document's
	}
	preSig, err := readMetaEntry(rd.tr, PreambleSigName, manifest.MaxSignatureLen)
	if err != nil {
		return err
	}
	hashing.Finish() // a hasher's writes cannot fail
	var digest manifest.Digest
	h512.Sum(digest[:0])
	if exp := rd.opts.Sender; exp != nil {
		key, err := exp.SigningKey()
		if err != nil {
			return err
		}
		if err := manifest.VerifyPreambleDigest(key, &digest, preSig); err != nil {
			return wrongDigestSender(pre, &digest, preSig, exp, err)
		}
		rd.signer, rd.signKey = exp, key
		if rd.opts.Signed != nil {
			rd.opts.Signed(int(size))
		}
	}
	if parseErr != nil {
		return integrityWrap(parseErr, "the bundle's preamble is invalid")
	}
	h256.Sum(rd.preHash[:0])
	rd.preLen = int(size)
	if rd.signer == nil {
		rd.signer = pre.Sender
		if rd.signKey, err = pre.Sender.SigningKey(); err != nil {
			return err
		}
		if err := manifest.VerifyPreambleDigest(rd.signKey, &digest, preSig); err != nil {
			return integrityWrap(err, "the preamble's signature by %s does not verify", quoteLabel(pre.Sender))
		}
	}
	return rd.proven(pre)
}

// scanFiles reads a format-3 preamble's file list, checking its paths
// for collisions as they come and keeping of each file its tags and
// categories (and the file itself if keepList).
func (rd *reading) scanFiles(ps *manifest.PreambleScanner, pre *manifest.Preamble, keepList bool) error {
	paths := safepath.NewCollisionChecker(manifest.MaxFolders)
	if keepList {
		pre.Files = []manifest.File{}
	}
	for {
		f, err := ps.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := paths.Add(f.Path); errors.Is(err, safepath.ErrTooManyFolders) {
			return fmt.Errorf("%w: its files are in more than the %d folders a format-3 bundle may have", manifest.ErrInvalid, manifest.MaxFolders)
		} else if err != nil {
			return fmt.Errorf("%w: %v", manifest.ErrInvalid, err)
		}
		rd.tally.Add(f)
		if keepList {
			pre.Files = append(pre.Files, *f)
			continue
		}
		rd.fields = append(rd.fields, rd.tags.fields(f.Path, f.Size, int64(f.Mode), int64(f.MTime)))
		rd.cats = append(rd.cats, f.Categories)
	}
	rd.count = ps.Count()
	if !keepList {
		rd.results = make([]uint64, rd.count)
	}
	return nil
}

// wrongDigestSender is wrongSenderError for a format-3 preamble, whose
// head (pre, nil if it did not parse) names the sender it claims.
func wrongDigestSender(pre *manifest.Preamble, d *manifest.Digest, preSig []byte, exp *card.Card, cause error) error {
	if pre != nil && pre.Sender.Fingerprint() != exp.Fingerprint() {
		if key, err := pre.Sender.SigningKey(); err == nil && manifest.VerifyPreambleDigest(key, d, preSig) == nil {
			return &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
				"bundle was signed by %s but --from names %s: check who sent it",
				quoteLabel(pre.Sender), quoteLabel(exp))}
		}
	}
	return &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
		"bundle is not signed by %s, whom --from names: check who sent it", quoteLabel(exp)), Err: cause}
}

// proven applies to a preamble whose signature holds the checks that
// make it this reader's bundle from the expected sender, and calls the
// options' Accept and Proven.
func (rd *reading) proven(pre *manifest.Preamble) error {
	if pre.Sender.Fingerprint() != rd.signer.Fingerprint() {
		return &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
			"bundle was signed by %s but names %s as its sender: the preamble is inconsistent",
			quoteLabel(rd.signer), quoteLabel(pre.Sender))}
	}
	if exp := rd.opts.Sender; exp != nil {
		if err := sameNameAs(exp, pre.Sender.Name, pre.Sender.Org); err != nil {
			return err
		}
	}
	if rd.opts.BundleID != "" && rd.opts.BundleID != pre.BundleID {
		return integrity("the seal names bundle %s but the bundle is %s: the seal belongs to another bundle", rd.opts.BundleID, pre.BundleID)
	}
	if pre.AgeHeaderSHA256 != hex.EncodeToString(rd.hdrHash[:]) {
		return &VerifyError{Kind: ErrNotAddressed, Msg: "the bundle's age header is not the one its sender signed: it was re-encrypted or re-addressed by someone else; ask the sender for the original"}
	}
	me := rd.opts.Identity.Card.Fingerprint().Hex()
	if !slices.ContainsFunc(pre.Recipients, func(p manifest.Party) bool { return p.Fingerprint == me }) {
		return &VerifyError{Kind: ErrNotAddressed, Msg: fmt.Sprintf(
			"bundle is not addressed to you (%s): the sender signed it for %s; someone re-encrypted it to you",
			rd.opts.Identity.Card.Label(), recipientNames(pre.Recipients))}
	}
	rd.pre = pre
	if rd.opts.Accept != nil {
		if err := rd.opts.Accept(pre); err != nil {
			return err
		}
	}
	if rd.opts.Proven != nil {
		rd.opts.Proven(pre, rd.count)
	}
	return nil
}

// preambleCap is the largest preamble read with opts: less when no
// expected sender is given.
func preambleCap(opts ReadOptions) int64 {
	if opts.Sender == nil {
		return unprovenPreambleCap
	}
	return MaxPreamble
}

// wrongSenderError explains a preamble that the expected sender did not
// sign. If the preamble is small enough to parse cheaply and the sender it
// names did sign it, it names that sender; anyone can name anyone, so a
// sender whose signature does not verify is not named.
func wrongSenderError(preBytes, preSig []byte, exp *card.Card, cause error) error {
	if len(preBytes) <= 1<<20 {
		if pre, err := manifest.ParsePreamble(preBytes); err == nil && pre.Sender.Fingerprint() != exp.Fingerprint() {
			if key, err := pre.Sender.SigningKey(); err == nil && manifest.Verify(key, sign.ContextPreamble, preBytes, preSig) == nil {
				return &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
					"bundle was signed by %s but --from names %s: check who sent it",
					quoteLabel(pre.Sender), quoteLabel(exp))}
			}
		}
	}
	return &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
		"bundle is not signed by %s, whom --from names: check who sent it", quoteLabel(exp)), Err: cause}
}

// payload reads every file entry, exactly as the preamble lists it,
// hashing it while the sink stores it.
func (rd *reading) payload() error {
	pre := rd.pre
	if err := rd.unlockPayload(); err != nil {
		return err
	}
	c := newFileCopier(rd)
	for i := range pre.Files {
		f := &pre.Files[i]
		th, err := rd.tr.Next()
		if err != nil {
			return tarErr(err, fmt.Sprintf("entry %d (%q)", i+1, f.Path))
		}
		if err := checkEntry(th, f); err != nil {
			return err
		}
		if err := c.copy(f); err != nil {
			return err
		}
	}
	return nil
}

// streamedPayload is payload for a preamble whose list is not held: each
// entry must match the tags kept of the preamble's file in its place.
func (rd *reading) streamedPayload() error {
	if err := rd.unlockPayload(); err != nil {
		return err
	}
	c := newFileCopier(rd)
	for i := range rd.count {
		th, err := rd.tr.Next()
		if err != nil {
			return tarErr(err, fmt.Sprintf("entry %d", i+1))
		}
		if th.ModTime.Nanosecond() != 0 || rd.tags.fields(th.Name, th.Size, th.Mode, th.ModTime.Unix()) != rd.fields[i] {
			return integrity("entry %d (%q) is not the signed preamble's file %d: its name, size, mode or modification time differs (reordered, inserted, renamed or altered)", i+1, th.Name, i+1)
		}
		if err := checkEntryFields(th); err != nil {
			return err
		}
		// The sink may keep f until the file is closed: one each.
		f := &manifest.File{Path: th.Name, Size: th.Size, Mode: manifest.Mode(th.Mode), MTime: manifest.TimeOf(th.ModTime), Categories: rd.cats[i]}
		if err := c.copy(f); err != nil {
			return err
		}
		rd.results[i] = rd.tags.results(&f.SHA256, f.Offset)
	}
	return nil
}

// unlockPayload raises the archive's limit to what the proven preamble
// implies and lets the payload's frames be decompressed.
func (rd *reading) unlockPayload() error {
	limit := rd.lc.n + rd.pre.TotalSize + int64(rd.count+4)*perEntryOverhead + 2*maxPreambleEntry
	if limit < rd.lc.n {
		return integrity("the declared size overflows")
	}
	rd.lc.limit = limit
	rd.zr.Unlock()
	return nil
}

// fileCopier copies payload entries from a read to its sink, hashing
// them, and reports progress.
type fileCopier struct {
	rd   *reading
	h    hash.Hash
	buf  []byte
	done int64
}

func newFileCopier(rd *reading) *fileCopier {
	return &fileCopier{rd: rd, h: sha256.New()}
}

// copy copies the current entry, of the file f, to the sink, and sets
// f's offset and SHA-256.
func (c *fileCopier) copy(f *manifest.File) error {
	rd := c.rd
	f.Offset = rd.lc.n
	w, err := rd.out.create(f)
	if err != nil {
		return err
	}
	c.h.Reset()
	direct, _ := w.(roomWriter)
	var copied int64
	for {
		if err := rd.ctx.Err(); err != nil {
			return err
		}
		var buf []byte
		if direct != nil {
			if buf, err = direct.space(); err != nil {
				return err
			}
		} else {
			if c.buf == nil {
				c.buf = make([]byte, 256<<10)
			}
			buf = c.buf
		}
		n, rerr := rd.tr.Read(buf)
		// Hashed before written, which may hand the batch over.
		c.h.Write(buf[:n])
		if direct != nil {
			if err := direct.written(n); err != nil {
				return err
			}
		} else if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				if _, staged := errors.AsType[*stagedError](werr); staged {
					return werr
				}
				return fmt.Errorf("write %s: %w", f.Path, werr)
			}
		}
		if n > 0 {
			copied += int64(n)
			c.done += int64(n)
			if rd.opts.Progress != nil {
				rd.opts.Progress(c.done, rd.pre.TotalSize)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return tarErr(rerr, fmt.Sprintf("the data of %q", f.Path))
		}
	}
	if copied != f.Size {
		return integrity("%q is %d bytes, the signed preamble says %d", f.Path, copied, f.Size)
	}
	if err := rd.out.closeFile(f); err != nil {
		return err
	}
	c.h.Sum(f.SHA256[:0])
	return nil
}

// manifest reads the signed manifest and checks it against the preamble
// and what was read.
func (rd *reading) manifest(res *Result) error {
	// The manifest's header starts at the next tar block after the last
	// file's data (tar positions are multiples of 512 from the start).
	manOffset := (rd.lc.n + 511) &^ 511
	rd.manOffset = manOffset
	if rd.streamed {
		return rd.scannedManifest(res)
	}
	if rd.pre.Version != manifest.Version1 {
		return rd.streamedManifest(res)
	}
	manBytes, err := readMetaEntry(rd.tr, ManifestName, manifestCap(rd.preLen, len(rd.pre.Files)))
	if err != nil {
		return err
	}
	manSig, err := readMetaEntry(rd.tr, ManifestSigName, manifest.MaxSignatureLen)
	if err != nil {
		return err
	}
	if err := manifest.VerifyManifest(rd.signKey, manifest.Version1, manBytes, manSig); err != nil {
		return integrityWrap(err, "the manifest's signature by %s does not verify", quoteLabel(rd.signer))
	}
	// The manifest to accept is known already: the preamble restated,
	// with the hashes and offsets just read. If the signed bytes are
	// exactly its canonical encoding, they need no parsing and no checks:
	// parsing them would give this manifest, which passes them all. That
	// saves a second copy of the file list. Any other manifest is parsed
	// and checked, which says how it differs (or accepts the rare one
	// that differs only in spelling an empty list as null). The
	// preamble's files already carry the hashes and offsets read.
	man := manifest.Restatement(rd.pre, hex.EncodeToString(rd.preHash[:]), rd.pre.Files)
	if !man.EncodesTo(manBytes) {
		if man, err = parseManifest(manBytes, rd); err != nil {
			return err
		}
	}
	res.Manifest, res.ManifestBytes, res.ManifestSig = man, manBytes, manSig
	res.ManifestSHA256 = sha256.Sum256(manBytes)
	return nil
}

// streamedManifest reads a format-2 manifest, whose signature covers its
// SHA-512: the one manifest it may be is known (the preamble restated,
// with the hashes and offsets read), so the signed bytes are compared
// with its encoding as they arrive and hashed, and never held. Which
// error is reported does not depend on where a difference is: the
// signature is checked first, as for format 1.
func (rd *reading) streamedManifest(res *Result) error {
	if _, err := nextMetaEntry(rd.tr, ManifestName, manifestCap(rd.preLen, len(rd.pre.Files))); err != nil {
		return err
	}
	man := manifest.Restatement(rd.pre, hex.EncodeToString(rd.preHash[:]), rd.pre.Files)
	h512, h256 := sha512.New(), sha256.New()
	differs := man.Match(io.TeeReader(rd.tr, io.MultiWriter(h512, h256)))
	var mismatch *manifest.MismatchError
	if differs != nil && !errors.As(differs, &mismatch) {
		return tarErr(differs, ManifestName)
	}
	manSig, err := rd.manifestSignature(h512)
	if err != nil {
		return err
	}
	if mismatch != nil {
		return mismatchError(mismatch, rd.pre.Files)
	}
	res.Manifest, res.ManifestSig = man, manSig
	h256.Sum(res.ManifestSHA256[:0])
	return nil
}

// manifestSignature reads the manifest's signature entry and checks it
// over the manifest's SHA-512, which h512 has taken, and returns it.
func (rd *reading) manifestSignature(h512 hash.Hash) ([]byte, error) {
	manSig, err := readMetaEntry(rd.tr, ManifestSigName, manifest.MaxSignatureLen)
	if err != nil {
		return nil, err
	}
	var digest manifest.Digest
	h512.Sum(digest[:0])
	if err := manifest.VerifyDigest(rd.signKey, &digest, manSig); err != nil {
		return nil, integrityWrap(err, "the manifest's signature by %s does not verify", quoteLabel(rd.signer))
	}
	return manSig, nil
}

// scannedManifest reads the manifest of a bundle whose preamble list was
// not held (format 3): it parses the signed bytes as they arrive, as
// they are hashed (and kept, by a sink that keeps them), and matches the
// head against the preamble and each entry against the tags kept of the
// preamble's file and of what was read in its place. What differs is
// reported once the signature holds, as streamedManifest does.
func (rd *reading) scannedManifest(res *Result) error {
	if _, err := nextMetaEntry(rd.tr, ManifestName, manifestCap(rd.preLen, rd.count)); err != nil {
		return err
	}
	h512, h256 := sha512.New(), sha256.New()
	sinks := []io.Writer{h512, h256}
	var kept *keptWriter
	if k, ok := rd.out.(manifestKeeper); ok {
		w, err := k.keepManifest()
		if err != nil {
			return err
		}
		kept = &keptWriter{w: w}
		sinks = append(sinks, kept)
	}
	// Hashed and kept by a goroutine of its own while this one parses
	// and matches: the payload is read, and the other core is otherwise
	// idle. keptWriter's writes do not fail either.
	hashing := asyncw.NewHasher(sinks...)
	defer hashing.Finish()
	body := io.TeeReader(rd.tr, hashing)
	preSHA := hex.EncodeToString(rd.preHash[:])
	differs := rd.matchManifest(manifest.NewScanner(body), preSHA)
	if _, err := io.Copy(io.Discard, body); err != nil {
		differs = err
	}
	hashing.Finish()
	if kept != nil && kept.err != nil {
		return kept.err
	}
	if differs != nil && !errors.Is(differs, ErrIntegrity) {
		return tarErr(differs, ManifestName)
	}
	manSig, err := rd.manifestSignature(h512)
	if err != nil {
		return err
	}
	if differs != nil {
		return differs
	}
	res.Manifest, res.ManifestSig = manifest.Restatement(rd.pre, preSHA, nil), manSig
	h256.Sum(res.ManifestSHA256[:0])
	return nil
}

// matchManifest reads a manifest with sc and returns how it differs from
// the one the preamble and the payload read imply (an integrity error),
// or an error reading it, or nil.
func (rd *reading) matchManifest(sc *manifest.Scanner, preSHA string) error {
	invalid := func(err error) error {
		if errors.Is(err, manifest.ErrInvalid) {
			return integrityWrap(err, "the bundle's manifest is invalid")
		}
		return err
	}
	head, err := sc.Head()
	if err != nil {
		return invalid(err)
	}
	if err := head.Consistent(rd.pre, preSHA); err != nil {
		return integrityWrap(err, "the manifest does not match the preamble")
	}
	for i := 0; ; i++ {
		f, err := sc.Next()
		if err == io.EOF {
			if i != rd.count {
				return integrity("the manifest lists %d files, the signed preamble %d", i, rd.count)
			}
			return nil
		}
		if err != nil {
			return invalid(err)
		}
		if i >= rd.count {
			return integrity("the manifest lists more files than the %d of the signed preamble", rd.count)
		}
		if rd.tags.fields(f.Path, f.Size, int64(f.Mode), int64(f.MTime)) != rd.fields[i] || f.Categories != rd.cats[i] {
			return integrity("the manifest does not match the preamble at file %d (%q)", i+1, f.Path)
		}
		if rd.tags.results(&f.SHA256, f.Offset) != rd.results[i] {
			return integrity("%q does not match the SHA-256 and offset its signed manifest records (or that entry is malformed): the bundle was altered", f.Path)
		}
	}
}

// manifestKeeper is a sink that keeps the signed manifest's bytes as a
// format-3 read goes through them (open keeps them in the bag).
type manifestKeeper interface {
	keepManifest() (io.Writer, error)
}

// keptWriter remembers its writer's first error, which is the sink's
// (such as a full disk), not the bundle's.
type keptWriter struct {
	w   io.Writer
	err error
}

func (k *keptWriter) Write(p []byte) (int, error) {
	if k.err == nil {
		if _, err := k.w.Write(p); err != nil {
			k.err = fmt.Errorf("open: keep the signed manifest: %w", err)
		}
	}
	return len(p), nil
}

// entryTags computes the tags a format-3 read keeps of each file: 64-bit
// keyed BLAKE2b MACs, under a key drawn for the read, of its path, size,
// mode and time, and of its SHA-256 and offset. Nobody can make two
// different values share a tag without the key, which never leaves the
// process, but by a chance of one in 2^64 for each try.
type entryTags struct {
	mac hash.Hash
	buf []byte
	sum [8]byte
}

func newEntryTags() (*entryTags, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	mac, err := blake2b.New(8, key)
	if err != nil {
		return nil, err
	}
	return &entryTags{mac: mac}, nil
}

// fields is the tag of a file's path, size, mode and time (in seconds
// since 1970).
func (t *entryTags) fields(path string, size, mode, mtime int64) uint64 {
	b := append(t.buf[:0], 'F')
	b = binary.BigEndian.AppendUint64(b, uint64(len(path)))
	b = append(b, path...)
	b = binary.BigEndian.AppendUint64(b, uint64(size))
	b = binary.BigEndian.AppendUint64(b, uint64(mode))
	b = binary.BigEndian.AppendUint64(b, uint64(mtime))
	return t.tag(b)
}

// results is the tag of a file's SHA-256 and offset.
func (t *entryTags) results(sum *manifest.SHA256Sum, offset int64) uint64 {
	b := append(t.buf[:0], 'R')
	b = append(b, sum[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(offset))
	return t.tag(b)
}

func (t *entryTags) tag(b []byte) uint64 {
	t.buf = b
	t.mac.Reset()
	t.mac.Write(b)
	return binary.BigEndian.Uint64(t.mac.Sum(t.sum[:0]))
}

// mismatchError explains a signed format-2 manifest that is not the one
// the preamble and the payload read imply, as parseManifest does for
// format 1.
func mismatchError(m *manifest.MismatchError, files []manifest.File) error {
	if m.File < 0 {
		return integrityWrap(m, "the manifest does not match the preamble")
	}
	// The field is where the first differing byte lies: almost always a
	// file whose content changed, but a signer could also have written
	// the entry in another spelling; the messages allow for both.
	path := files[m.File].Path
	switch m.Field {
	case "sha256":
		return integrity("%q does not match the SHA-256 its signed manifest records (or that entry is malformed): the bundle was altered", path)
	case "offset":
		return integrity("%q is not at the offset its signed manifest records (or that entry is malformed)", path)
	}
	return integrityWrap(m, "the manifest does not match the preamble at file %q", path)
}

// parseManifest parses a signed manifest and checks it against the
// preamble and what was read.
func parseManifest(manBytes []byte, rd *reading) (*manifest.Manifest, error) {
	man, err := manifest.ParseManifestSized(manBytes, len(rd.pre.Files))
	if err != nil {
		return nil, integrityWrap(err, "the bundle's manifest is invalid")
	}
	if err := man.Consistent(rd.pre, hex.EncodeToString(rd.preHash[:])); err != nil {
		return nil, integrityWrap(err, "the manifest does not match the preamble")
	}
	for i := range man.Files {
		if man.Files[i].SHA256 != rd.pre.Files[i].SHA256 {
			return nil, integrity("%q does not match its signed SHA-256: the bundle was altered", man.Files[i].Path)
		}
		if man.Files[i].Offset != rd.pre.Files[i].Offset {
			return nil, integrity("%q is not at the offset its manifest records", man.Files[i].Path)
		}
	}
	return man, nil
}

// end checks the archive's end: the tar end marker with nothing after it,
// the trailer and seek table, and the age stream's final authenticated
// chunk with nothing after it.
func (rd *reading) end(rest func() error, src *srcReader) error {
	// archive/tar also reports io.EOF where the stream just stops, with no
	// end-of-archive marker or only one of its two zero blocks.
	endAt := (rd.lc.n+511)&^511 + 2*512
	if _, err := rd.tr.Next(); err != io.EOF {
		if err == nil {
			return integrity("the archive holds entries after its signed manifest")
		}
		return tarErr(err, "the end of the archive")
	}
	if rd.lc.n != endAt {
		return integrity("the archive has no end-of-archive marker (truncated?)")
	}
	var one [1]byte
	if n, err := rd.lc.Read(one[:]); n > 0 || (err != nil && err != io.EOF) {
		if n > 0 {
			return integrity("the archive has data after its end marker")
		}
		return tarErr(err, "the end of the archive")
	}
	trBytes, err := rd.zr.Finish()
	if err != nil {
		return integrityWrap(err, "the bundle's compressed stream is damaged at its end")
	}
	var t trailer
	if err := canon.Unmarshal(trBytes, &t, false); err != nil || t.Type != trailerType || t.Version != rd.pre.Version || t.ManifestOffset != rd.manOffset {
		return integrity("the bundle's index does not match its contents")
	}
	if err := rest(); err != nil {
		if serr := src.failure(); serr != nil {
			return serr
		}
		return err
	}
	return nil
}

// decrypter returns the decrypted bundle read from src, its age header,
// and rest, which checks what follows the payload once it has been read.
// For a whole read (whole), an input that offers [RandomAccess] and is
// not armored is decrypted by age's random-access decrypter (see
// [RandomAccess]); anything else by its stream decrypter, so that
// inspect, which reads only the preamble, does not depend on the end of
// the bundle. src reads r.
func decrypter(src *srcReader, r io.Reader, opts ReadOptions, whole bool) (plain io.Reader, hdr []byte, rest func() error, err error) {
	var br *bufio.Reader
	if rac, ok := r.(RandomAccess); ok && whole {
		if ra, size, ok := rac.RandomAccess(); ok {
			in := newInOrderReaderAt(src, ra, size)
			in.fail = src.fail
			br = bufio.NewReaderSize(io.NewSectionReader(in, 0, size), 64<<10)
			if !isArmored(br) {
				return decryptAt(in, br, opts)
			}
			// Armor allows no random access: read it as a stream,
			// from the bytes read so far on.
			br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(in.kept), src), 64<<10)
		}
	}
	if br == nil {
		br = bufio.NewReaderSize(src, 64<<10)
	}
	if isArmored(br) {
		// age's armor reader is strict: bad base64, lines or trailing
		// data after the end line are errors.
		br = bufio.NewReaderSize(&armorErrReader{r: armor.NewReader(br)}, 64<<10)
	}
	if hdr, err = readAgeHeader(br); err != nil {
		return nil, nil, nil, err
	}
	plain, err = age.Decrypt(io.MultiReader(bytes.NewReader(hdr), br), opts.Identity.Age)
	if err != nil {
		return nil, nil, nil, ageError(err, opts)
	}
	rest = func() error {
		if _, err := br.Peek(1); err != io.EOF {
			return integrity("the bundle has data after its end")
		}
		return nil
	}
	return plain, hdr, rest, nil
}

// decryptAt decrypts the bundle in with age's random-access decrypter; br
// reads in from its start. The payload is read a megabyte at a time:
// the decrypter allocates a chunk for each read.
func decryptAt(in *inOrderReaderAt, br *bufio.Reader, opts ReadOptions) (io.Reader, []byte, func() error, error) {
	// A changed input or a failing disk is recorded as src's failure
	// (in.fail), which read reports in place of the errors below.
	hdr, err := readAgeHeader(br)
	if err != nil {
		return nil, nil, nil, err
	}
	ra, size, err := age.DecryptReaderAt(in, in.size, opts.Identity.Age)
	if err != nil {
		return nil, nil, nil, ageError(err, opts)
	}
	in.keepFrom(int64(len(hdr)))
	return bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 1<<20), hdr, in.finish, nil
}

// ageError explains an error of age's decrypters: the bundle is not for
// this identity, or its encryption does not hold, which says what the
// reader can do (ask for a new copy) and only age's own reason, without
// the cipher's ("chacha20poly1305: message authentication failed").
func ageError(err error, opts ReadOptions) error {
	var nm *age.NoIdentityMatchError
	if errors.As(err, &nm) {
		return fmt.Errorf("%w: it is not encrypted to %s", ErrNoIdentity, opts.Identity.Card.Label())
	}
	reason, _, _ := strings.Cut(err.Error(), ": chacha20poly1305")
	return &VerifyError{
		Msg: fmt.Sprintf("the bundle is damaged or was altered: it is not a valid age-encrypted file, or its encrypted data does not authenticate (cut short, changed, or with data after its end; age: %s); do not rely on this copy: ask the sender for a new one", reason),
		Err: shortCause{err, reason},
	}
}

// shortCause is an error that reads as text but unwraps to err, so that
// a message quoting text (a VerifyError's) need not repeat err whole.
type shortCause struct {
	err  error
	text string
}

func (c shortCause) Error() string { return c.text }
func (c shortCause) Unwrap() error { return c.err }

// readMetaEntry reads one of dossier's own entries, which must come next
// and be no larger than max, into one buffer of its declared size.
//
// Growing a buffer with what actually arrives instead cost, for a
// multi-megabyte preamble, its size again in garbage and a quarter more
// held, at the moment a reader's memory peaks: at 148,890 files, a 22 MB
// preamble was held in 27 MB after 20 MB of growth. Allocating the
// declared size gives a hostile entry little it could not have anyway:
// max bounds it either way. An entry that declares max bytes and stops
// now costs the reader max bytes of allocation (zeroed, if the memory was
// used before) for a tar header; before, one that delivered max bytes (a
// compressed frame of zeros, a few kilobytes to send) made the growing
// buffer hold more than max, and about twice that while it grew.
func readMetaEntry(tr *tar.Reader, name string, max int64) ([]byte, error) {
	th, err := nextMetaEntry(tr, name, max)
	if err != nil {
		return nil, err
	}
	data := make([]byte, th.Size)
	if _, err := io.ReadFull(tr, data); err != nil {
		return nil, shortEntry(err, name)
	}
	return data, nil
}

// shortEntry is the error for the entry name, whose bytes could not all
// be read.
func shortEntry(err error, name string) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return integrity("the bundle ends early, in %q (truncated?)", name)
	}
	return tarErr(err, name)
}

// nextMetaEntry reads the header of the next entry of tr, which must be
// the dossier entry name, of at most max bytes, with the fields dossier
// writes.
func nextMetaEntry(tr *tar.Reader, name string, max int64) (*tar.Header, error) {
	th, err := tr.Next()
	if err != nil {
		return nil, tarErr(err, name)
	}
	if th.Name != name || th.Typeflag != tar.TypeReg {
		return nil, integrity("expected the entry %q, found %q: not a dossier bundle or damaged", name, th.Name)
	}
	if th.Size < 0 || th.Size > max {
		return nil, integrity("the entry %q is %d bytes, more than the %d allowed", name, th.Size, max)
	}
	if !metaFieldsClean(th) {
		return nil, integrity("the entry %q carries a mode, owner, link, device or extended fields that dossier never writes", name)
	}
	return th, nil
}

// metaFieldsClean reports whether a .dossier/ entry's unsigned fields hold
// what pack writes (SPEC §5: mode 0644, no owners, links, devices or other
// PAX records), as checkEntry requires of payload entries, so that nobody
// who knows the file key can smuggle them into a stock-tool recovery.
func metaFieldsClean(th *tar.Header) bool {
	for k := range th.PAXRecords {
		if k != "path" && k != "size" && k != "mtime" {
			return false
		}
	}
	return th.Mode == 0o644 && th.Uid == 0 && th.Gid == 0 && th.Uname == "" && th.Gname == "" &&
		th.Linkname == "" && th.Devmajor == 0 && th.Devminor == 0
}

// manifestCap bounds the manifest by what its signed preamble implies: it
// restates the preamble (with the sender's card shortened to a party) and
// adds a SHA-256 and an offset per file (about 110 bytes), so anything
// larger is refused before it is read (into memory, for format 1).
func manifestCap(preambleLen, files int) int64 {
	return min(maxPreambleEntry, int64(preambleLen)+int64(files)*256+64*1024)
}

// checkEntry checks a payload tar header against its signed preamble entry.
func checkEntry(th *tar.Header, f *manifest.File) error {
	if th.Name != f.Path {
		return integrity("entry %q is not the signed file %q (reordered, inserted or renamed)", th.Name, f.Path)
	}
	if th.Typeflag != tar.TypeReg {
		return integrity("entry %q is not a regular file (type %q); only regular files are accepted", th.Name, th.Typeflag)
	}
	if th.Size != f.Size {
		return integrity("entry %q is %d bytes, the signed preamble says %d", th.Name, th.Size, f.Size)
	}
	if th.Mode != int64(f.Mode) {
		return integrity("entry %q has mode %o, the signed preamble says %s", th.Name, th.Mode, f.Mode)
	}
	if !th.ModTime.Equal(f.MTime.Time()) {
		return integrity("entry %q has a modification time the sender did not sign", th.Name)
	}
	return checkEntryFields(th)
}

// checkEntryFields checks the fields of a payload tar header that no
// signature covers.
func checkEntryFields(th *tar.Header) error {
	if th.Typeflag != tar.TypeReg {
		return integrity("entry %q is not a regular file (type %q); only regular files are accepted", th.Name, th.Typeflag)
	}
	// Fields the signature does not cover must hold the values pack
	// writes, so that nobody who knows the file key (a co-recipient) can
	// smuggle owners or links into a stock-tool recovery.
	if th.Uid != 0 || th.Gid != 0 || th.Uname != "" || th.Gname != "" || th.Linkname != "" || th.Devmajor != 0 || th.Devminor != 0 {
		return integrity("entry %q carries owner, link or device fields that dossier never writes", th.Name)
	}
	for k := range th.PAXRecords {
		switch k {
		case "path", "size", "mtime":
		default:
			return integrity("entry %q carries an unexpected extended attribute %q", th.Name, k)
		}
	}
	return nil
}

func tarErr(err error, where string) error {
	var ve *VerifyError
	if errors.As(err, &ve) {
		return err
	}
	if errors.Is(err, errExpansion) {
		return integrity("%s: %v", where, errExpansion)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return integrity("the bundle ends early, at %s (truncated?)", where)
	}
	if errors.Is(err, zframe.ErrCorrupt) {
		return integrityWrap(err, "the bundle's compressed stream is damaged at %s", where)
	}
	return integrityWrap(err, "the bundle is damaged at %s", where)
}

// sameNameAs refuses a bundle whose card for the sender's key names
// another person or organisation than the expected card: the key is the
// sender's, but every reader shows, and the receipt states, the name the
// bundle carries, which a sender could otherwise make "Europol" or the
// receiver's own (found by an audit with a hostile sender). A sender who
// really changed name issues a new card, which the receiver takes after
// comparing fingerprints.
func sameNameAs(exp *card.Card, name, org string) error {
	if name == exp.Name && org == exp.Org {
		return nil
	}
	claimed := "'" + name + "'"
	if org != "" {
		claimed += " of " + org
	}
	return &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
		"the bundle's card for its sender's key (%s) names %s, but your card for that key names %s: the sender poses as someone else, or the card changed; if you replaced the card since this bundle was sent, check it with the earlier one, else ask the sender",
		exp.Fingerprint(), claimed, quoteLabel(exp))}
}

func quoteLabel(c *card.Card) string {
	s := "'" + c.Name + "'"
	if c.Org != "" {
		s += " of " + c.Org
	}
	return s + " (" + c.Fingerprint().String() + ")"
}

func recipientNames(ps []manifest.Party) string {
	var b bytes.Buffer
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		fp, _ := card.ParseFingerprintHex(p.Fingerprint)
		fmt.Fprintf(&b, "'%s' (%s)", p.Name, fp.String())
	}
	return b.String()
}

// isArmored reports whether the bundle starts with age's ASCII armor
// (leading whitespace is allowed, as age allows it).
func isArmored(br *bufio.Reader) bool {
	peek, _ := br.Peek(1024)
	return bytes.HasPrefix(bytes.TrimLeft(peek, " \t\r\n"), []byte(ageArmorHeader))
}

// armorErrReader reports armor decoding failures as integrity failures.
type armorErrReader struct{ r io.Reader }

func (a *armorErrReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	var ae *armor.Error
	if errors.As(err, &ae) {
		return n, integrityWrap(err, "the bundle's ASCII armor is damaged")
	}
	return n, err
}
