package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/seal"
	"github.com/dossier-evidence/dossier/pkg/sign"
	"github.com/dossier-evidence/dossier/pkg/volume"
)

// Names of dossier's own entries in the archive.
const (
	PreambleName    = manifest.ReservedPrefix + "preamble.json"
	PreambleSigName = manifest.ReservedPrefix + "preamble.sig"
	ManifestName    = manifest.ReservedPrefix + "manifest.json"
	ManifestSigName = manifest.ReservedPrefix + "manifest.sig"
)

// ProgressFunc is told how many payload bytes of the total have been
// processed. It is called from the working goroutine and must be quick.
type ProgressFunc func(done, total int64)

// PackOptions configure [Pack].
type PackOptions struct {
	// Sender signs the bundle.
	Sender *identity.Identity
	// Recipients can decrypt the bundle; duplicates are dropped.
	Recipients []*card.Card
	// Case is the case metadata.
	Case manifest.Case
	// Now returns the creation time; nil means time.Now.
	Now func() time.Time
	// FrameSize and Concurrency tune compression (0 = defaults).
	FrameSize, Concurrency int
	// Progress, if set, is told about payload bytes packed.
	Progress ProgressFunc
	// Armor writes the age ASCII armor, for text-only channels.
	Armor bool
	// FormatVersion is the bundle format to write: 0 for the current one
	// (manifest.FormatVersion), or manifest.Version2 or Version1 for a
	// receiver whose dossier predates format 3 or 2 (the preamble, and in
	// format 1 the manifest, is then held whole to be signed: some 150
	// and 240 bytes a file).
	FormatVersion int

	// unlisted are recipients encrypted to but not named in the signed
	// recipient list: only tests set it, as a hostile sender would.
	unlisted []age.Recipient
	// listedOnly are recipients named in the signed list but not
	// encrypted to: only tests set it, as a hostile sender would.
	listedOnly []*card.Card
}

// trailer is the content of the zstd trailer frame: where the manifest
// starts in the decompressed stream, for random access.
type trailer struct {
	Type           string `json:"type"`
	Version        int    `json:"version"`
	ManifestOffset int64  `json:"manifest_offset"`
}

const trailerType = "dossier-index"

