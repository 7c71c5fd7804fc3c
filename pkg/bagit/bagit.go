// Package bagit writes and validates BagIt bags (RFC 8493, version 1.0)
// with SHA-256 manifests.
//
// A bag is a folder holding bagit.txt, a payload under data/, a payload
// manifest (manifest-sha256.txt), optional tag files such as bag-info.txt,
// and a tag manifest (tagmanifest-sha256.txt) over the tag files. Manifest
// lines are written "HASH  data/PATH", which `sha256sum -c` also accepts.
package bagit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/dossier-evidence/dossier/pkg/internal/multiset"
	"github.com/dossier-evidence/dossier/pkg/internal/textarena"
)

// File names fixed by RFC 8493.
const (
	DeclarationName = "bagit.txt"
	InfoName        = "bag-info.txt"
	ManifestName    = "manifest-sha256.txt"
	TagManifestName = "tagmanifest-sha256.txt"
	PayloadDir      = "data"
)

// ErrInvalid is wrapped by every validation failure.
var ErrInvalid = errors.New("bagit: invalid bag")

// Field is one bag-info.txt label and value.
type Field struct {
	Label, Value string
}

// Entry is a payload file: its path relative to data/ (slash-separated)
// and SHA-256.
type Entry struct {
	Path   string
	SHA256 [32]byte
	Size   int64
}

// Bag is a bag's validated content.
type Bag struct {
	Info    []Field
	Payload []Entry
	// Tags maps the names of tag files other than the four fixed ones to
	// their content.
	Tags map[string][]byte
	// EmptyFolders lists the folders below data/ (slash-separated, from
	// the bag's top) that hold no file at any depth: the payload
	// manifest cannot list them, so a bag stays valid with them.
	EmptyFolders []string
}

// InfoValue returns the first value of label in bag-info.txt.
func (b *Bag) InfoValue(label string) string {
	for _, f := range b.Info {
		if strings.EqualFold(f.Label, label) {
			return f.Value
		}
	}
	return ""
}

// WriteTags completes a bag at dir whose payload is already under
// dir/data: it writes bagit.txt, bag-info.txt (info plus Payload-Oxum),
// manifest-sha256.txt from payload, the extra tag files (each written
// from its source, hashed as it is written, so a large one need not be
// held), and the tag manifest. Files are created with mode 0600 and
// synced.
func WriteTags(dir string, info []Field, payload []Entry, tags map[string]io.WriterTo) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("bagit: %w", err)
	}
	defer root.Close()
	return WriteTagsIn(root, info, slices.Values(payload), tags)
}

// Written is a tag file that is in the bag already, with the SHA-256
// given: WriteTagsIn lists it in the tag manifest and does not write it
// (a caller that wrote a large tag file as it came need not hold or copy
// it). The caller syncs it.
type Written struct{ SHA256 [sha256.Size]byte }

// WriteTo fails: a Written tag file is not written again.
func (Written) WriteTo(io.Writer) (int64, error) {
	return 0, errors.New("bagit: a tag file already written cannot be written again")
}

