package bundle

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// ErrNotInBundle is returned by [Extract] when the bundle has no file at
// the requested path.
var ErrNotInBundle = errors.New("no such file in the bundle")

// ExtractResult describes one extracted file.
type ExtractResult struct {
	// Manifest is the signed manifest without its file list.
	Manifest *manifest.Manifest
	File     manifest.File
}

// Extract writes one file of a bundle to w, decrypting and decompressing
// only what it needs: the age header and final chunk, the seek table, the
// signed manifest at the end, and the frames holding the file.
//
// What it proves: the manifest is signed by the expected sender and names
// this identity as a recipient and this exact age header (so the bundle was
// not re-encrypted); every age chunk it reads is authenticated, including
// the last one; the file's entry is listed once and valid; and the file's
// bytes match its signed SHA-256. What it does not prove: that the parts of
// the bundle it did not read are intact, or that the manifest's other
// entries are valid ([manifest.ParseManifestEntry] decodes only the header
// and the one entry). Use [Verify] for that. Nothing is written to w
// before the manifest has been proven, but the caller must discard what
// was written if Extract fails (the hash is only known at the end): write
// to a temporary, as [ExtractFile] does.
func Extract(ctx context.Context, ra io.ReaderAt, size int64, name string, w io.Writer, opts ReadOptions) (*ExtractResult, error) {
	src := &recordingReaderAt{ra: ra}
	res, err := extract(ctx, src, size, name, w, opts)
	if err != nil && ctx.Err() == nil {
		// A bundle that could not be read (a failing disk, a stick pulled
		// out) is not a bundle found altered, whatever the decoder made
		// of the bytes that did not come: the source's own error
		// explains the failure, unless it is a verdict on the bytes.
		if serr := src.failure(); serr != nil {
			var ig interface{ IntegrityFailure() bool }
			if errors.As(serr, &ig) && ig.IntegrityFailure() {
				return nil, serr
			}
			return nil, fmt.Errorf("read bundle: %w", serr)
		}
	}
	return res, err
}

// recordingReaderAt passes reads to ra and keeps the first error it gave
// other than io.EOF.
type recordingReaderAt struct {
	ra  io.ReaderAt
	mu  sync.Mutex
	err error
}

func (r *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.ra.ReadAt(p, off)
	if err != nil && err != io.EOF {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	}
	return n, err
}