// Pack writes a bundle of plan's files to w and returns its signed
// manifest. The caller must discard what was written if Pack fails.
//
// The first Pack of a plan made by MakePlan uses the plan's entries as
// the bundle's file list rather than copying them (a plan can hold a
// million): it fills in each entry's SHA-256 and offset, the plan's
// Inputs then show them, and the returned manifest shares them (after a
// Pack that failed, they may show some). A later or concurrent Pack of
// the same plan, or of a copy of the Plan value, works on a copy.
//
// A plan made by SpoolPlan is read from its file, and the files' SHA-256s
// and offsets are kept in another (in the plan's folder) until the
// manifest is written: the returned manifest then has no Files (the
// plan's Len and Summary describe them), and so is not the document
// signed (its encoding has "files":null). Packs of one spooled plan may
// run at once.
func Pack(ctx context.Context, w io.Writer, plan *Plan, opts PackOptions) (*manifest.Manifest, error) {
	if opts.Sender == nil {
		return nil, errors.New("pack: no sender identity")
	}
	version := opts.FormatVersion
	if version == 0 {
		version = manifest.FormatVersion
	}
	if !manifest.Supported(version) {
		return nil, fmt.Errorf("%w: bundle format %d is not one dossier writes (%d, or %d or %d for older receivers)", ErrInput, version, manifest.FormatVersion, manifest.Version2, manifest.Version1)
	}
	if len(opts.Recipients) == 0 {
		return nil, errors.New("pack: no recipients: name at least one card with -r")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var recipients []age.Recipient
	var parties []manifest.Party
	seen := map[card.Fingerprint]bool{}
	for _, c := range opts.Recipients {
		fp := c.Fingerprint()
		if seen[fp] {
			continue
		}
		seen[fp] = true
		r, err := c.Recipient()
		if err != nil {
			return nil, fmt.Errorf("pack: recipient %s: %w", c.Label(), err)
		}
		recipients = append(recipients, r)
		parties = append(parties, manifest.PartyOf(c))
	}
	for _, c := range opts.listedOnly {
		parties = append(parties, manifest.PartyOf(c))
	}
	if err := opts.Case.Check(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	// The plan's own list becomes the bundle's (see Plan.takeFileList):
	// the preamble is encoded from it before any hash is filled in. A
	// spooled plan's list is read from its file each time it is needed
	// (list), and the hashes go to a file of their own (sums).
	var files []manifest.File
	var list manifest.FileSource
	var sums *sumSpool
	var err error
	if sp := plan.spooled; sp != nil {
		list = func(yield func(*manifest.File) error) error {
			return sp.each(ctx, func(in *Input) error { return yield(in.File) })
		}
		if sums, err = newSumSpool(sp.dir); err != nil {
			return nil, err
		}
		defer sums.close()
	} else if files, err = plan.takeFileList(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}

	idBytes := make([]byte, 16)
	if _, err := rand.Read(idBytes); err != nil {
		return nil, fmt.Errorf("pack: bundle id: %w", err)
	}

	var armored io.WriteCloser
	if opts.Armor {
		armored = armor.NewWriter(w)
		w = armored
	}
	capture := &headerCapture{w: w, keep: true}
	aw, err := age.Encrypt(capture, append(recipients, opts.unlisted...)...)
	if err != nil {
		return nil, fmt.Errorf("pack: encrypt: %w", err)
	}
	capture.keep = false
	raw := capture.buf.Bytes()
	if len(raw) <= 16 {
		return nil, errors.New("pack: age wrote no header")
	}
	hdrHash := headerHash(raw[:len(raw)-16]) // the last 16 bytes are the stream nonce

	created := now().UTC().Truncate(time.Second)
	pre := &manifest.Preamble{
		Type:            manifest.PreambleType,
		Version:         version,
		BundleID:        hex.EncodeToString(idBytes),
		Created:         created.Format(time.RFC3339),
		Sender:          opts.Sender.Card,
		Recipients:      parties,
		AgeHeaderSHA256: hex.EncodeToString(hdrHash[:]),
		Case:            opts.Case,
		TotalSize:       plan.TotalSize,
		Files:           files,
	}
	// Check what we are about to sign by the rules a receiver applies.
	// (Parsing the encoding back, as a receiver does, held a second copy
	// of the file list: 50 MB at 150,000 files.)
	check, writePre := pre.Check, pre.WriteTo
	if list != nil {
		check = func() error { return pre.CheckList(list) }
		writePre = func(w io.Writer) (int64, error) { return pre.WriteList(w, list) }
	}
	if err := check(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	preSig, preHash, preLen, err := signPreamble(pre, writePre, opts.Sender.Key)
	if err != nil {
		return nil, err
	}
	if preLen > MaxPreamble {
		return nil, fmt.Errorf("%w: the file list (%d files) makes a preamble of %d bytes, more than the %d a receiver accepts; split the case into several bundles", ErrInput, plan.Len(), preLen, MaxPreamble)
	}

	zw, err := zframe.NewWriter(aw, zframe.WriterOptions{FrameSize: opts.FrameSize, Concurrency: opts.Concurrency})
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	// On failure (an interrupt, a full disk), wait for the compressor's
	// output goroutine before returning: it may still be writing to w,
	// which the caller then discards (PackFile removes its temporaries),
	// and a write racing with that crashed the process or left a new
	// temporary behind.
	complete := false
	defer func() {
		if !complete {
			zw.Close(nil)
		}
	}()
	tw := tar.NewWriter(zw)
	writeMetaHeader := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: created, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR})
	}
	writeMeta := func(name string, data []byte) error {
		if err := writeMetaHeader(name, int64(len(data))); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := writePreamble(tw, writeMetaHeader, writePre, preLen, preHash); err != nil {
		return nil, err
	}
	if err := writeMeta(PreambleSigName, preSig); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	// The preamble ends its own frame, so a receiver can check it before
	// decompressing any payload.
	if err := tw.Flush(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if err := zw.Flush(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}

	var done int64
	h := sha256.New()
	buf := make([]byte, 256<<10)
	opener := newInputOpener(plan.roots)
	defer opener.close()
	i := 0
	err = plan.Each(ctx, func(in *Input) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		off, sum, err := packFile(ctx, tw, zw, opener, in, h, buf, func(n int64) {
			done += n
			if opts.Progress != nil {
				opts.Progress(done, plan.TotalSize)
			}
		})
		if err != nil {
			return err
		}
		if sums != nil {
			return sums.add(sum, off)
		}
		files[i].SHA256 = sum
		files[i].Offset = off
		i++
		return nil
	})
	if err != nil {
		return nil, err
	}
	var packed manifest.FileSource
	if sums != nil {
		if err := sums.s.Finish(); err != nil {
			return nil, fmt.Errorf("pack: keep the files' hashes on disk: %w", err)
		}
		packed = sums.packed(ctx, plan.spooled)
	}

	if err := tw.Flush(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if err := zw.Flush(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	manifestOffset := zw.Offset()
	man := manifest.Restatement(pre, hex.EncodeToString(preHash[:]), files)
	manSig, err := writeManifest(tw, writeMetaHeader, man, packed, opts.Sender.Key)
	if err != nil {
		return nil, err
	}
	if err := writeMeta(ManifestSigName, manSig); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	tr, err := canon.Marshal(&trailer{Type: trailerType, Version: version, ManifestOffset: manifestOffset})
	if err != nil {
		return nil, err
	}
	if err := zw.Close(tr); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("pack: encrypt: %w", err)
	}
	if armored != nil {
		if err := armored.Close(); err != nil {
			return nil, fmt.Errorf("pack: armor: %w", err)
		}
	}
	complete = true
	return man, nil
}

// signPreamble signs pre, which write encodes, and returns the signature
// file and the SHA-256 and length of pre's encoding. A format-3 signature
// covers the encoding's SHA-512, so the encoding is hashed as it is
// written, never held; an older format's covers the bytes, which are held
// while they are signed and then let go, before the compressor's buffers
// are made (held across, they were pack's peak: 20 MB at 100,000 files
// on top of the plan and the buffers). The archive gets the encoding
// written again.
func signPreamble(pre *manifest.Preamble, write func(io.Writer) (int64, error), key *sign.PrivateKey) (sig []byte, sum [32]byte, size int64, err error) {
	if pre.Version < manifest.Version3 {
		var preBytes []byte
		if pre.Files != nil {
			preBytes, err = pre.Marshal() // in one buffer of its size
		} else {
			preBytes, err = encodeSized(write)
		}
		if err != nil {
			return nil, sum, 0, fmt.Errorf("pack: %w", err)
		}
		if sig, err = manifest.SignPreamble(key, pre.Version, preBytes); err != nil {
			return nil, sum, 0, fmt.Errorf("pack: sign preamble: %w", err)
		}
		return sig, sha256.Sum256(preBytes), int64(len(preBytes)), nil
	}
	h512, h256 := sha512.New(), sha256.New()
	if size, err = write(io.MultiWriter(h512, h256)); err != nil {
		return nil, sum, 0, fmt.Errorf("pack: %w", err)
	}
	var d manifest.Digest
	h512.Sum(d[:0])
	if sig, err = manifest.SignPreambleDigest(key, &d); err != nil {
		return nil, sum, 0, fmt.Errorf("pack: sign preamble: %w", err)
	}
	h256.Sum(sum[:0])
	return sig, sum, size, nil
}

// packFile writes one file's tar entry and returns the data's offset in the
// decompressed stream and its SHA-256. The file must still be the one that
// was planned: a regular file with the same size, modification time,
// device and inode, before and after reading.
func packFile(ctx context.Context, tw *tar.Writer, zw *zframe.Writer, opener *inputOpener, in *Input, h hash.Hash, buf []byte, progress func(int64)) (int64, manifest.SHA256Sum, error) {
	f, err := opener.open(in)
	if errors.Is(err, fs.ErrPermission) {
		return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: cannot read %s: %w", ErrInput, in.Source(), err)
	}
	if err != nil {
		return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: cannot read %s: %v (was it replaced while packing?)", ErrInput, in.Source(), err)
	}
	defer f.Close()
	regular, now, err := f.stat()
	if err != nil {
		return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: cannot read %s: %v", ErrInput, in.Source(), err)
	}
	if !regular || in.replaced(now) {
		return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: %s was replaced while packing; pack again", ErrInput, in.Source())
	}
	if !in.unchanged(now) {
		return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: %s changed while packing; pack again when it is no longer being written", ErrInput, in.Source())
	}
	hdr := &tar.Header{
		Name:     in.File.Path,
		Mode:     int64(in.File.Mode),
		Size:     in.File.Size,
		ModTime:  in.File.MTime.Time(),
		Typeflag: tar.TypeReg,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return 0, manifest.SHA256Sum{}, fmt.Errorf("pack: %s: %w", in.File.Path, err)
	}
	off := zw.Offset()
	h.Reset()
	if err := copyPlanned(ctx, f, in.File.Size, buf, io.MultiWriter(h, tw), progress); err != nil {
		switch {
		case errors.Is(err, errGrew):
			return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: %s grew while packing; pack again when it is no longer being written", ErrInput, in.Source())
		case errors.Is(err, errShrank):
			return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: %s shrank while packing; pack again when it is no longer being written", ErrInput, in.Source())
		case errors.As(err, new(writeError)):
			return 0, manifest.SHA256Sum{}, fmt.Errorf("pack: %w", errors.Unwrap(err))
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return 0, manifest.SHA256Sum{}, err
		}
		return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: cannot read %s: %v", ErrInput, in.Source(), err)
	}
	if _, now, err := f.stat(); err != nil || !in.unchanged(now) {
		return 0, manifest.SHA256Sum{}, fmt.Errorf("%w: %s changed while packing; pack again when it is no longer being written", ErrInput, in.Source())
	}
	var sum manifest.SHA256Sum
	h.Sum(sum[:0])
	return off, sum, nil
}

// Errors of copyPlanned.
var (
	errGrew   = errors.New("the file holds more than planned")
	errShrank = errors.New("the file holds less than planned")
)

// writeError is a failure of copyPlanned's writer, as opposed to its
// reader.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// copyPlanned copies a file's planned size bytes from r to w, never more.
// It fails with errShrank if r ends early, and with errGrew if a read
// returns more than planned: the read that reaches the planned size asks
// for one byte more where buf allows, so a grown file shows it there, and
// one that did not grow needs no further read to find its end. A short
// read that reaches the planned size is taken as the end: on a file system
// that returns less than asked before the end, growth is then left to
// packFile's fstat afterwards, which compares the size.
func copyPlanned(ctx context.Context, r io.Reader, size int64, buf []byte, w io.Writer, progress func(int64)) error {
	remaining := size
	probed := false
	for remaining > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := int64(len(buf))
		if want > remaining {
			want = remaining + 1
		}
		m, err := r.Read(buf[:want])
		if int64(m) > remaining {
			return errGrew
		}
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil {
				return writeError{werr}
			}
			remaining -= int64(m)
			probed = want > int64(m)
			progress(int64(m))
		}
		if errors.Is(err, io.EOF) {
			if remaining > 0 {
				return errShrank
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	if !probed {
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return errGrew
		}
	}
	return nil
}

// FileOptions say how [PackFile] writes its output.
type FileOptions struct {
	// Overwrite replaces existing output files.
	Overwrite bool
	// Split, if positive, cuts the bundle into volumes of this many bytes
	// named OUT.001, OUT.002, …, each with its own seal.
	Split int64
}

// FileResult describes the files PackFile published.
type FileResult struct {
	Manifest *manifest.Manifest
	// Paths are the bundle file, or its volumes in order.
	Paths []string
	// Digest is the BLAKE2b-512 of the whole bundle (as b2sum prints it).
	Digest []byte
}

// PackFile packs to the file at path and seals it (path + ".minisig";
// with Split, every volume gets its own seal). Everything is written to
// temporaries beside path, synced, and renamed to the final names only
// when complete; existing files are never replaced unless Overwrite. On any
// failure nothing is left behind.
func PackFile(ctx context.Context, path string, fo FileOptions, plan *Plan, opts PackOptions) (*FileResult, error) {
	if fo.Split < 0 {
		return nil, errors.New("pack: negative volume size")
	}
	if fo.Split > 0 && fo.Split < MinVolumeSize {
		return nil, fmt.Errorf("pack: volumes must be at least %d bytes", MinVolumeSize)
	}
	w, err := volume.NewWriter(path, fo.Split, fo.Overwrite)
	if err != nil {
		if errors.Is(err, volume.ErrExists) {
			return nil, &existsError{err}
		}
		return nil, err
	}
	defer w.Abort()
	man, err := Pack(ctx, w, plan, opts)
	if err != nil {
		return nil, err
	}
	paths, err := w.PublishContext(ctx, func(i, n int, digest []byte) ([]byte, error) {
		info := seal.Info{BundleID: man.BundleID}
		if fo.Split > 0 {
			info.Volume, info.Volumes = i+1, n
		}
		return seal.Sign(opts.Sender.Key, opts.Sender.Card, digest, info)
	})
	if err != nil {
		if errors.Is(err, volume.ErrExists) {
			return nil, &existsError{err}
		}
		return nil, err
	}
	return &FileResult{Manifest: man, Paths: paths, Digest: w.Digest()}, nil
}

// MinVolumeSize is the smallest volume size PackFile accepts.
const MinVolumeSize = 64 << 10

// writePreamble writes the preamble's encoding (write) as the preamble
// entry, a piece at a time, checking that it is the one signed: size
// bytes that hash to sum.
func writePreamble(tw *tar.Writer, header func(name string, size int64) error, write func(io.Writer) (int64, error), size int64, sum [32]byte) error {
	if err := header(PreambleName, size); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	h := sha256.New()
	differs := errors.New("pack: internal error: the preamble encoded differently the second time")
	n, err := write(io.MultiWriter(tw, h))
	if errors.Is(err, tar.ErrWriteTooLong) {
		return differs // longer than the signed encoding
	}
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	var got [32]byte
	if h.Sum(got[:0]); n != size || got != sum {
		return differs
	}
	return nil
}

// writeManifest signs man, with the file list list gives (man.Files if
// list is nil), and writes its tar entry; it returns the signature file.
// A format-2 or 3 manifest is signed by its SHA-512, so it is never held
// whole: it is encoded once into the hash and once into the archive (at
// 100,000 files it is some 24 MB). A format-1 signature covers the
// bytes, which are then held.
func writeManifest(tw *tar.Writer, header func(name string, size int64) error, man *manifest.Manifest, list manifest.FileSource, key *sign.PrivateKey) ([]byte, error) {
	write := man.WriteTo
	if list != nil {
		write = func(w io.Writer) (int64, error) { return man.WriteList(w, list) }
	}
	var sig, data []byte
	var size int64
	var digest manifest.Digest
	var err error
	if man.Version == manifest.Version1 {
		if list == nil {
			data, err = man.Marshal() // in one buffer of its size
		} else {
			data, err = encodeSized(write)
		}
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		size = int64(len(data))
		sig, err = manifest.SignManifest(key, manifest.Version1, data)
	} else {
		h := sha512.New()
		if size, err = write(h); err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		h.Sum(digest[:0])
		sig, err = manifest.SignDigest(key, &digest)
	}
	if err != nil {
		return nil, fmt.Errorf("pack: sign manifest: %w", err)
	}
	if err := header(ManifestName, size); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if data != nil {
		_, err = tw.Write(data)
	} else {
		// A list read back from disk is hashed again as it is written:
		// what goes out must be what was signed.
		var again hash.Hash
		to := io.Writer(tw)
		if list != nil {
			again = sha512.New()
			to = io.MultiWriter(tw, again)
		}
		var n int64
		if n, err = write(to); err == nil && (n != size || again != nil && !bytes.Equal(again.Sum(nil), digest[:])) {
			err = errors.New("internal error: the manifest encoded differently the second time")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return sig, nil
}

// encodeSized returns what write writes, in one buffer of its size: write
// is called twice, first to count. (A buffer grown by doubling held up to
// twice the document, which formats 1 and 2 hold to sign: found by
// review, a format-1 pack of 100,000 files peaked at 83 MB.)
func encodeSized(write func(io.Writer) (int64, error)) ([]byte, error) {
	n, err := write(io.Discard)
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, n))
	if _, err := write(buf); err != nil {
		return nil, err
	}
	if int64(buf.Len()) != n {
		return nil, errors.New("internal error: a document encoded differently the second time")
	}
	return buf.Bytes(), nil
}

// existsError is a volume.ErrExists error reported as ErrTargetExists,
// its reason said once ("target already exists: OUT (…)", not "target
// already exists: the output exists: OUT (…)").
type existsError struct{ err error }

func (e *existsError) Error() string {
	return ErrTargetExists.Error() + ": " + strings.TrimPrefix(e.err.Error(), volume.ErrExists.Error()+": ")
}

func (e *existsError) Unwrap() []error { return []error{ErrTargetExists, e.err} }
