package bundle

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dossier-evidence/dossier/pkg/bagit"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/internal/multiset"
	"github.com/dossier-evidence/dossier/pkg/internal/removeall"
	"github.com/dossier-evidence/dossier/pkg/internal/safepath"
	"github.com/dossier-evidence/dossier/pkg/internal/writeback"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Tag files dossier adds to an opened bag.
const (
	BagManifestName    = "dossier-manifest.json"
	BagManifestSigName = "dossier-manifest.sig"
	BagSenderCardName  = "dossier-sender.card"
)

// Open reads the bundle from r, checks everything [Verify] checks, and only
// then publishes the documents as a BagIt bag at dir. Files are staged in a
// temporary folder beside dir (mode 0700, files 0600), made once the
// preamble is proven and accepted (opts.Accept), and the folder is
// renamed to dir when every check has passed; on any failure the staging
// folder is removed and dir is left as it was. dir must not exist or be an
// empty folder.
func Open(ctx context.Context, r io.Reader, dir string, opts ReadOptions) (*Result, error) {
	if opts.Sender == nil {
		return nil, errors.New("open: the expected sender's card is required (--from)")
	}
	if opts.Identity == nil {
		return nil, errors.New("open: no identity given (-i)")
	}
	// Work with the absolute, clean path so that "." or "x/.." cannot put
	// the staging folder inside the target itself.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if wd, err := os.Getwd(); err == nil && wd == abs {
		return nil, fmt.Errorf("%w: %s is the current folder; open into a new folder (-o NAME)", ErrTargetExists, dir)
	}
	if err := checkTarget(dir); err != nil {
		return nil, err
	}
	// The staging folder is made once the preamble is accepted, not
	// before: an Accept that waits (for another open of the same bundle)
	// leaves nothing on disk while it waits, should the process be killed.
	out := &lazyStaging{abs: abs, dir: dir}
	accept := opts.Accept
	opts.Accept = func(pre *manifest.Preamble) error {
		if accept != nil {
			if err := accept(pre); err != nil {
				return err
			}
		}
		return out.start()
	}
	return read(ctx, r, opts, out, false)
}

// lazyStaging is a stagingSink made by start, once the preamble has been
// accepted; read writes nothing before that.
type lazyStaging struct {
	abs, dir string
	*stagingSink
}

// start checks the target again (time may have passed since Open checked
// it) and makes the staging folder beside it, with data/ inside.
func (l *lazyStaging) start() error {
	if err := checkTarget(l.dir); err != nil {
		return err
	}
	staging, err := atomicfile.MkdirTemp(l.abs)
	if err != nil {
		return fmt.Errorf("open: create staging folder beside %s: %w", l.dir, err)
	}
	root, err := os.OpenRoot(staging)
	if err != nil {
		removeall.RemoveAll(staging)
		return fmt.Errorf("open: %w", err)
	}
	if err := root.Mkdir(bagit.PayloadDir, 0o700); err != nil {
		root.Close()
		removeall.RemoveAll(staging)
		return fmt.Errorf("open: %w", err)
	}
	l.stagingSink = newStagingSink(root, staging, l.abs, l.dir)
	return nil
}

// abort removes the staging folder, if it was made.
func (l *lazyStaging) abort() {
	if l.stagingSink != nil {
		l.stagingSink.abort()
	}
}

func checkTarget(dir string) error {
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a folder; choose a new folder name with -o", ErrTargetExists, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("%w: %s is not empty; choose a new folder name with -o", ErrTargetExists, dir)
	}
	return nil
}

// stagingSink writes payload under staging/data inside an os.Root (on
// Linux, relative to descriptors of the folders it made, following no
// link: payloadFolders), so no name can reach outside it, and publishes
// the folder on commit.
//
// The files are created, written and closed by a goroutine of their own,
// in the order given: writing to the page cache is, on the virtual
// machines measured, as much work as decrypting, decompressing and hashing
// together, and it now overlaps with them. Its first error is kept and
// returned by the next call (and by commit); abort and commit wait for it
// to stop, so nothing is written after they return.
type stagingSink struct {
	root    *os.Root
	staging string
	target  string
	display string
	now     func() time.Time

	batches  chan *stagingBatch // to the writer goroutine
	free     chan *stagingBatch // batches written, to be filled again
	made     int                // batches made so far (by the reader)
	batch    *stagingBatch      // the batch being filled (by the reader)
	lent     *stagingBatch      // the batch whose room space lent, until written
	done     chan struct{}
	finished bool

	// kept is the signed manifest of a format-3 bundle, kept in the
	// bag's tag file as it is read (keepManifest) and listed by commit.
	kept    *os.File
	keptBuf *bufio.Writer

	mu  sync.Mutex
	err error

	// Owned by the writer goroutine until done is closed.
	folders *payloadFolders // made by the first file
	file    stagedFile
	cur     string // the stored path of file
	wb      *writeback.File
	unsync  int64 // payload written since the last early sync started

	early earlySync
}