func (r *recordingReaderAt) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func extract(ctx context.Context, ra io.ReaderAt, size int64, name string, w io.Writer, opts ReadOptions) (*ExtractResult, error) {
	if opts.Identity == nil || opts.Sender == nil {
		return nil, errors.New("extract: an identity and the expected sender's card are required")
	}
	br := bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 64<<10)
	if isArmored(br) {
		return nil, fmt.Errorf("%w: the bundle is ASCII-armored, which allows no random access; use open (or de-armor it with age first)", ErrNoRandomAccess)
	}
	hdr, err := readAgeHeader(br)
	if err != nil {
		return nil, err
	}
	hh := headerHash(hdr)
	plain, plainSize, err := age.DecryptReaderAt(ra, size, opts.Identity.Age)
	if err != nil {
		return nil, ageError(err, opts)
	}
	ix, err := zframe.ReadIndex(plain, plainSize)
	if err != nil {
		return nil, integrityWrap(err, "the bundle's seek table is damaged")
	}
	var t trailer
	if err := canon.Unmarshal(ix.Trailer, &t, false); err != nil || t.Type != trailerType || !manifest.Supported(t.Version) ||
		t.ManifestOffset <= 0 || t.ManifestOffset >= ix.DataSize {
		return nil, integrity("the bundle's index is damaged")
	}
	tail := ix.DataSize - t.ManifestOffset
	if tail > maxPreambleEntry+manifest.MaxSignatureLen+16<<10 {
		return nil, integrity("the bundle's index points at a manifest larger than allowed")
	}
	// The end of the archive is decoded a frame at a time into one buffer,
	// and a format-2 manifest is hashed and searched for the entry as it
	// passes, never held. Decoding the 10.8 MB manifest of the 1 GiB text
	// corpus into a buffer of its size, in parallel, touched 2,650 fresh
	// pages, which on the benchmark's virtual machine cost more than the
	// decoding. A format-1 manifest, signed over its exact bytes, is read
	// whole.
	seq, err := ix.NewSeqDecoder(plain, zframe.ReaderOptions{})
	if err != nil {
		return nil, err
	}
	defer seq.Close()
	key, err := opts.Sender.SigningKey()
	if err != nil {
		return nil, err
	}
	manCap := min(tail, maxPreambleEntry)
	if t.Version == manifest.Version1 {
		if manCap, err = formatOneManifestCap(seq, t.ManifestOffset, key, opts.Sender); err != nil {
			return nil, err
		}
	}
	end, err := seq.Range(t.ManifestOffset, tail)
	if err != nil {
		return nil, integrityWrap(err, "the bundle's index is damaged")
	}
	tr := tar.NewReader(end)
	th, err := nextMetaEntry(tr, ManifestName, min(tail, manCap))
	if err != nil {
		return nil, err
	}
	scan := manifest.NewEntryScanner(name)
	var manBytes []byte
	var digest manifest.Digest
	if t.Version == manifest.Version1 {
		// Held whole anyway, for its signature.
		manBytes = make([]byte, th.Size)
		if _, err := io.ReadFull(tr, manBytes); err != nil {
			return nil, shortEntry(err, ManifestName)
		}
		scan.Write(manBytes)
	} else {
		// Nothing proves who wrote these bytes yet: a head longer than
		// preProofHead is let go, and read again once the signature
		// holds.
		scan.LimitHead(preProofHead)
		if digest, err = hashManifest(tr, th, scan); err != nil {
			return nil, err
		}
	}
	manSig, err := readMetaEntry(tr, ManifestSigName, manifest.MaxSignatureLen)
	if err != nil {
		return nil, err
	}
	// Only the header and the one entry are decoded: the signature covers
	// every byte, and checking every other entry would make the cost grow
	// with the number of files.
	man, f, perr := scan.Result()
	// A large file's frames are decoded in parallel, and start while the
	// signature is checked: nothing they hold is used, and nothing is
	// written, unless it holds. A stranger's bundle can so cost the
	// decoding of a few frames (the range reader's read-ahead, at most 8
	// MiB each) besides its manifest. A small one's are decoded after, on
	// this goroutine, into the buffer the manifest's were.
	var data io.Reader
	var dataErr error
	if perr == nil && f.Offset+f.Size <= t.ManifestOffset && f.Size > seqExtractMax {
		var rc io.ReadCloser
		if rc, dataErr = ix.NewRangeReader(plain, f.Offset, f.Size, zframe.ReaderOptions{}); dataErr == nil {
			defer rc.Close()
			data = rc
		}
	}
	if man != nil && man.Version != t.Version {
		return nil, integrity("the bundle's index is damaged: it is for format %d, its manifest for format %d", t.Version, man.Version)
	}
	if t.Version == manifest.Version1 {
		err = manifest.VerifyManifest(key, t.Version, manBytes, manSig)
	} else {
		err = manifest.VerifyDigest(key, &digest, manSig)
	}
	if err != nil {
		return nil, &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
			"the bundle's manifest is not signed by %s, whom --from names: it was altered, or someone else sent it", quoteLabel(opts.Sender)), Err: err}
	}
	if errors.Is(perr, manifest.ErrHeadTooLong) {
		if man, f, perr, err = rescanManifest(seq, t.ManifestOffset, tail, name, &digest); err != nil {
			return nil, err
		}
		if man != nil && man.Version != t.Version {
			return nil, integrity("the bundle's index is damaged: it is for format %d, its manifest for format %d", t.Version, man.Version)
		}
	}
	missing := errors.Is(perr, manifest.ErrNoEntry)
	if perr != nil && !missing {
		return nil, integrityWrap(perr, "the bundle's manifest is invalid")
	}
	if man.Sender.Fingerprint != opts.Sender.Fingerprint().Hex() {
		return nil, &VerifyError{Kind: ErrWrongSender, Msg: "the manifest names another sender than the key that signed it"}
	}
	if err := sameNameAs(opts.Sender, man.Sender.Name, man.Sender.Org); err != nil {
		return nil, err
	}
	if man.AgeHeaderSHA256 != hex.EncodeToString(hh[:]) {
		return nil, &VerifyError{Kind: ErrNotAddressed, Msg: "the bundle's age header is not the one its sender signed: it was re-encrypted or re-addressed by someone else; ask the sender for the original"}
	}
	me := opts.Identity.Card.Fingerprint().Hex()
	if !slices.ContainsFunc(man.Recipients, func(p manifest.Party) bool { return p.Fingerprint == me }) {
		return nil, &VerifyError{Kind: ErrNotAddressed, Msg: fmt.Sprintf(
			"bundle is not addressed to you (%s); someone re-encrypted it to you", opts.Identity.Card.Label())}
	}
	if opts.BundleID != "" && opts.BundleID != man.BundleID {
		return nil, integrity("the seal names bundle %s but the bundle is %s: the seal belongs to another bundle", opts.BundleID, man.BundleID)
	}
	if missing {
		return nil, fmt.Errorf("%w: %q (list the files with 'dossier inspect')", ErrNotInBundle, name)
	}
	if f.Offset+f.Size > t.ManifestOffset {
		return nil, integrity("%q lies outside the archive", f.Path)
	}
	if data == nil && dataErr == nil {
		data, dataErr = seq.Range(f.Offset, f.Size)
	}
	if dataErr != nil {
		return nil, integrityWrap(dataErr, "the bundle's index does not cover %q", f.Path)
	}
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var done int64
	for done < f.Size {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, rerr := data.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil, fmt.Errorf("write %s: %w", f.Path, werr)
			}
			done += int64(n)
			if opts.Progress != nil {
				opts.Progress(done, f.Size)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, tarErr(rerr, fmt.Sprintf("the data of %q", f.Path))
		}
	}
	var sum manifest.SHA256Sum
	h.Sum(sum[:0])
	if done != f.Size || sum != f.SHA256 {
		return nil, integrity("%q does not match its signed SHA-256: the bundle was altered", f.Path)
	}
	return &ExtractResult{Manifest: man, File: f}, nil
}

