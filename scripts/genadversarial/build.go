package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Names of dossier's own entries (pkg/bundle).
const (
	preambleName    = ".dossier/preamble.json"
	preambleSigName = ".dossier/preamble.sig"
	manifestName    = ".dossier/manifest.json"
	manifestSigName = ".dossier/manifest.sig"
)

// doc is one payload file.
type doc struct {
	path  string
	data  []byte
	mode  manifest.Mode
	cats  []category.ID
	big   int64 // declared size when data is not materialised (bombs)
	mtime time.Time
}

func (d doc) size() int64 {
	if d.big > 0 {
		return d.big
	}
	return int64(len(d.data))
}

func (d doc) header() *tar.Header {
	mode := int64(0o644)
	if d.mode == manifest.ModeExecutable {
		mode = 0o755
	}
	return &tar.Header{Name: d.path, Mode: mode, Size: d.size(), ModTime: d.mtime, Typeflag: tar.TypeReg}
}

func defaultDocs() []doc {
	return []doc{
		{path: "case/interviews/witness.txt", data: []byte("Witness statement of J. Doe (adversarial corpus).\n"), cats: []category.ID{category.Personal}},
		{path: "case/ledger.csv", data: []byte("date,amount\n2026-07-03,120000.00\n"), cats: []category.ID{category.LawEnforcement}},
		{path: "case/report.txt", data: []byte("Investigation report (adversarial corpus).\n"), cats: []category.ID{category.LawEnforcement}},
	}
}

// tarStream is the decompressed stream being built, with the offsets where
// frames must end.
type tarStream struct {
	buf  bytes.Buffer
	tw   *tar.Writer
	cuts []int
	// offsets records the data offset of the first entry of each name.
	offsets map[string]int64
}

func newTarStream() *tarStream {
	t := &tarStream{offsets: map[string]int64{}}
	t.tw = tar.NewWriter(&t.buf)
	return t
}

// add writes an entry with tar.Writer (as pack does).
func (t *tarStream) add(h *tar.Header, data []byte) {
	check(t.tw.WriteHeader(h))
	if _, ok := t.offsets[h.Name]; !ok {
		t.offsets[h.Name] = int64(t.buf.Len())
	}
	_, err := t.tw.Write(data)
	check(err)
}

// raw writes bytes as they are (hand-made header blocks and data).
func (t *tarStream) raw(b []byte) {
	check(t.tw.Flush())
	t.buf.Write(b)
}

// rawEntry writes a hand-made entry and records its data offset.
func (t *tarStream) rawEntry(h rawHdr, data []byte) {
	check(t.tw.Flush())
	if _, ok := t.offsets[h.name]; !ok {
		t.offsets[h.name] = int64(t.buf.Len() + 512)
	}
	t.buf.Write(h.entry(data))
}

// cut ends the current frame here.
func (t *tarStream) cut() {
	check(t.tw.Flush())
	t.cuts = append(t.cuts, t.buf.Len())
}

// headerBlocks returns the header block(s) tar.Writer would write for h,
// without data.
func headerBlocks(h *tar.Header) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	check(tw.WriteHeader(h))
	return b.Bytes()
}

// zstream is the zstd layer being built.
type zstream struct {
	frames  []zframe
	trailer []byte // nil: no trailer frame
	table   []byte // nil: computed from frames
	// between is written between the trailer and the seek table, after
	// after the seek table.
	between, after []byte
}

func (z *zstream) bytes() []byte {
	var b []byte
	for _, f := range z.frames {
		b = append(b, f.raw...)
	}
	if z.trailer != nil {
		b = append(b, skippable(trailerMagic, z.trailer)...)
	}
	b = append(b, z.between...)
	if z.table != nil {
		b = append(b, z.table...)
	} else {
		b = append(b, seekTable(z.frames)...)
	}
	return append(b, z.after...)
}

// bundle describes one bundle to build. newBundle fills in an honest
// bundle from alice to bob; cases change fields or set hooks.
type bundle struct {
	g        *gen
	id       string // bundle id
	signer   *identity.Identity
	sender   *card.Card   // card in the preamble
	ageTo    []*card.Card // age recipient stanzas
	signedTo []*card.Card // recipients in the preamble
	docs     []doc
	cs       manifest.Case
	armor    bool
	// version is the bundle format: of the preamble, the manifest and the
	// trailer, and the form of the manifest signature (over the bytes
	// for manifest.Version1, over their SHA-512 for format 2).
	version int
	// frameSize cuts data frames (besides the required cuts).
	frameSize int

	editPre  func(p *manifest.Preamble)
	preBytes func(b []byte) []byte
	preSig   func(pre []byte) []byte // nil result: no signature entry
	metaHdr  func(h *tar.Header)     // edits the headers of .dossier entries
	preEntry func(t *tarStream, pre, sig []byte)
	payload  func(t *tarStream, docs []doc)
	editMan  func(m *manifest.Manifest)
	manBytes func(b []byte) []byte
	manSig   func(man []byte) []byte // nil result: no signature entry
	manEntry func(t *tarStream, man, sig []byte)
	tail     func(t *tarStream) // after the manifest: default end-of-archive
	frames   func(z *zstream, t *tarStream)
	plain    func(p []byte) []byte
	// header replaces the age header (the payload is kept byte for byte):
	// it gets the file key and the stanzas age wrote.
	header func(key []byte, stanzas []*age.Stanza) []byte
	file   func(f []byte) []byte

	lastPreSig []byte // the preamble signature build wrote
}