// stagedFile is a payload file being written.
type stagedFile interface {
	writeback.Target
	Close() error
}

// stagingBatch is the steps the reader hands the writer goroutine at
// once, with the bytes they write.
//
// The reader fills a batch until its buffer is full or it holds
// stagingBatchOps steps: handing over each step alone cost a wake-up of
// one goroutine by the other, through the kernel, two or three times a
// file (96,000 futex and 144,000 nanosleep calls opening the 44,500 files
// of the text benchmark corpus).
type stagingBatch struct {
	ops []stagingOp
	buf []byte // the written bytes of the ops, one after the other
}

// stagingOp is one step for the writer goroutine: create the file f, write
// buf[from:to] to the open file, or close the file f.
type stagingOp struct {
	kind     stagingKind
	f        *manifest.File
	from, to int
}

type stagingKind uint8

const (
	stageCreate stagingKind = iota
	stageWrite
	stageClose
)

// Batches in flight between the reader and the writer goroutine, and how
// much each holds at most.
const (
	stagingBatches   = 8
	stagingBufferLen = 256 << 10
	stagingBatchOps  = 256
)

// newStagingSink starts the writer goroutine. Its batches are made as the
// first payload is written, not before: while the preamble is parsed, a
// reader's peak (its bytes and the list made of them at once), they would
// be 2 MiB more.
func newStagingSink(root *os.Root, staging, target, display string) *stagingSink {
	s := idleStagingSink(root, staging, target, display)
	go s.run()
	return s
}

// idleStagingSink is newStagingSink without its writer goroutine.
func idleStagingSink(root *os.Root, staging, target, display string) *stagingSink {
	return &stagingSink{root: root, staging: staging, target: target, display: display, now: time.Now,
		batches: make(chan *stagingBatch, stagingBatches), free: make(chan *stagingBatch, stagingBatches), done: make(chan struct{})}
}

// current returns the batch being filled: one the writer goroutine
// handed back, or a new one while fewer than stagingBatches were made.
func (s *stagingSink) current() *stagingBatch {
	if s.batch != nil {
		return s.batch
	}
	select {
	case s.batch = <-s.free:
	default:
		if s.made < stagingBatches {
			s.made++
			s.batch = &stagingBatch{ops: make([]stagingOp, 0, stagingBatchOps), buf: make([]byte, 0, stagingBufferLen)}
		} else {
			s.batch = <-s.free
		}
	}
	s.batch.ops, s.batch.buf = s.batch.ops[:0], s.batch.buf[:0]
	return s.batch
}

// add adds op to the batch being filled, and hands the batch over once it
// holds stagingBatchOps steps.
func (s *stagingSink) add(op stagingOp) {
	b := s.current()
	b.ops = append(b.ops, op)
	if len(b.ops) == stagingBatchOps {
		s.handOver()
	}
}

// handOver hands the batch being filled, if any, to the writer goroutine.
func (s *stagingSink) handOver() {
	if s.batch != nil {
		s.batches <- s.batch
		s.batch = nil
	}
}

func (s *stagingSink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *stagingSink) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// run is the writer goroutine. After an error it only hands batches back.
func (s *stagingSink) run() {
	defer close(s.done)
	defer func() {
		if s.folders != nil {
			s.folders.close()
		}
	}()
	for b := range s.batches {
		for _, op := range b.ops {
			if s.failed() != nil {
				break
			}
			if err := s.do(op, b.buf); err != nil {
				s.fail(err)
			}
		}
		s.free <- b
	}
}

// do does one step of a batch whose written bytes are buf.
func (s *stagingSink) do(op stagingOp, buf []byte) error {
	switch op.kind {
	case stageCreate:
		return s.createFile(op.f)
	case stageWrite:
		if s.wb == nil {
			return errors.New("open: data for no file (a bug in dossier)")
		}
		n, err := s.wb.Write(buf[op.from:op.to])
		if err != nil {
			return fmt.Errorf("write %s: %w", s.cur, err)
		}
		if s.unsync += int64(n); s.unsync >= earlySyncEvery {
			// A sync that failed stops the open here, not at its end.
			if err := s.early.failed(); err != nil {
				return fmt.Errorf("open: sync %s: %w", s.staging, err)
			}
			if s.early.start(s.root) {
				s.unsync = 0
			}
		}
		return nil
	default:
		return s.closeCurrent(op.f)
	}
}

// stagedError is the writer goroutine's first error, as the next write
// returns it: it already names the file and what failed.
type stagedError struct{ err error }

func (e *stagedError) Error() string { return e.err.Error() }
func (e *stagedError) Unwrap() error { return e.err }