// WriteTagsIn is WriteTags for the bag at root, whose files it creates
// through root (so that a folder swapped for a link meanwhile cannot send
// them elsewhere), and for a payload given as a sequence, which it goes
// through once, writing the payload manifest and counting Payload-Oxum: a
// caller that holds its files in another form need not make a list of
// Entry (56 bytes a file, 8 MB at 150,000 files) to write the bag.
func WriteTagsIn(root *os.Root, info []Field, payload iter.Seq[Entry], tags map[string]io.WriterTo) error {
	for name := range tags {
		if name == DeclarationName || name == InfoName || name == ManifestName || name == TagManifestName || strings.Contains(name, "/") || strings.HasPrefix(name, "manifest-") || strings.HasPrefix(name, "tagmanifest-") {
			return fmt.Errorf("bagit: tag file name %q is reserved or nested", name)
		}
	}
	// The payload manifest has a line per file, megabytes for a large
	// bag: it is hashed as it is written rather than held.
	sum, oxBytes, oxFiles, err := writePayloadManifest(root, ManifestName, payload)
	if err != nil {
		return fmt.Errorf("bagit: write %s: %w", ManifestName, err)
	}
	info = append(slices.Clone(info), Field{"Payload-Oxum", fmt.Sprintf("%d.%d", oxBytes, oxFiles)})

	files := map[string]io.WriterTo{
		DeclarationName: bytes.NewReader([]byte("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")),
		InfoName:        bytes.NewReader(encodeInfo(info)),
	}
	for name, src := range tags {
		files[name] = src
	}
	sums := map[string][sha256.Size]byte{ManifestName: sum}
	for n, src := range files {
		if w, ok := src.(Written); ok {
			sums[n] = w.SHA256
			continue
		}
		sum, err := writeHashed(root, n, func(w io.Writer) error {
			_, err := src.WriteTo(w)
			return err
		})
		if err != nil {
			return fmt.Errorf("bagit: write %s: %w", n, err)
		}
		sums[n] = sum
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	slices.Sort(names)
	var tm bytes.Buffer
	for _, n := range names {
		sum := sums[n]
		fmt.Fprintf(&tm, "%s  %s\n", hex.EncodeToString(sum[:]), encodePath(n))
	}
	if _, err := writeHashed(root, TagManifestName, func(w io.Writer) error {
		_, err := w.Write(tm.Bytes())
		return err
	}); err != nil {
		return fmt.Errorf("bagit: write %s: %w", TagManifestName, err)
	}
	return nil
}

// writePayloadManifest writes manifest-sha256.txt for payload to name in
// root, synced, and returns its SHA-256 and the payload's bytes and files.
func writePayloadManifest(root *os.Root, name string, payload iter.Seq[Entry]) (sum [sha256.Size]byte, payloadBytes int64, payloadFiles int, err error) {
	sum, err = writeHashed(root, name, func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 64<<10)
		var line []byte
		for e := range payload {
			payloadBytes += e.Size
			payloadFiles++
			line = hex.AppendEncode(line[:0], e.SHA256[:])
			line = append(line, "  "...)
			line = append(line, PayloadDir+"/"...)
			line = appendEscaped(line, e.Path) // after data/, no leading blank
			line = append(line, '\n')
			w.Write(line) // a write error is kept for Flush
		}
		return w.Flush()
	})
	return sum, payloadBytes, payloadFiles, err
}

// writeHashed is writeSynced that also returns the SHA-256 of what write
// wrote.
func writeHashed(root *os.Root, name string, write func(io.Writer) error) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	h := sha256.New()
	err := writeSynced(root, name, func(f io.Writer) error { return write(io.MultiWriter(f, h)) })
	h.Sum(sum[:0])
	return sum, err
}

// writeSynced creates the new file name in root (mode 0600), fills it
// with write, and syncs it.
func writeSynced(root *os.Root, name string, write func(io.Writer) error) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// encodeInfo writes bag-info.txt; a value's line breaks become
// continuation lines (indented), as RFC 8493 allows.
func encodeInfo(info []Field) []byte {
	var b bytes.Buffer
	for _, f := range info {
		v := strings.ReplaceAll(strings.ReplaceAll(f.Value, "\r\n", "\n"), "\r", "\n")
		fmt.Fprintf(&b, "%s: %s\n", f.Label, strings.ReplaceAll(v, "\n", "\n  "))
	}
	return b.Bytes()
}

// encodePath percent-encodes what RFC 8493 requires in manifest paths.
func encodePath(p string) string {
	// A manifest line's path starts after the blanks that follow the
	// hash: a path's own leading blank is written encoded, or it would
	// be read as part of the separator (found by fuzzing; a payload path
	// starts with data/, so only a tag file's could).
	var b []byte
	switch {
	case strings.HasPrefix(p, " "):
		b, p = []byte("%20"), p[1:]
	case strings.HasPrefix(p, "\t"):
		b, p = []byte("%09"), p[1:]
	}
	return string(appendEscaped(b, p))
}