// signPreamble signs a preamble as a sender of the given format does: its
// bytes with sign.ContextPreamble (formats 1 and 2), or their SHA-512
// with sign.ContextPreambleDigest (format 3).
func signPreamble(id *identity.Identity, version int, pre []byte) []byte {
	sig, err := manifest.SignPreamble(id.Key, version, pre)
	check(err)
	return sig
}

func (g *gen) newBundle(name string) *bundle {
	id := sha256.Sum256([]byte("dossier adversarial " + name))
	docs := defaultDocs()
	for i := range docs {
		docs[i].mtime, docs[i].mode = g.now.Add(-time.Hour), manifest.ModeRegular
	}
	return &bundle{
		g:         g,
		id:        hex.EncodeToString(id[:16]),
		signer:    g.alice,
		sender:    g.alice.Card,
		ageTo:     []*card.Card{g.bob.Card},
		docs:      docs,
		cs:        manifest.Case{Reference: "ADV-2026-001", Purpose: "adversarial corpus", LegalBasis: "test"},
		version:   g.version,
		frameSize: 2 << 20,
	}
}

// newBundleV is newBundle for bundle format version.
func (g *gen) newBundleV(name string, version int) *bundle {
	b := g.newBundle(name)
	b.version = version
	return b
}

func signDoc(id *identity.Identity, ctx string, doc []byte) []byte {
	sig, err := manifest.Sign(id.Key, ctx, doc)
	check(err)
	return sig
}

// signManifest signs a manifest as a sender of the given format does: its
// bytes with sign.ContextManifest (format 1), or their SHA-512 with
// sign.ContextManifestDigest (format 2).
func signManifest(id *identity.Identity, version int, man []byte) []byte {
	sig, err := manifest.SignManifest(id.Key, version, man)
	check(err)
	return sig
}

// manifestMessage is what a manifest signature of the given format signs,
// and its context: the bytes (format 1) or their SHA-512 (format 2).
func manifestMessage(version int, man []byte) (ctx string, msg []byte) {
	if version == manifest.Version1 {
		return sign.ContextManifest, man
	}
	d := sha512.Sum512(man)
	return sign.ContextManifestDigest, d[:]
}

// encodeDoc encodes v as a canonical compact document: encoding/json with
// HTML escaping off, then a newline (what Marshal gives for a valid one).
func encodeDoc(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	check(enc.Encode(v))
	return buf.Bytes()
}

// sigFile encodes a signature file from its two halves (canonical).
func sigFile(s *sign.Signature) []byte {
	b, err := json.Marshal(s)
	check(err)
	return append(b, '\n')
}

func parseSig(b []byte) *sign.Signature {
	var s sign.Signature
	check(json.Unmarshal(b, &s))
	if !bytes.Equal(sigFile(&s), b) {
		panic("signature file re-encoding differs")
	}
	return &s
}