// createFile creates the file f under data/, through payloadFolders.
func (s *stagingSink) createFile(f *manifest.File) error {
	if s.folders == nil {
		folders, err := newPayloadFolders(s.root)
		if err != nil {
			return fmt.Errorf("open: create %s: %w", f.Path, err)
		}
		s.folders = folders
	}
	dir, base := path.Split(bagit.PayloadDir + "/" + f.Path)
	if err := s.folders.enter(strings.TrimSuffix(dir, "/")); err != nil {
		return fmt.Errorf("open: create folder for %s: %w", f.Path, err)
	}
	file, err := s.folders.create(base)
	if err != nil {
		return fmt.Errorf("open: create %s: %w", f.Path, err)
	}
	s.file, s.cur, s.wb = file, f.Path, writeback.New(file)
	return nil
}

// tailWriteback is the least a finished file's unflushed tail must be for
// its writeback to be started on closing: smaller files are left to the
// one syncfs, which costs less than a call per file.
const tailWriteback = 256 << 10

func (s *stagingSink) closeCurrent(f *manifest.File) error {
	if s.wb.Pending() >= tailWriteback {
		s.wb.Flush()
	}
	err := s.file.Close()
	s.file, s.wb = nil, nil
	if err != nil {
		return fmt.Errorf("open: write %s: %w", f.Path, err)
	}
	mt := f.MTime.Time()
	if err := s.folders.setTime(path.Base(f.Path), mt); err != nil {
		return fmt.Errorf("open: set time of %s: %w", f.Path, err)
	}
	return nil
}

func (s *stagingSink) create(f *manifest.File) (io.Writer, error) {
	if err := s.failed(); err != nil {
		return nil, err
	}
	s.add(stagingOp{kind: stageCreate, f: f})
	return stagingWriter{s}, nil
}

func (s *stagingSink) closeFile(f *manifest.File) error {
	if err := s.failed(); err != nil {
		return err
	}
	s.add(stagingOp{kind: stageClose, f: f})
	return nil
}

// finish stops the writer goroutine once it has done everything queued,
// and returns its first error.
func (s *stagingSink) finish() error {
	if !s.finished {
		s.finished = true
		s.handOver()
		close(s.batches)
	}
	<-s.done
	return s.failed()
}

// stagingWriter queues copies of what is written for the writer
// goroutine.
type stagingWriter struct{ s *stagingSink }

// space returns the free room of the batch being filled, for a read to
// fill and written to commit: reading a file's data straight into the
// batch saves copying the payload once more (about 1.5 % of an open's
// CPU on the text corpus). The room is never empty.
func (w stagingWriter) space() ([]byte, error) {
	s := w.s
	for {
		if err := s.failed(); err != nil {
			return nil, &stagedError{err}
		}
		b := s.current()
		if len(b.buf) < cap(b.buf) {
			s.lent = b
			return b.buf[len(b.buf):cap(b.buf)], nil
		}
		s.handOver()
	}
}

// written queues the first n bytes of the room space lent last, as Write
// would queue a copy of them, and returns the writer goroutine's error as
// Write does. Nothing else may be written between the two calls: the
// batch lent must still be the one being filled, or the bytes queued
// would not be those read (and hashed).
func (w stagingWriter) written(n int) error {
	s := w.s
	b := s.lent
	s.lent = nil
	if b == nil || b != s.batch || n < 0 || len(b.buf)+n > cap(b.buf) {
		panic("bundle: written without the room space lent")
	}
	if n > 0 {
		from := len(b.buf)
		b.buf = b.buf[:from+n]
		if last := len(b.ops) - 1; last >= 0 && b.ops[last].kind == stageWrite && b.ops[last].to == from {
			b.ops[last].to += n // more of the same write
		} else {
			s.add(stagingOp{kind: stageWrite, from: from, to: from + n})
		}
	}
	if err := s.failed(); err != nil {
		return &stagedError{err}
	}
	return nil
}

// Write queues a copy of p, through the same room as a read straight
// into the batch.
func (w stagingWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room, err := w.space()
		if err != nil {
			return 0, err
		}
		k := copy(room, p)
		if err := w.written(k); err != nil {
			return 0, err
		}
		p = p[k:]
	}
	return n, nil
}

// errKeptChanged is the error at the end of the kept manifest when its
// bytes are not those the read checked.
var errKeptChanged = errors.New("its bytes are not those that were checked")

// keptReader reads the kept manifest from its start, and fails at its
// end if what it read does not have the SHA-256 want.
func (s *stagingSink) keptReader(want [32]byte) io.Reader {
	return &checkedReader{r: io.NewSectionReader(s.kept, 0, 1<<62), h: sha256.New(), want: want}
}

type checkedReader struct {
	r    io.Reader
	h    hash.Hash
	want [32]byte
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF && [32]byte(c.h.Sum(nil)) != c.want {
		return n, errKeptChanged
	}
	return n, err
}

// sameKept fails, as an integrity failure, unless the bag's
// BagManifestName is still the file kept open since it was written.
func (s *stagingSink) sameKept() error {
	named, err := s.root.Lstat(BagManifestName)
	if err != nil {
		return fmt.Errorf("open: the signed manifest kept in %s: %w", s.display, err)
	}
	open, err := s.kept.Stat()
	if err != nil {
		return fmt.Errorf("open: the signed manifest kept in %s: %w", s.display, err)
	}
	if !os.SameFile(named, open) {
		return fmt.Errorf("open: the signed manifest kept in %s was replaced while opening: %w", s.display, ErrIntegrity)
	}
	return nil
}