// appendEscaped appends p with its percent signs and line breaks
// percent-encoded. It is called for every file of a payload manifest,
// and builds nothing per call (a strings.Replacer made for each path
// was most of the time open took to write the manifest of 44,500 files).
func appendEscaped(b []byte, p string) []byte {
	for {
		i := strings.IndexAny(p, "%\r\n")
		if i < 0 {
			return append(b, p...)
		}
		b = append(b, p[:i]...)
		switch p[i] {
		case '%':
			b = append(b, "%25"...)
		case '\r':
			b = append(b, "%0D"...)
		case '\n':
			b = append(b, "%0A"...)
		}
		p = p[i+1:]
	}
}

func decodePath(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' {
			b.WriteByte(p[i])
			continue
		}
		if i+2 >= len(p) {
			return "", fmt.Errorf("%w: bad percent-encoding in %q", ErrInvalid, p)
		}
		v, err := strconv.ParseUint(p[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("%w: bad percent-encoding in %q", ErrInvalid, p)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// maxTagFile caps tag files, read into memory or as streams.
const maxTagFile = 512 << 20

// Read validates the bag at dir completely: the declaration, that every
// payload file is listed and every listed file exists with the listed
// SHA-256 and nothing else is in data/, Payload-Oxum, and the tag manifest.
// Links and special files anywhere in the bag are refused. The bag is read
// through an os.Root, one folder at a time, so a payload path as long as
// open may write (4096 bytes below data/) is read under any dir, however
// long the two are together.
//
// The payload manifest is read as a stream, never held: its entries are
// what Read keeps of it (Bag.Payload, some 56 bytes a file and the path).
func Read(dir string) (*Bag, error) {
	return ReadWith(context.Background(), dir, ReadOptions{})
}

// A TagReader reads a tag file that [ReadWith] does not hold, once the
// rest of the bag (payload included) has been validated: bag is the bag
// as ReadWith will return it, and r gives the file's content, which
// ReadWith hashes as it is read and checks against the tag manifest once
// the TagReader has returned (reading what it left). A file that does not
// match its SHA-256 is reported as altered, whatever the TagReader
// returned; otherwise ReadWith returns the TagReader's error.
type TagReader func(bag *Bag, r io.Reader) error

// ReadOptions adjust [ReadWith].
type ReadOptions struct {
	// Streamed names tag files too large to hold: each is not read into
	// Bag.Tags but given to its TagReader, if the bag has it (a
	// TagReader not called means the file is missing).
	Streamed map[string]TagReader
	// Progress, if set, is told the payload bytes hashed so far and the
	// total that Payload-Oxum states (-1 if it states none), about every
	// MiB and once at the end of the payload.
	Progress func(done, total int64)
	// EachPayload, if set, makes ReadWith hold no list of the payload:
	// Bag.Payload is nil, and each payload file is given to EachPayload
	// instead, with its size, in the payload manifest's order, once it
	// has been hashed and matched its line. The files are hashed in that
	// order, opened by the paths listed; a walk of data/ beforehand, which
	// keeps only a sum of the names it finds (see pkg/internal/multiset),
	// shows that they are exactly the files there. Until ReadWith returns
	// without an error nothing given is known to be valid (the manifest's
	// own hash is checked at its end), and an error may then come with
	// other words than the read without EachPayload would give (the file
	// found but not listed is not named), and, for a listed file that
	// cannot be read, not as an ErrInvalid: a caller that reports
	// failures reads again without it to say what is wrong. A manifest
	// that lists more files or more bytes than the walk found is refused
	// as soon as it does, so no more is hashed than the folder holds.
	// EmptyFolders is then sorted by path.
	EachPayload func(e Entry) error
}

// ReadWith is Read with options, and ends with ctx's error once ctx is
// done (checked before each file and about every MiB hashed): a bag of
// many gigabytes takes minutes to read.
func ReadWith(ctx context.Context, dir string, opts ReadOptions) (*Bag, error) {
	streamed := opts.Streamed
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	defer root.Close()
	decl, err := readTag(root, DeclarationName)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(decl, []byte("BagIt-Version: ")) || !bytes.Contains(decl, []byte("Tag-File-Character-Encoding: UTF-8")) {
		return nil, fmt.Errorf("%w: %s is not a BagIt declaration", ErrInvalid, DeclarationName)
	}
	bag := &Bag{Tags: map[string][]byte{}}

	// Tag files: everything at the top level except data/. The payload
	// manifest and the streamed files are read later, as streams.
	top, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	tagFiles := map[string][]byte{}
	present := map[string]bool{}
	for _, e := range top {
		name := e.Name()
		if name == PayloadDir {
			if !e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
				return nil, fmt.Errorf("%w: %s is not a folder", ErrInvalid, PayloadDir)
			}
			continue
		}
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, name)
		}
		present[name] = true
		if _, ok := streamed[name]; ok || name == ManifestName {
			continue
		}
		data, err := readTag(root, name)
		if err != nil {
			return nil, err
		}
		tagFiles[name] = data
	}

	// Tag manifest.
	tm, ok := tagFiles[TagManifestName]
	if !ok {
		return nil, fmt.Errorf("%w: %s is missing", ErrInvalid, TagManifestName)
	}
	tmLines, err := parseManifest(tm, TagManifestName)
	if err != nil {
		return nil, err
	}
	for name, sum := range tmLines {
		if !present[name] {
			return nil, fmt.Errorf("%w: tag file %s listed in %s is missing", ErrInvalid, name, TagManifestName)
		}
		if data, held := tagFiles[name]; held && sha256.Sum256(data) != sum {
			return nil, fmt.Errorf("%w: tag file %s does not match its SHA-256 (altered)", ErrInvalid, name)
		}
	}
	for name := range present {
		if _, ok := tmLines[name]; !ok && name != TagManifestName {
			return nil, fmt.Errorf("%w: tag file %s is not listed in %s", ErrInvalid, name, TagManifestName)
		}
		switch name {
		case DeclarationName, InfoName, ManifestName, TagManifestName:
		default:
			if data, held := tagFiles[name]; held {
				bag.Tags[name] = data
			}
		}
	}
	if info, ok := tagFiles[InfoName]; ok {
		bag.Info, err = parseInfo(info)
		if err != nil {
			return nil, err
		}
	}

	if !present[ManifestName] {
		return nil, fmt.Errorf("%w: %s is missing", ErrInvalid, ManifestName)
	}
	hashed := &hashProgress{ctx: ctx, report: opts.Progress, total: oxumBytes(bag.InfoValue("Payload-Oxum"))}
	read := readPayload
	if opts.EachPayload != nil {
		read = func(ctx context.Context, root *os.Root, bag *Bag, want [32]byte, hashed *hashProgress) error {
			return readPayloadStreamed(ctx, root, bag, want, hashed, opts.EachPayload)
		}
	}
	if err := read(ctx, root, bag, tmLines[ManifestName], hashed); err != nil {
		return nil, err
	}

	// Streamed tag files, in name order, now that the bag is known.
	names := make([]string, 0, len(streamed))
	for name := range streamed {
		if present[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		read := streamed[name]
		if err := readStreamed(root, name, tmLines[name], func(r io.Reader) error { return read(bag, r) }); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	return bag, nil
}

// readPayload reads the payload manifest (whose tag manifest line is
// want) into bag.Payload, sorted by path, and validates the payload
// against it, hashing each file as the walk of data/ meets it.
func readPayload(ctx context.Context, root *os.Root, bag *Bag, want [32]byte, hashed *hashProgress) error {
	// Payload manifest, read as a stream: a line per file, 16 MB at
	// 150,000 files.
	err := readStreamed(root, ManifestName, want, func(r io.Reader) error {
		var err error
		bag.Payload, err = readPayloadManifest(r)
		return err
	})
	if err != nil {
		return err
	}
	var folders []string
	data, err := openPayloadDir(root)
	if err != nil {
		return err
	}
	defer data.Close()
	err = walkFolder(data, PayloadDir, func(dir *os.Root, name, rel string, d fs.DirEntry) error {
		if d.IsDir() {
			folders = append(folders, rel)
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%w: %s is not a regular file", ErrInvalid, rel)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		i, ok := bag.Find(strings.TrimPrefix(rel, PayloadDir+"/"))
		if !ok {
			return fmt.Errorf("%w: %s is not listed in %s (added after opening?)", ErrInvalid, rel, ManifestName)
		}
		e := &bag.Payload[i]
		sum, size, err := hashFile(dir, name, hashed)
		if err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		if sum != e.SHA256 {
			return fmt.Errorf("%w: %s does not match its SHA-256 (altered)", ErrInvalid, rel)
		}
		e.Size = size // found: what is left unsized at the end is missing
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			err = fmt.Errorf("bagit: %w", err)
		}
		return err
	}
	hashed.end()
	for _, e := range bag.Payload {
		if e.Size < 0 {
			return fmt.Errorf("%w: %s/%s is listed in %s but missing", ErrInvalid, PayloadDir, e.Path, ManifestName)
		}
	}
	// A folder holds a file if some file's path starts with it.
	holding := map[string]bool{}
	for _, e := range bag.Payload {
		rel := PayloadDir + "/" + e.Path
		for i := len(rel) - 1; i > 0; i-- {
			if rel[i] == '/' {
				if holding[rel[:i]] {
					break
				}
				holding[rel[:i]] = true
			}
		}
	}
	for _, f := range folders {
		if !holding[f] {
			bag.EmptyFolders = append(bag.EmptyFolders, f)
		}
	}
	if ox := bag.InfoValue("Payload-Oxum"); ox != "" {
		var total int64
		for _, e := range bag.Payload {
			total += e.Size
		}
		if ox != fmt.Sprintf("%d.%d", total, len(bag.Payload)) {
			return fmt.Errorf("%w: Payload-Oxum %s does not match the payload (%d bytes in %d files)", ErrInvalid, ox, total, len(bag.Payload))
		}
	}
	return nil
}

// openPayloadDir opens the bag's data/ folder.
func openPayloadDir(root *os.Root) (*os.Root, error) {
	data, err := root.OpenRoot(PayloadDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: the payload folder %s is missing", ErrInvalid, PayloadDir)
	} else if err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	return data, nil
}

// readPayloadStreamed validates the payload as readPayload does, holding
// no list (see ReadOptions.EachPayload): a walk of data/ sums the names
// of the files it finds, and then each file the payload manifest lists is
// hashed, its name added to a second sum, and given to each. The two sums
// are equal only if the files listed are exactly the files found, each
// listed once.
func readPayloadStreamed(ctx context.Context, root *os.Root, bag *Bag, want [32]byte, hashed *hashProgress, each func(Entry) error) error {
	data, err := openPayloadDir(root)
	if err != nil {
		return err
	}
	defer data.Close()
	names := multiset.NewHasher()
	var found, listed multiset.Sum
	var foundBytes int64
	_, err = walkNames(ctx, data, PayloadDir, func(rel string, size int64) {
		names.Add(&found, []byte(rel))
		foundBytes += size
	}, &bag.EmptyFolders)
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			err = fmt.Errorf("bagit: %w", err)
		}
		return err
	}
	slices.Sort(bag.EmptyFolders)
	files := &folderCache{data: data}
	defer files.close()
	var total int64
	err = readStreamed(root, ManifestName, want, func(r io.Reader) error {
		return scanManifest(r, ManifestName, func(p string, sum [32]byte) error {
			rest, ok := strings.CutPrefix(p, PayloadDir+"/")
			if !ok {
				return fmt.Errorf("%w: %s is listed in %s but missing from %s/", ErrInvalid, p, ManifestName, PayloadDir)
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("bagit: %w", err)
			}
			// A manifest that lists more files, or more bytes, than the
			// walk found is wrong already: it is not hashed on (one big
			// file listed a million times would be hashed a million
			// times before the sums showed it).
			if listed.Len() == found.Len() {
				return fmt.Errorf("%w: %s lists more files than %s/ holds (%d; one listed twice?)", ErrInvalid, ManifestName, PayloadDir, found.Len())
			}
			got, size, err := files.hash(rest, hashed, foundBytes-total)
			switch {
			case missing(err):
				return fmt.Errorf("%w: %s is listed in %s but missing", ErrInvalid, p, ManifestName)
			case errors.Is(err, errTooMuch):
				return fmt.Errorf("%w: %s lists more bytes than %s/ holds (%d; one file listed twice?)", ErrInvalid, ManifestName, PayloadDir, foundBytes)
			case errors.Is(err, errNotRegular):
				return fmt.Errorf("%w: %s is not a regular file", ErrInvalid, p)
			case err != nil:
				return fmt.Errorf("bagit: read %s: %w", p, err)
			case got != sum:
				return fmt.Errorf("%w: %s does not match its SHA-256 (altered)", ErrInvalid, p)
			}
			names.Add(&listed, []byte(p))
			total += size
			return each(Entry{Path: rest, SHA256: sum, Size: size})
		})
	})
	if err != nil {
		return err
	}
	hashed.end()
	if !listed.Equal(&found) {
		return fmt.Errorf("%w: the files in %s/ are not those %s lists (%d listed, %d found: one added, renamed or listed twice)", ErrInvalid, PayloadDir, ManifestName, listed.Len(), found.Len())
	}
	if ox := bag.InfoValue("Payload-Oxum"); ox != "" && ox != fmt.Sprintf("%d.%d", total, listed.Len()) {
		return fmt.Errorf("%w: Payload-Oxum %s does not match the payload (%d bytes in %d files)", ErrInvalid, ox, total, listed.Len())
	}
	return nil
}

