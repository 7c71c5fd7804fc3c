package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
	"github.com/dossier-evidence/dossier/pkg/manifest"
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
	if opts.Identity == nil || opts.Sender == nil {
		return nil, errors.New("extract: an identity and the expected sender's card are required")
	}
	br := bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 64<<10)
	if isArmored(br) {
		return nil, errors.New("extract: the bundle is ASCII-armored, which allows no random access; use open (or de-armor it with age first)")
	}
	hdr, err := readAgeHeader(br)
	if err != nil {
		return nil, err
	}
	hh := headerHash(hdr)
	plain, plainSize, err := age.DecryptReaderAt(ra, size, opts.Identity.Age)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%w: it is not encrypted to %s", ErrNoIdentity, opts.Identity.Card.Label())
		}
		return nil, integrityWrap(err, "not a valid age-encrypted bundle (or truncated)")
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
	// The end of the archive is decoded, in parallel, straight into one
	// buffer, and the manifest is used where it lies in it: no copy. If a
	// frame fails, the bytes before it are read as a stream would give
	// them, followed by the frame's error: it matters only if the manifest
	// or its signature reach into it, as when verify reads them.
	end := make([]byte, tail)
	n, derr := ix.DecodeRange(plain, t.ManifestOffset, end, zframe.ReaderOptions{})
	er := &decodedReader{Reader: bytes.NewReader(end[:n]), err: derr}
	tr := tar.NewReader(er)
	th, err := nextMetaEntry(tr, ManifestName, min(tail, maxPreambleEntry))
	if err != nil {
		return nil, err
	}
	// archive/tar has read exactly the entry's header blocks.
	start := int64(n) - int64(er.Len())
	if th.Size > int64(er.Len()) {
		if derr != nil {
			return nil, tarErr(derr, ManifestName)
		}
		return nil, integrity("the bundle ends early, in %q (truncated?)", ManifestName)
	}
	manBytes := end[start : start+th.Size : start+th.Size]
	manSig, err := readMetaEntry(tr, ManifestSigName, manifest.MaxSignatureLen)
	if err != nil {
		return nil, err
	}
	// The entry is looked up before the signature is checked, so that the
	// frames holding the file are decoded while it is checked: nothing they
	// hold is used, and nothing is written, unless it holds. A stranger's
	// bundle can so cost the decoding of a few frames (the range reader's
	// read-ahead, at most 8 MiB each) besides its manifest. Only the
	// header and the one entry are decoded: the signature covers every
	// byte, and checking every other entry would make the cost grow with
	// the number of files.
	man, f, perr := manifest.ParseManifestEntry(manBytes, name)
	var data io.ReadCloser
	var dataErr error
	if perr == nil && f.Offset+f.Size <= t.ManifestOffset {
		if data, dataErr = ix.NewRangeReader(plain, f.Offset, f.Size, zframe.ReaderOptions{}); dataErr == nil {
			defer data.Close()
		}
	}
	key, err := opts.Sender.SigningKey()
	if err != nil {
		return nil, err
	}
	if man != nil && man.Version != t.Version {
		return nil, integrity("the bundle's index is damaged: it is for format %d, its manifest for format %d", t.Version, man.Version)
	}
	if err := manifest.VerifyManifest(key, t.Version, manBytes, manSig); err != nil {
		return nil, &VerifyError{Kind: ErrWrongSender, Msg: fmt.Sprintf(
			"the bundle's manifest is not signed by %s, whom --from names: check who sent it", quoteLabel(opts.Sender)), Err: err}
	}
	missing := errors.Is(perr, manifest.ErrNoEntry)
	if perr != nil && !missing {
		return nil, integrityWrap(perr, "the bundle's manifest is invalid")
	}
	if man.Sender.Fingerprint != opts.Sender.Fingerprint().Hex() {
		return nil, &VerifyError{Kind: ErrWrongSender, Msg: "the manifest names another sender than the key that signed it"}
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

// decodedReader reads the bytes a range decoded well, then returns the
// error of the frame that failed after them (if one did) instead of io.EOF.
type decodedReader struct {
	*bytes.Reader
	err error
}

func (r *decodedReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF && r.err != nil {
		err = r.err
	}
	return n, err
}

// ExtractFile extracts one file of the bundle in the file bundlePath (or a
// ReaderAt spanning volumes) into out: written to a temporary beside out
// (mode 0600), checked, and only then published under out, which must not
// exist unless overwrite.
func ExtractFile(ctx context.Context, ra io.ReaderAt, size int64, name, out string, overwrite bool, opts ReadOptions) (*ExtractResult, error) {
	if _, err := os.Lstat(out); err == nil && !overwrite {
		return nil, fmt.Errorf("%w: %s (choose another name, or pass --force to replace it)", ErrTargetExists, out)
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