// keepManifest returns the writer the signed manifest's bytes are kept
// through as they are read: into the bag's tag file BagManifestName,
// which commit then lists as written (it is neither held nor copied).
func (s *stagingSink) keepManifest() (io.Writer, error) {
	f, err := s.root.OpenFile(BagManifestName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open: keep the signed manifest: %w", err)
	}
	s.kept, s.keptBuf = f, bufio.NewWriterSize(f, 64<<10)
	return s.keptBuf, nil
}

// keptEntries returns the payload listed by the kept manifest, read
// again from it for each pass, and a function that returns the error, if
// any, that ended a pass: the file was checked as it was written, so
// only a change to it since (someone writing in the staging folder) or a
// read error ends one early. want is the SHA-256 of the bytes the read
// checked: a pass over other bytes fails at their end.
func (s *stagingSink) keptEntries(files int, want [32]byte) (iter.Seq[bagit.Entry], func() error) {
	var failed error
	seq := func(yield func(bagit.Entry) bool) {
		sc := manifest.NewScanner(s.keptReader(want))
		n := 0
		for {
			f, err := sc.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				failed = err
				return
			}
			n++
			if !yield(bagit.Entry{Path: f.Path, SHA256: f.SHA256, Size: f.Size}) {
				return
			}
		}
		if n != files {
			failed = fmt.Errorf("it lists %d files, not %d", n, files)
		}
	}
	return seq, func() error {
		if failed != nil {
			return fmt.Errorf("open: the signed manifest kept in %s changed while opening (%v): %w", s.display, failed, ErrIntegrity)
		}
		return nil
	}
}

func (s *stagingSink) commit(ctx context.Context, res *Result) error {
	if err := s.finish(); err != nil {
		return err
	}
	man := res.Manifest
	var entries iter.Seq[bagit.Entry]
	keptErr := func() error { return nil }
	signed := res.SignedManifest()
	if res.Streamed {
		if s.kept == nil {
			return errors.New("open: the signed manifest was not kept")
		}
		if err := s.keptBuf.Flush(); err != nil {
			return fmt.Errorf("open: keep the signed manifest: %w", err)
		}
		entries, keptErr = s.keptEntries(res.FileCount, res.ManifestSHA256)
		signed = bagit.Written{SHA256: res.ManifestSHA256}
	} else {
		entries = func(yield func(bagit.Entry) bool) {
			for i := range man.Files {
				f := &man.Files[i]
				if !yield(bagit.Entry{Path: f.Path, SHA256: f.SHA256, Size: f.Size}) {
					return
				}
			}
		}
	}
	cardBytes, err := res.Preamble.Sender.Marshal()
	if err != nil {
		return err
	}
	tags := map[string]io.WriterTo{
		BagManifestName:    signed,
		BagManifestSigName: bytes.NewReader(res.ManifestSig),
		BagSenderCardName:  bytes.NewReader(cardBytes),
	}
	// Everything is written through the staging folder's root, and the
	// folder published is checked to be that folder: someone who can
	// write beside it could rename it and put a link to a folder of
	// theirs under its name (found by an audit: the tag files went into
	// that folder, and the link was published as the opened bundle).
	staged, err := s.root.Stat(".")
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if beforeTagsHook != nil {
		beforeTagsHook(s.staging)
	}
	if err := bagit.WriteTagsIn(s.root, bagInfo(res.Manifest, res.Categories, res.Preamble.Sender, s.now()), entries, tags); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if err := keptErr(); err != nil {
		return err
	}
	if s.kept != nil {
		// The passes read the file open since it was written: the name
		// must still be that file, not one put in its place (found by
		// review: a file renamed over it was published, exit 0).
		if err := s.sameKept(); err != nil {
			return err
		}
		err := s.kept.Close()
		s.kept = nil
		if err != nil {
			return fmt.Errorf("open: keep the signed manifest: %w", err)
		}
	}
	err = s.early.wait()
	if err == nil {
		err = syncTree(s.root)
	}
	if err != nil {
		return fmt.Errorf("open: sync %s: %w", s.staging, err)
	}
	// Syncing is the slow step on a USB stick: a Ctrl-C that came during
	// it publishes nothing (found by an audit: the folder was published,
	// with exit 0).
	if err := ctx.Err(); err != nil {
		return err
	}
	s.root.Close()
	if !sameFolder(s.staging, staged) {
		return s.replaced(s.staging)
	}
	if err := atomicfile.Publish(s.staging, s.target); err != nil {
		if errors.Is(err, atomicfile.ErrExists) {
			return fmt.Errorf("%w: %s was created by someone else while opening; nothing was replaced", ErrTargetExists, s.display)
		}
		return fmt.Errorf("open: publish %s: %w", s.display, err)
	}
	if !sameFolder(s.target, staged) {
		return s.replaced(s.target)
	}
	atomicfile.SyncDir(dirOf(s.target))
	return nil
}