// walkNames calls file with the path (from the bag's top) and size of
// every file below the folder dir, at rel, and adds to empty every folder
// below it that holds no file at any depth; it reports whether dir holds a
// file. Anything but a folder or a regular file is refused. A folder is
// read a batch of names at a time, in the order the system gives them,
// and closed before the walk goes into the folders it holds (whose names
// it keeps till then): one descriptor a level, as walkFolder takes.
func walkNames(ctx context.Context, dir *os.Root, rel string, file func(rel string, size int64), empty *[]string) (holds bool, err error) {
	f, err := dir.Open(".")
	if err != nil {
		return false, fmt.Errorf("read folder %s: %w", rel, err)
	}
	var subs []string
	for {
		entries, rerr := f.ReadDir(1024)
		for _, e := range entries {
			p := rel + "/" + e.Name()
			switch {
			case e.IsDir():
				subs = append(subs, e.Name())
			case e.Type().IsRegular():
				info, err := e.Info()
				if err != nil {
					f.Close()
					return false, fmt.Errorf("read %s: %w", p, err)
				}
				file(p, info.Size())
				holds = true
			default:
				f.Close()
				return false, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, p)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			f.Close()
			return false, fmt.Errorf("read folder %s: %w", rel, rerr)
		}
	}
	f.Close()
	for _, name := range subs {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		p := rel + "/" + name
		sub, err := dir.OpenRoot(name)
		if err != nil {
			return false, fmt.Errorf("open folder %s: %w", p, err)
		}
		h, err := walkNames(ctx, sub, p, file, empty)
		sub.Close()
		if err != nil {
			return false, err
		}
		if !h {
			*empty = append(*empty, p)
		}
		holds = holds || h
	}
	return holds, nil
}