// preProofHead is the most of a format-2 manifest's head (the fields
// before its file list) that Extract holds before the manifest's signature
// is checked. A head restates the preamble's, some kilobytes; a stranger's
// "manifest" without a file list was all head, and was held whole, up to
// 256 MiB. A signed head longer than this is read again once proven.
const preProofHead = 1 << 20

// hashManifest hashes the manifest entry th, read from tr, through scan,
// and returns its SHA-512.
func hashManifest(tr *tar.Reader, th *tar.Header, scan *manifest.EntryScanner) (manifest.Digest, error) {
	var digest manifest.Digest
	h := sha512.New()
	n, err := io.Copy(io.MultiWriter(h, scan), tr)
	if err == nil && n != th.Size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return digest, shortEntry(err, ManifestName)
	}
	h.Sum(digest[:0])
	return digest, nil
}

// rescanManifest reads the format-2 manifest at [off, off+n) again, now
// that its digest is proven, without a limit on its head, and returns
// ParseManifestEntry's outcome for it (man, f, perr); err is set if the
// bytes cannot be read or are not those whose digest was proven.
func rescanManifest(seq *zframe.SeqDecoder, off, n int64, name string, proven *manifest.Digest) (man *manifest.Manifest, f manifest.File, perr, err error) {
	end, err := seq.Range(off, n)
	if err != nil {
		return nil, f, nil, integrityWrap(err, "the bundle's index is damaged")
	}
	tr := tar.NewReader(end)
	th, err := nextMetaEntry(tr, ManifestName, min(n, maxPreambleEntry))
	if err != nil {
		return nil, f, nil, err
	}
	scan := manifest.NewEntryScanner(name)
	digest, err := hashManifest(tr, th, scan)
	if err != nil {
		return nil, f, nil, err
	}
	if digest != *proven {
		return nil, f, nil, integrity("the bundle's manifest changed while it was read: read it again from a copy nobody is writing to")
	}
	man, f, perr = scan.Result()
	return man, f, perr, nil
}