// beforeTagsHook, if set, is called with the staging folder's name before
// the tag files are written. Only tests set it.
var beforeTagsHook func(staging string)

// sameFolder reports whether name is the folder st describes itself, not
// a link to it or anything else.
func sameFolder(name string, st fs.FileInfo) bool {
	cur, err := os.Lstat(name)
	return err == nil && cur.IsDir() && os.SameFile(cur, st)
}

// replaced is the error of an open whose staging folder was swapped for
// something else at name while it was written.
func (s *stagingSink) replaced(name string) error {
	return integrity("%s was moved or replaced by someone else while the bundle was opened into it, so %s is not what this open wrote: do not use it; check who can write in %s, and open the bundle again", name, s.display, dirOf(s.target))
}

// errAborted stops the writer goroutine of an open that is aborted.
var errAborted = errors.New("open: aborted")

func (s *stagingSink) abort() {
	s.batch = nil // not handed over, and nothing queued is written
	s.fail(errAborted)
	s.finish()
	s.early.wait()
	if s.file != nil {
		s.file.Close()
	}
	if s.kept != nil {
		s.kept.Close()
	}
	s.root.Close()
	removeall.RemoveAll(s.staging)
}

// notHere reports whether nothing exists at name.
func notHere(name string) bool {
	_, err := os.Lstat(name)
	return errors.Is(err, fs.ErrNotExist)
}

func dirOf(p string) string {
	d := filepath.Dir(filepath.Clean(p))
	if d == "" {
		return "."
	}
	return d
}