// errNotRegular is a listed path that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// folderCache opens payload files by their path below data/, keeping the
// folder of the last one open: a manifest lists a folder's files
// together, and each folder on a path is a system call to open.
type folderCache struct {
	data *os.Root
	dir  string
	root *os.Root
}

// errTooMuch is a listed file larger than the bytes left to hash.
var errTooMuch = errors.New("more bytes than the folder holds")

// missing reports whether err, from opening a listed path, says there is
// no such file: not there, or a file or a link where the path has a
// folder, or a name too long to be one.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, syscall.ELOOP)
}

// hash returns the SHA-256 and size of the file at rel below data/,
// counting what it reads in hashed; a file of more than left bytes is
// not read (errTooMuch).
func (c *folderCache) hash(rel string, hashed *hashProgress, left int64) ([32]byte, int64, error) {
	dir, name := path.Split(rel)
	in := c.data
	if dir != "" {
		if c.root == nil || c.dir != dir {
			c.close()
			r, err := c.data.OpenRoot(strings.TrimSuffix(dir, "/"))
			if err != nil {
				return [32]byte{}, 0, err
			}
			c.root, c.dir = r, dir
		}
		in = c.root
	}
	if st, err := in.Lstat(name); err != nil {
		return [32]byte{}, 0, err
	} else if !st.Mode().IsRegular() {
		return [32]byte{}, 0, errNotRegular
	} else if st.Size() > left {
		return [32]byte{}, 0, errTooMuch
	}
	return hashFile(in, name, hashed)
}