// build returns the bundle's bytes.
func (b *bundle) build() []byte {
	// The age layer first: the preamble signs its header.
	var key []byte
	var stanzas []*age.Stanza
	var rs []age.Recipient
	for _, c := range b.ageTo {
		r, err := c.Recipient()
		check(err)
		rs = append(rs, keyCatcher{r: r, key: &key, stanzas: &stanzas})
	}
	var out bytes.Buffer
	var w io.Writer = &out
	var arm io.WriteCloser
	if b.armor {
		arm = armor.NewWriter(&out)
		w = arm
	}
	aw, err := age.Encrypt(w, rs...)
	check(err)
	hdr := marshalHeader(stanzas, key)
	if !b.armor && !bytes.HasPrefix(out.Bytes(), hdr) {
		panic("rebuilt age header differs from age's")
	}
	hdrHash := sha256.Sum256(hdr)

	signedTo := b.signedTo
	if signedTo == nil {
		signedTo = b.ageTo
	}
	var parties []manifest.Party
	for _, c := range signedTo {
		parties = append(parties, manifest.PartyOf(c))
	}
	created := b.g.now.Format(time.RFC3339)
	// An empty list is [], as pack writes it (a format-2 reader accepts
	// no other spelling in the manifest).
	files := []manifest.File{}
	var total int64
	for _, d := range b.docs {
		files = append(files, manifest.File{Path: d.path, Size: d.size(), Mode: d.mode, MTime: manifest.TimeOf(d.mtime), Categories: category.MustSet(d.cats...)})
		total += d.size()
	}
	pre := &manifest.Preamble{
		Type:            manifest.PreambleType,
		Version:         b.version,
		BundleID:        b.id,
		Created:         created,
		Sender:          b.sender,
		Recipients:      parties,
		AgeHeaderSHA256: hex.EncodeToString(hdrHash[:]),
		Case:            b.cs,
		TotalSize:       total,
		Files:           files,
	}
	if b.editPre != nil {
		b.editPre(pre)
	}
	// encoding/json, not Preamble.Marshal: an edited preamble may carry
	// what Marshal leaves out (a hash in a file entry).
	preBytes := encodeDoc(pre)
	if b.preBytes != nil {
		preBytes = b.preBytes(preBytes)
	}
	var preSig []byte
	if b.preSig != nil {
		preSig = b.preSig(preBytes)
	} else {
		preSig = signPreamble(b.signer, b.version, preBytes)
	}

	b.lastPreSig = preSig
	t := newTarStream()
	meta := func(name string, data []byte) {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: b.g.now, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if b.metaHdr != nil {
			b.metaHdr(h)
		}
		t.add(h, data)
	}
	if b.preEntry != nil {
		b.preEntry(t, preBytes, preSig)
	} else {
		meta(preambleName, preBytes)
		if preSig != nil {
			meta(preambleSigName, preSig)
		}
	}
	t.cut()
	if b.payload != nil {
		b.payload(t, b.docs)
	} else {
		for _, d := range b.docs {
			t.add(d.header(), d.data)
		}
	}
	t.cut()
	manOffset := int64(t.buf.Len())

	preHash := sha256.Sum256(preBytes)
	man := &manifest.Manifest{
		Type:            manifest.ManifestType,
		Version:         b.version,
		BundleID:        pre.BundleID,
		Created:         pre.Created,
		Sender:          manifest.PartyOf(b.sender),
		Recipients:      pre.Recipients,
		AgeHeaderSHA256: pre.AgeHeaderSHA256,
		PreambleSHA256:  hex.EncodeToString(preHash[:]),
		Case:            pre.Case,
		TotalSize:       total,
		Files:           []manifest.File{},
	}
	for i, d := range b.docs {
		f := files[i]
		f.SHA256 = sha256.Sum256(d.data)
		f.Offset = t.offsets[d.path]
		if f.Offset == 0 {
			f.Offset = 512
		}
		man.Files = append(man.Files, f)
	}
	if b.editMan != nil {
		b.editMan(man)
	}
	manBytes, err := man.Marshal()
	check(err)
	if b.manBytes != nil {
		manBytes = b.manBytes(manBytes)
	}
	var manSig []byte
	if b.manSig != nil {
		manSig = b.manSig(manBytes)
	} else {
		manSig = signManifest(b.signer, b.version, manBytes)
	}
	if b.manEntry != nil {
		b.manEntry(t, manBytes, manSig)
	} else {
		meta(manifestName, manBytes)
		if manSig != nil {
			meta(manifestSigName, manSig)
		}
	}
	if b.tail != nil {
		check(t.tw.Flush())
		b.tail(t)
	} else {
		check(t.tw.Close())
	}

	// The zstd layer: frames end at every cut and every frameSize bytes.
	data := t.buf.Bytes()
	z := &zstream{}
	start := 0
	for _, end := range append(append([]int(nil), t.cuts...), len(data)) {
		for start < end {
			n := min(end-start, b.frameSize)
			z.frames = append(z.frames, compress(data[start:start+n]))
			start += n
		}
	}
	z.trailer = []byte(fmt.Sprintf(`{"type":"dossier-index","version":%d,"manifest_offset":%d}`+"\n", b.version, manOffset))
	if b.frames != nil {
		b.frames(z, t)
	}
	plain := z.bytes()
	if b.plain != nil {
		plain = b.plain(plain)
	}
	_, err = aw.Write(plain)
	check(err)
	check(aw.Close())
	if arm != nil {
		check(arm.Close())
	}
	file := out.Bytes()
	if b.header != nil {
		file = append(b.header(key, stanzas), file[len(hdr):]...)
	}
	if b.file != nil {
		file = b.file(file)
	}
	return file
}

// replaceOnce replaces the first old in b with new and panics if there is
// none, so that a mutation can never silently not apply.
func replaceOnce(b []byte, old, new string) []byte {
	if !bytes.Contains(b, []byte(old)) {
		panic(fmt.Sprintf("%q not found in %.80q", old, b))
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}