// bagInfo is the bag-info.txt dossier writes: standard labels and the
// signed case metadata as Dossier-* labels. Everything but Bagging-Date is
// derived from the signed manifest and the sender's card, so VerifyBag can
// require it unchanged.
func bagInfo(man *manifest.Manifest, categories []manifest.CategoryTotal, sender *card.Card, now time.Time) []bagit.Field {
	c := man.Case
	fields := []bagit.Field{
		{Label: "Source-Organization", Value: sender.Org},
		{Label: "Contact-Name", Value: sender.Name},
		{Label: "External-Identifier", Value: man.BundleID},
		{Label: "Bagging-Date", Value: now.UTC().Format("2006-01-02")},
		{Label: "Bag-Software-Agent", Value: "dossier"},
		{Label: "Internal-Sender-Identifier", Value: c.Reference},
		{Label: "Dossier-Bundle-Id", Value: man.BundleID},
		{Label: "Dossier-Created", Value: man.Created},
		{Label: "Dossier-Sender-Fingerprint", Value: sender.Fingerprint().String()},
		{Label: "Dossier-Case-Reference", Value: c.Reference},
		{Label: "Dossier-Requesting-Authority", Value: c.RequestingAuthority},
		{Label: "Dossier-Requested-Authority", Value: c.RequestedAuthority},
		{Label: "Dossier-Legal-Basis", Value: c.LegalBasis},
		{Label: "Dossier-Purpose", Value: c.Purpose},
		{Label: "Dossier-Retain-Until", Value: c.RetainUntil},
		{Label: "Dossier-Policy-Override", Value: c.PolicyOverride},
	}
	for _, r := range c.Restrictions {
		fields = append(fields, bagit.Field{Label: "Dossier-Handling-Restriction", Value: r})
	}
	for _, t := range categories {
		fields = append(fields, bagit.Field{Label: "Dossier-Category", Value: fmt.Sprintf("%s: %d files, %d bytes", t.Category, t.Files, t.Bytes)})
	}
	out := fields[:0]
	for _, f := range fields {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// BagResult describes an opened bag that was re-verified.
type BagResult struct {
	// Manifest is the kept manifest, signed by the sender, without its
	// file list (Files is empty), which is not held: it is the bag's
	// payload, with the categories counted in Categories.
	Manifest *manifest.Manifest
	// FileCount is the number of files the manifest lists, the bag's
	// payload.
	FileCount int
	// Categories totals the manifest's files per category, as
	// manifest.Summary would.
	Categories []manifest.CategoryTotal
	Bag        *bagit.Bag
}

// VerifyBag re-verifies a folder made by [Open], possibly years later: the
// BagIt bag is complete and every payload file matches its SHA-256, the
// signed manifest kept beside it verifies against sender's card, and the
// bag's payload is exactly the manifest's file list with the signed sizes
// and hashes. Any failure wraps ErrIntegrity. It ends with ctx's error
// once ctx is done, and tells progress, if set, the payload bytes hashed
// and the total the bag states (-1 if none).
//
// The kept manifest (some 240 bytes a file) is read as a stream and not
// held, but for format 1, whose signature covers its exact bytes, and
// neither is the bag's payload list: the payload is read in the order of
// its manifest (bagit.ReadOptions.EachPayload), and the kept manifest's
// entries are compared with it as multisets (pkg/internal/multiset), in
// any order; what holds is a hash of each path, to find colliding names.
// A folder that fails is read again holding the payload list, with each
// entry checked as the kept manifest is read, to say what differs (by
// name, the first in the manifest's order), once the signature holds, so
// that the error does not depend on where a change was made. So a
// failure takes two reads, but for a folder signed by another sender;
// one that fails the first read and passes the second changed between
// them, and fails. Result.Bag has no Payload, unless the first read
// failed other than as an integrity failure (a read error) and the
// second passed.
func VerifyBag(ctx context.Context, dir string, sender *card.Card, progress ProgressFunc) (*BagResult, error) {
	if sender == nil {
		return nil, errors.New("verify: the expected sender's card is required (--from)")
	}
	if notHere(filepath.Join(dir, "bagit.txt")) && notHere(filepath.Join(dir, BagManifestName)) && notHere(filepath.Join(dir, bagit.PayloadDir)) {
		// Nothing of a bag at all: the wrong folder, not a damaged one
		// (which keeps its data/ folder at least), so not an integrity
		// failure a script would take for tampering.
		return nil, fmt.Errorf("%s is not a folder that dossier open wrote (it has no bagit.txt, %s or %s folder): verify takes a bundle, or a folder open wrote", dir, BagManifestName, bagit.PayloadDir)
	}
	key, err := sender.SigningKey()
	if err != nil {
		return nil, err
	}
	res, err := verifyBag(ctx, dir, sender, key, progress, &payloadSum{x: multiset.NewHasher()})
	if err == nil || ctx.Err() != nil || errors.Is(err, ErrWrongSender) {
		return res, err
	}
	// Read again, holding the list, to say what is wrong.
	held, herr := verifyBag(ctx, dir, sender, key, progress, nil)
	if herr == nil && errors.Is(err, ErrIntegrity) && !errors.Is(err, errPathsMayCollide) {
		// Only a folder changed between the two reads (or failing
		// storage) passes the second after failing the first.
		return nil, integrityWrap(err, "the folder changed while it was verified (first: %v); verify it again when nothing writes to it", err)
	}
	return held, herr
}

// errPathsMayCollide marks the failure of a read holding no list whose
// hash of each path found two that may collide: a second read, holding
// the paths, tells a collision from chance.
var errPathsMayCollide = errors.New("two paths may collide")

// payloadSum is the multiset of a bag's payload entries (path, SHA-256,
// size), which a kept manifest's must equal.
type payloadSum struct {
	x   *multiset.Hasher
	sum multiset.Sum
}

func (p *payloadSum) add(to *multiset.Sum, path string, sum [32]byte, size int64) {
	p.x.Add(to, []byte(path), sum[:], binary.BigEndian.AppendUint64(nil, uint64(size)))
}

// verifyBag is VerifyBag, reading the payload without holding its list
// if sums is set (summing it there), and holding it if not.
func verifyBag(ctx context.Context, dir string, sender *card.Card, key *sign.PublicKey, progress ProgressFunc, sums *payloadSum) (*BagResult, error) {
	var kept *keptManifest
	opts := bagit.ReadOptions{
		Streamed: map[string]bagit.TagReader{
			BagManifestName: func(bag *bagit.Bag, r io.Reader) error {
				var err error
				kept, err = readKeptManifest(bag, r, sender, key, sums)
				return err
			},
		},
		Progress: progress,
	}
	if sums != nil {
		opts.EachPayload = func(e bagit.Entry) error {
			sums.add(&sums.sum, e.Path, e.SHA256, e.Size)
			return nil
		}
	}
	bag, err := bagit.ReadWith(ctx, dir, opts)
	if err != nil {
		if errors.Is(err, bagit.ErrInvalid) {
			return nil, integrityWrap(err, "the opened folder %s does not verify", dir)
		}
		return nil, err
	}
	if kept == nil {
		return nil, integrity("%s is a BagIt bag but not an opened dossier bundle: %s or %s is missing", dir, BagManifestName, BagManifestSigName)
	}
	man := kept.head
	// The name the bag keeps was checked against the receiver's card when
	// it was opened; years later that card may have been replaced (a new
	// organisation), and the keys are what the signature proves.
	for name := range bag.Tags {
		switch name {
		case BagManifestSigName, BagSenderCardName:
		default:
			return nil, integrity("%s is not a file that open writes (added after opening?): an opened folder verifies only as open left it; keep notes outside it", name)
		}
	}
	if len(bag.EmptyFolders) > 0 {
		return nil, integrity("the folder %s holds no signed document (added after opening?)", bag.EmptyFolders[0])
	}
	if err := checkBagInfo(bag, man, kept.categories, sender); err != nil {
		return nil, err
	}
	if kept.mismatch != nil {
		return nil, kept.mismatch
	}
	return &BagResult{Manifest: man, FileCount: kept.files, Categories: kept.categories, Bag: bag}, nil
}

// keptManifest is what VerifyBag learnt from the manifest an opened
// folder keeps, whose signature verified.
type keptManifest struct {
	head       *manifest.Manifest // without its list
	files      int
	categories []manifest.CategoryTotal
	mismatch   error // the first way the bag's payload differs from the list, or nil
}

// readKeptManifest reads the kept manifest from r, the bag's payload
// validated, and verifies its signature (the tag file
// BagManifestSigName) by sender's key. It returns an error if the
// manifest is not valid, not sender's, or not signed by key; a payload
// that differs from the list is left in mismatch, reported by the caller
// after the checks of bag-info.txt and the other tag files. The payload
// is bag.Payload, or, if payload is set, the multiset summed there (then
// what differs is not named).
func readKeptManifest(bag *bagit.Bag, r io.Reader, sender *card.Card, key *sign.PublicKey, payload *payloadSum) (*keptManifest, error) {
	sig, ok := bag.Tags[BagManifestSigName]
	if !ok {
		return nil, integrity("the opened folder is a BagIt bag but not an opened dossier bundle: %s is missing", BagManifestSigName)
	}
	// Formats 2 and 3 are signed over the SHA-512, computed as the
	// bytes go by; format 1 over the bytes, held from the start until
	// the head says which.
	signed := &signedBytes{h: sha512.New(), hold: true}
	sc := manifest.NewScanner(io.TeeReader(r, signed))
	man, err := sc.Head()
	if err != nil {
		return nil, integrityWrap(err, "the kept manifest is invalid")
	}
	if man.Sender.Fingerprint != sender.Fingerprint().Hex() {
		fp, _ := card.ParseFingerprintHex(man.Sender.Fingerprint)
		return nil, &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
			"the bundle was signed by '%s' (%s) but --from names %s: check who sent it", man.Sender.Name, fp, quoteLabel(sender))}
	}
	if man.Version != manifest.Version1 {
		signed.hold, signed.data = false, nil
	}
	kept := &keptManifest{head: man}
	var tally manifest.Tally
	var listed []bool
	var listedSum multiset.Sum
	var paths *safepath.CollisionChecker
	var pathErr error
	if payload == nil {
		listed = make([]bool, len(bag.Payload))
	} else {
		paths = safepath.NewCollisionChecker(0)
	}
	for {
		f, err := sc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, integrityWrap(err, "the kept manifest is invalid")
		}
		tally.Add(f)
		if payload != nil {
			payload.add(&listedSum, f.Path, f.SHA256, f.Size)
			if pathErr == nil {
				pathErr = paths.Add(f.Path)
			}
			continue
		}
		i, found := bag.Find(f.Path)
		switch {
		case found && listed[i]:
			return nil, integrity("the kept manifest is invalid: it lists %q twice", f.Path)
		case !found:
			if kept.mismatch == nil {
				kept.mismatch = integrity("%q is in the signed manifest but not in the folder", f.Path)
			}
			continue
		}
		listed[i] = true
		if e := &bag.Payload[i]; (e.SHA256 != f.SHA256 || e.Size != f.Size) && kept.mismatch == nil {
			kept.mismatch = integrity("%q does not match the signed manifest (altered)", f.Path)
		}
	}
	kept.files, kept.categories = sc.Count(), tally.Summary()
	if payload != nil && !listedSum.Equal(&payload.sum) {
		kept.mismatch = integrity("the files in the folder are not those the signed manifest lists, with its sizes and SHA-256s")
	}
	if payload != nil && kept.mismatch == nil && pathErr != nil {
		return nil, integrityWrap(fmt.Errorf("%w: %w: %v", manifest.ErrInvalid, errPathsMayCollide, pathErr), "the kept manifest is invalid")
	}
	if kept.mismatch == nil && payload == nil {
		for i, e := range bag.Payload {
			if !listed[i] {
				kept.mismatch = integrity("%q is in the folder but not in the signed manifest (added after opening?)", e.Path)
				break
			}
		}
	}
	if kept.mismatch == nil && payload == nil {
		// The list is the payload's paths: the check the Scanner
		// leaves out is made on those.
		paths := make([]string, len(bag.Payload))
		for i, e := range bag.Payload {
			paths[i] = e.Path
		}
		if err := manifest.CheckPaths(paths); err != nil {
			return nil, integrityWrap(err, "the kept manifest is invalid")
		}
	}
	if man.Version == manifest.Version1 {
		err = manifest.VerifyManifest(key, man.Version, signed.data, sig)
	} else {
		var d manifest.Digest
		signed.h.Sum(d[:0])
		err = manifest.VerifyDigest(key, &d, sig)
	}
	if err != nil {
		return nil, integrityWrap(err, "the kept manifest's signature by %s does not verify", quoteLabel(sender))
	}
	return kept, nil
}