func (c *folderCache) close() {
	if c.root != nil {
		c.root.Close()
		c.root, c.dir = nil, ""
	}
}

// Find returns the index in Payload (sorted by path) of the entry of
// path, relative to data/, and whether there is one.
func (b *Bag) Find(path string) (int, bool) {
	return slices.BinarySearchFunc(b.Payload, path, func(e Entry, p string) int { return strings.Compare(e.Path, p) })
}

// readStreamed gives read the tag file name in root, hashing it, then
// checks it against want, its line in the tag manifest: an altered file
// is reported as altered, whatever read returned.
func readStreamed(root *os.Root, name string, want [32]byte, read func(io.Reader) error) error {
	f, _, err := openTag(root, name)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	// A file that grows meanwhile is read to the cap: what is read is
	// what is hashed.
	tee := io.TeeReader(io.LimitReader(f, maxTagFile), h)
	readErr := read(tee)
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return fmt.Errorf("bagit: read %s: %w", name, err)
	}
	if [32]byte(h.Sum(nil)) != want {
		return fmt.Errorf("%w: tag file %s does not match its SHA-256 (altered)", ErrInvalid, name)
	}
	return readErr
}

// readPayloadManifest reads the payload manifest's lines into entries
// sorted by path (relative to data/), each with its size unknown (-1).
// The paths are cut from shared blocks: one object a file fewer for the
// collector to mark.
func readPayloadManifest(r io.Reader) ([]Entry, error) {
	var paths textarena.Arena
	var out []Entry
	err := scanManifest(r, ManifestName, func(p string, sum [32]byte) error {
		rest, ok := strings.CutPrefix(p, PayloadDir+"/")
		if !ok {
			return fmt.Errorf("%w: %s is listed in %s but missing from %s/", ErrInvalid, p, ManifestName, PayloadDir)
		}
		out = append(out, Entry{Path: paths.String(rest), SHA256: sum, Size: -1})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	for i := 1; i < len(out); i++ {
		if out[i].Path == out[i-1].Path {
			return nil, fmt.Errorf("%w: %s lists %q twice", ErrInvalid, ManifestName, PayloadDir+"/"+out[i].Path)
		}
	}
	return out, nil
}

func readTag(root *os.Root, name string) ([]byte, error) {
	f, size, err := openTag(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read at the size the file has (as os.ReadFile does), not grown by
	// doubling. A file that changes meanwhile fails its tag manifest's
	// hash.
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("bagit: read %s: %w", name, err)
	}
	return data, nil
}

// openTag opens the tag file name in root, refusing anything but a
// regular file of at most maxTagFile bytes, and returns its size.
func openTag(root *os.Root, name string) (*os.File, int64, error) {
	st, err := root.Lstat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("%w: %s is missing", ErrInvalid, name)
		}
		return nil, 0, fmt.Errorf("bagit: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, name)
	}
	if st.Size() > maxTagFile {
		return nil, 0, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalid, name, maxTagFile)
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, 0, fmt.Errorf("bagit: %w", err)
	}
	return f, st.Size(), nil
}