// seqExtractMax is the largest file Extract decodes on one goroutine,
// after the manifest, in the manifest's buffer; a larger one is decoded in
// parallel. 16 MiB is eight of pack's frames.
const seqExtractMax = 16 << 20

// ExtractFile extracts one file of the bundle in the file bundlePath (or a
// ReaderAt spanning volumes) into out: written to a temporary beside out
// (mode 0600), checked, and only then published under out, which must not
// exist unless overwrite.
func ExtractFile(ctx context.Context, ra io.ReaderAt, size int64, name, out string, overwrite bool, opts ReadOptions) (*ExtractResult, error) {
	if st, err := os.Lstat(out); err == nil {
		if st.IsDir() {
			return nil, fmt.Errorf("%w: %s is a folder; name the file to write, such as %s", ErrTargetExists, out, filepath.Join(out, path.Base(name)))
		}
		if !overwrite {
			return nil, fmt.Errorf("%w: %s (choose another name, or pass --force to replace it)", ErrTargetExists, out)
		}
	}
	tmp, err := atomicfile.CreateTemp(out, 0o600)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	res, err := Extract(ctx, ra, size, name, tmp, opts)
	if err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("write %s: %w", out, err)
	}
	// A Ctrl-C during the sync (slow on a USB stick) publishes nothing.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", out, err)
	}
	if overwrite {
		err = atomicfile.Replace(tmp.Name(), out)
	} else {
		err = atomicfile.Publish(tmp.Name(), out)
		if errors.Is(err, atomicfile.ErrExists) {
			err = fmt.Errorf("%w: %s appeared meanwhile; nothing was replaced", ErrTargetExists, out)
		}
	}
	if err != nil {
		return nil, err
	}
	ok = true
	return res, nil
}

// formatOneManifestCap proves a format-1 bundle's preamble, as open does
// before anything else, and returns the bound the full reader puts on its
// manifest (manifestCap). A format-1 manifest is signed over its exact
// bytes, so extract holds it whole before its signature can be checked:
// without the bound a stranger's bundle could make it hold, and hash
// twice, 256 MiB. The preamble costs at most MaxPreamble, and a stranger's
// fails at its signature. (Format 2 needs none of this: its manifest is
// hashed as it passes.)
func formatOneManifestCap(seq *zframe.SeqDecoder, archiveEnd int64, key *sign.PublicKey, sender *card.Card) (int64, error) {
	head, err := seq.Range(0, archiveEnd)
	if err != nil {
		return 0, integrityWrap(err, "the bundle's index is damaged")
	}
	tr := tar.NewReader(head)
	preBytes, err := readMetaEntry(tr, PreambleName, MaxPreamble)
	if err != nil {
		return 0, err
	}
	preSig, err := readMetaEntry(tr, PreambleSigName, manifest.MaxSignatureLen)
	if err != nil {
		return 0, err
	}
	if err := manifest.Verify(key, sign.ContextPreamble, preBytes, preSig); err != nil {
		return 0, wrongSenderError(preBytes, preSig, sender, err)
	}
	pre, err := manifest.ParsePreamble(preBytes)
	if err != nil {
		return 0, integrityWrap(err, "the bundle's preamble is invalid")
	}
	if pre.Version != manifest.Version1 {
		return 0, integrity("the bundle's index is damaged: it is for format 1, its preamble for format %d", pre.Version)
	}
	return manifestCap(len(preBytes), len(pre.Files)), nil
}