// signedBytes takes the bytes of a kept manifest as they are read: their
// SHA-512, and the bytes themselves while hold is set.
type signedBytes struct {
	h    hash.Hash
	hold bool
	data []byte
}

func (s *signedBytes) Write(p []byte) (int, error) {
	s.h.Write(p)
	if s.hold {
		s.data = append(s.data, p...)
	}
	return len(p), nil
}

// checkBagInfo requires the kept sender card to be the expected sender's,
// naming the signed sender, and bag-info.txt to hold exactly what open
// wrote: every label derived from the signed manifest, with its signed
// values, in order, one Bagging-Date and one Payload-Oxum (which
// bagit.Read checked against the payload), and nothing else. An archivist
// reading bag-info.txt with any BagIt tool then reads only what was signed:
// a label open left out (a Source-Organization for a sender without one),
// or a spelling in another case, would otherwise read as signed.
func checkBagInfo(bag *bagit.Bag, man *manifest.Manifest, categories []manifest.CategoryTotal, sender *card.Card) error {
	kept, ok := bag.Tags[BagSenderCardName]
	if !ok {
		return integrity("%s is missing from the opened folder", BagSenderCardName)
	}
	c, err := card.Parse(kept)
	if err != nil || c.Fingerprint() != sender.Fingerprint() || manifest.PartyOf(c) != man.Sender {
		return integrity("%s is not the sender's card (altered or replaced)", BagSenderCardName)
	}
	var want []bagit.Field
	for _, f := range bagInfo(man, categories, c, time.Time{}) {
		if f.Label != "Bagging-Date" {
			// As bag-info.txt reads back: a value's leading and trailing
			// blanks are the line's, not the value's (found by an audit:
			// a case reference ending in a space made every bag of it
			// fail as altered).
			f.Value = strings.TrimSpace(f.Value)
			want = append(want, f)
		}
	}
	var got []bagit.Field
	dates, oxums := 0, 0
	for _, f := range bag.Info {
		switch f.Label {
		case "Bagging-Date":
			if _, err := time.Parse("2006-01-02", f.Value); err != nil {
				return integrity("bag-info.txt: Bagging-Date %q is not a date (altered after opening)", f.Value)
			}
			dates++
		case "Payload-Oxum":
			oxums++
		default:
			got = append(got, f)
		}
	}
	if dates != 1 || oxums != 1 {
		return integrity("bag-info.txt holds %d Bagging-Date and %d Payload-Oxum lines, not one of each (altered after opening)", dates, oxums)
	}
	labels, gotLabels := map[string]bool{}, map[string]bool{}
	for _, f := range want {
		labels[f.Label] = true
	}
	for _, f := range got {
		gotLabels[f.Label] = true
	}
	// Name what was added or removed before comparing line by line, where
	// a removed line would make the next one look changed.
	for _, f := range got {
		if !labels[f.Label] {
			return integrity("bag-info.txt: %s was added after opening (open did not write it, and the signed manifest does not say it)", f.Label)
		}
	}
	for _, f := range want {
		if !gotLabels[f.Label] {
			return integrity("bag-info.txt: %s was removed after opening", f.Label)
		}
	}
	for i := range max(len(want), len(got)) {
		switch {
		case i >= len(got):
			return integrity("bag-info.txt: %s was removed after opening", want[i].Label)
		case !labels[got[i].Label]:
			return integrity("bag-info.txt: %s was added after opening (open did not write it, and the signed manifest does not say it)", got[i].Label)
		case i >= len(want) || got[i] != want[i]:
			return integrity("bag-info.txt: %s was changed after opening (it no longer matches the signed manifest)", got[i].Label)
		}
	}
	return nil
}