// walkFolder calls visit for every entry of the folder dir (at rel,
// slash-separated from the bag's top) and, depth first, of the folders in
// it, in lexical order. Each folder is opened once, relative to its parent
// (a walk by whole paths opens every folder on the way again for each
// entry), and names are taken as they are, valid UTF-8 or not.
func walkFolder(dir *os.Root, rel string, visit func(dir *os.Root, name, rel string, d fs.DirEntry) error) error {
	f, err := dir.Open(".")
	if err != nil {
		return fmt.Errorf("read folder %s: %w", rel, err)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("read folder %s: %w", rel, err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range entries {
		p := rel + "/" + e.Name()
		if err := visit(dir, e.Name(), p, e); err != nil {
			return err
		}
		if e.IsDir() {
			sub, err := dir.OpenRoot(e.Name())
			if err != nil {
				return fmt.Errorf("open folder %s: %w", p, err)
			}
			err = walkFolder(sub, p, visit)
			sub.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// hashFile returns the SHA-256 and size of the file name in dir, counting
// what it reads in hashed.
func hashFile(dir *os.Root, name string, hashed *hashProgress) ([32]byte, int64, error) {
	var sum [32]byte
	f, err := dir.Open(name)
	if err != nil {
		return sum, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, &countingReader{r: f, hashed: hashed})
	if err != nil {
		return sum, 0, err
	}
	h.Sum(sum[:0])
	return sum, n, nil
}

// hashProgress counts the payload bytes hashed, reports them about every
// MiB, and ends the read once its context is done.
type hashProgress struct {
	ctx          context.Context
	report       func(done, total int64)
	done, total  int64
	reportedLast int64
}

// add counts n bytes more and returns the context's error, if any, about
// every MiB.
func (p *hashProgress) add(n int) error {
	p.done += int64(n)
	if p.done-p.reportedLast < 1<<20 {
		return nil
	}
	p.reportedLast = p.done
	if p.report != nil {
		p.report(p.done, p.total)
	}
	return p.ctx.Err()
}

// end reports the total hashed.
func (p *hashProgress) end() {
	if p.report != nil {
		p.report(p.done, p.total)
	}
}

// countingReader counts what is read from r in hashed, and fails once
// hashed's context is done.
type countingReader struct {
	r      io.Reader
	hashed *hashProgress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if cerr := c.hashed.add(n); cerr != nil {
		return n, cerr
	}
	return n, err
}

// oxumBytes returns the byte count of a Payload-Oxum value
// ("BYTES.FILES"), or -1 if it is not one.
func oxumBytes(oxum string) int64 {
	b, _, ok := strings.Cut(oxum, ".")
	n, err := strconv.ParseInt(b, 10, 64)
	if !ok || err != nil || n < 0 {
		return -1
	}
	return n
}

// parseManifest reads "HASH<whitespace>PATH" lines into a map.
func parseManifest(data []byte, name string) (map[string][32]byte, error) {
	out := map[string][32]byte{}
	err := scanManifest(bytes.NewReader(data), name, func(p string, sum [32]byte) error {
		if _, dup := out[p]; dup {
			return fmt.Errorf("%w: %s lists %q twice", ErrInvalid, name, p)
		}
		out[p] = sum
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanManifest reads "HASH<whitespace>PATH" lines from r and calls each
// for every one, its path decoded and checked.
func scanManifest(r io.Reader, name string, each func(p string, sum [32]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return fmt.Errorf("%w: %s line %d is malformed", ErrInvalid, name, n)
		}
		sumHex, rawPath := line[:i], strings.TrimLeft(line[i:], " \t")
		var sum [32]byte
		if len(sumHex) != 2*len(sum) {
			return fmt.Errorf("%w: %s line %d has no SHA-256", ErrInvalid, name, n)
		}
		if _, err := hex.Decode(sum[:], []byte(strings.ToLower(sumHex))); err != nil {
			return fmt.Errorf("%w: %s line %d has no SHA-256", ErrInvalid, name, n)
		}
		p, err := decodePath(rawPath)
		if err != nil {
			return err
		}
		if p != path.Clean(p) || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "\\") {
			return fmt.Errorf("%w: %s line %d has an unsafe path %q", ErrInvalid, name, n, p)
		}
		if err := each(p, sum); err != nil {
			return err
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
	} else if err != nil {
		return fmt.Errorf("bagit: read %s: %w", name, err)
	}
	return nil
}

func parseInfo(data []byte) ([]Field, error) {
	var out []Field
	for n, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += "\n" + strings.TrimLeft(line, " \t")
			continue
		}
		label, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: %s line %d is not 'Label: value'", ErrInvalid, InfoName, n+1)
		}
		out = append(out, Field{Label: strings.TrimSpace(label), Value: strings.TrimSpace(value)})
	}
	return out, nil
}