// earlySyncEvery is how much payload open writes between the syncs it
// starts in the background (where syncsEarly). Tests lower it.
var earlySyncEvery int64 = 64 << 20

// earlySyncTree is the sync an early sync makes. Tests replace it.
var earlySyncTree = syncTree

// earlySync writes what was written under a root to disk in the
// background while the rest is still being written, one sync at a time,
// so that the sync before publishing waits only for what came after the
// last. The kernel would otherwise start writing it only some 30 seconds
// after it was written, or once a tenth of memory waits to be written.
type earlySync struct {
	busy atomic.Bool
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

// start starts a sync of root's tree unless one is running, and reports
// whether it did.
func (e *earlySync) start(root *os.Root) bool {
	if !syncsEarly || !e.busy.CompareAndSwap(false, true) {
		return false
	}
	e.wg.Go(func() {
		defer e.busy.Store(false)
		if err := earlySyncTree(root); err != nil {
			e.mu.Lock()
			if e.err == nil {
				e.err = err
			}
			e.mu.Unlock()
		}
	})
	return true
}

// wait waits for the sync running, if any, and returns the first error of
// any: a write error a sync reported is not reported by the next.
func (e *earlySync) wait() error {
	e.wg.Wait()
	return e.failed()
}

// failed returns the first error of the syncs that have ended.
func (e *earlySync) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}
