package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"regexp"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// version2 is bundle format 2, spelled out rather than taken from
// manifest.FormatVersion: these cases stay format 2 whatever a later
// format is.
const version2 = 2

// manyFiles gives b 400 small files instead of its documents: a
// manifest of more than 64 KiB.
func manyFiles(b *bundle) *bundle {
	mtime := b.docs[0].mtime
	b.docs = nil
	for i := range 400 {
		b.docs = append(b.docs, doc{path: fmt.Sprintf("case/docs/%04d.txt", i), data: []byte(fmt.Sprintf("document %d\n", i)),
			mode: manifest.ModeRegular, mtime: mtime, cats: []category.ID{category.Other}})
	}
	return b
}

// ---- format 2 ----

// format2Cases are the format-2 cases (v2-*): an honest format-2 bundle,
// the manifest cases in format 2, and bundles that mix the two formats'
// versions and manifest signatures. A format-2 manifest signature is
// alice's over the SHA-512 of the manifest's bytes, with
// sign.ContextManifestDigest, and a format-2 reader accepts only the one
// canonical encoding of the manifest it expects.
func (g *gen) format2Cases() {
	g.section("format2", "format 2 (the manifest signature is over the manifest's SHA-512, with context \"dossier/v2 manifest\"; the reader compares the manifest as it streams with the one encoding it expects), and bundles mixing formats 1 and 2")
	v2 := func(name string) *bundle { return g.newBundleV(name, version2) }
	integrity := func(name, desc string, b *bundle) { g.add(name, desc, b, "bob alice integrity") }

	// Honest format-2 bundles: they must open.
	g.add("v2-ok-valid", "an honest format-2 bundle from alice to bob", v2("v2-ok-valid"),
		"bob alice ok", "bob mallory wrong-sender", "bob carol wrong-sender", "carol alice no-identity", "mallory alice no-identity")

	b := v2("v2-ok-empty")
	b.docs = nil
	g.add("v2-ok-empty", "no files: the preamble and the manifest list them as [], as pack writes them", b, "bob alice ok")

	b = v2("v2-ok-many-frames")
	b.docs = append(b.docs,
		doc{path: "case/empty.txt", data: nil, mode: manifest.ModeRegular, mtime: b.docs[0].mtime, cats: []category.ID{category.Other}},
		doc{path: "case/notes.txt", data: bytes.Repeat([]byte("note line\n"), 700), mode: manifest.ModeRegular, mtime: b.docs[0].mtime, cats: []category.ID{category.Other}})
	b.frameSize = 700
	g.add("v2-ok-many-frames", "an empty file and 700-byte frames: the streamed manifest spans several frames", b, "bob alice ok")

	// A manifest of more than 64 KiB: the reader compares it in batches.
	many := func(name string) *bundle { return manyFiles(v2(name)) }
	g.add("v2-ok-many-files", "400 files: a manifest of some 80 KiB, compared in several batches", many("v2-ok-many-files"), "bob alice ok")
	b = many("v2-manifest-hash-late")
	b.editMan = func(m *manifest.Manifest) { m.Files[380].SHA256 = sha256.Sum256([]byte("other")) }
	integrity("v2-manifest-hash-late", "400 files; file 380's signed SHA-256 is wrong (past the first 64 KiB of the manifest)", b)
	b = many("v2-entry-hash-late")
	b.payload = editDoc(380, func(_ *tar.Header, d *doc) { d.data = []byte(fmt.Sprintf("document %d\n", 999)) })
	integrity("v2-entry-hash-late", "400 files; file 380's content altered (same size): its signed SHA-256 does not match", b)
	b = v2("v2-entry-hash")
	b.payload = editDoc(1, func(_ *tar.Header, d *doc) { d.data = []byte("date,amount\n2026-07-03,920000.00\n") })
	integrity("v2-entry-hash", "a file's content altered (same size): its signed SHA-256 does not match", b)

	// Every manifest case, in format 2.
	g.manifestCasesFor("v2-", version2)

	// The manifest signed in the wrong form.
	sig := func(name, desc string, version int, f func(man []byte) []byte) {
		b := g.newBundleV(name, version)
		b.manSig = f
		integrity(name, desc, b)
	}
	digest := func(man []byte) []byte { _, d := manifestMessage(version2, man); return d }
	sig("v2-sig-v1-form", "a format-2 manifest signed the format-1 way (its bytes, context \"dossier/v1 manifest\")", version2, func(m []byte) []byte {
		return signDoc(g.alice, sign.ContextManifest, m)
	})
	sig("v2-sig-bytes-v2-context", "a format-2 manifest's bytes (not their SHA-512) signed with \"dossier/v2 manifest\"", version2, func(m []byte) []byte {
		return signDoc(g.alice, sign.ContextManifestDigest, m)
	})
	sig("v2-sig-digest-v1-context", "a format-2 manifest's SHA-512 signed with \"dossier/v1 manifest\"", version2, func(m []byte) []byte {
		return signDoc(g.alice, sign.ContextManifest, digest(m))
	})
	sig("v2-sig-sha256", "a format-2 manifest's SHA-256 (not SHA-512) signed with \"dossier/v2 manifest\"", version2, func(m []byte) []byte {
		d := sha256.Sum256(m)
		return signDoc(g.alice, sign.ContextManifestDigest, d[:])
	})
	sig("v2-sig-other-manifest", "alice's format-2 signature of another manifest (another purpose)", version2, func(m []byte) []byte {
		return signManifest(g.alice, version2, replaceOnce(m, "adversarial corpus", "another purpose"))
	})
	sig("v2-v1bundle-sig-v2-form", "a format-1 bundle whose manifest is signed the format-2 way (its SHA-512, \"dossier/v2 manifest\")", manifest.Version1, func(m []byte) []byte {
		return signManifest(g.alice, version2, m)
	})

	// The versions of the preamble, the manifest and the trailer disagree.
	manVersion := func(name, desc string, version, manVersion, sigVersion int) {
		b := g.newBundleV(name, version)
		b.editMan = func(m *manifest.Manifest) { m.Version = manVersion }
		b.manSig = func(m []byte) []byte { return signManifest(g.alice, sigVersion, m) }
		integrity(name, desc, b)
	}
	manVersion("v2-manifest-version-1-sig-v1", "a format-2 preamble; the manifest says version 1 and is signed the format-1 way", version2, manifest.Version1, manifest.Version1)
	manVersion("v2-manifest-version-1-sig-v2", "a format-2 preamble; the manifest says version 1 and is signed the format-2 way", version2, manifest.Version1, version2)
	manVersion("v2-v1bundle-manifest-v2-sig-v1", "a format-1 preamble; the manifest says version 2 and is signed the format-1 way", manifest.Version1, version2, manifest.Version1)
	manVersion("v2-v1bundle-manifest-v2-sig-v2", "a format-1 preamble; the manifest says version 2 and is signed the format-2 way", manifest.Version1, version2, version2)
	b = v2("v2-preamble-version-1")
	b.editPre = func(p *manifest.Preamble) { p.Version = manifest.Version1 }
	integrity("v2-preamble-version-1", "only the preamble says version 1: the manifest (signed the format-2 way) and the trailer say 2", b)
	trailer := func(name, desc string, version int, from, to string) {
		b := g.newBundleV(name, version)
		b.frames = func(z *zstream, _ *tarStream) { z.trailer = replaceOnce(z.trailer, from, to) }
		integrity(name, desc, b)
	}
	trailer("v2-trailer-version-1", "a format-2 bundle whose trailer says version 1", version2, `"version":2`, `"version":1`)
	trailer("v2-v1bundle-trailer-version-2", "a format-1 bundle whose trailer says version 2", manifest.Version1, `"version":1`, `"version":2`)

	// Spellings that a format-2 reader, comparing the manifest with the
	// one it expects, must not accept.
	b = v2("v2-empty-files-null")
	b.docs = nil
	b.editMan = func(m *manifest.Manifest) { m.Files = nil }
	integrity("v2-empty-files-null", `no files: the preamble lists [], the manifest (validly signed) "files":null`, b)
	b = v2("v2-empty-preamble-null")
	b.docs = nil
	b.editPre = func(p *manifest.Preamble) { p.Files = nil }
	integrity("v2-empty-preamble-null", `no files: the preamble (validly signed) lists "files":null, the manifest []`, b)
	b = v2("v2-empty-both-null")
	b.docs = nil
	b.editPre = func(p *manifest.Preamble) { p.Files = nil }
	b.editMan = func(m *manifest.Manifest) { m.Files = nil }
	integrity("v2-empty-both-null", `no files: preamble and manifest (both validly signed) say "files":null; format 2 spells an empty list []`, b)
	b = g.newBundle("v2-v1bundle-empty-files-null")
	b.docs = nil
	b.editMan = func(m *manifest.Manifest) { m.Files = nil }
	g.add("v2-v1bundle-empty-files-null", `format 1 for contrast: no files, the preamble lists [], the manifest "files":null; format 1 tolerates that spelling`, b, "bob alice ok")
	manBytes := func(name, desc string, edit func([]byte) []byte) {
		b := v2(name)
		b.manBytes = edit
		integrity(name, desc, b)
	}
	manBytes("v2-manifest-trailing-newline", "the manifest with one more newline at its end (validly signed)", func(m []byte) []byte {
		return append(m, '\n')
	})
	manBytes("v2-manifest-trailing-space", "the manifest with a space after its final newline (validly signed)", func(m []byte) []byte {
		return append(m, ' ')
	})
	manBytes("v2-manifest-cut-short", "the manifest cut in half (validly signed over the cut bytes)", func(m []byte) []byte {
		return m[:len(m)/2]
	})
	manBytes("v2-manifest-cut-last-entry", "the manifest cut before its last file entry, closed as valid JSON (validly signed)", func(m []byte) []byte {
		i := bytes.LastIndex(m, []byte(`,{"path":`))
		if i < 0 {
			panic("no second file entry")
		}
		return append(m[:i:i], "]}\n"...)
	})
	manBytes("v2-manifest-empty", "an empty manifest entry (its empty SHA-512 validly signed)", func([]byte) []byte {
		return []byte{}
	})
	entryField := regexp.MustCompile(`"sha256":"([0-9a-f]{64})","offset":([0-9]+)`)
	manBytes("v2-manifest-entry-field-order", "a file entry with sha256 and offset swapped (validly signed)", func(m []byte) []byte {
		loc := entryField.FindSubmatchIndex(m)
		if loc == nil {
			panic("no file entry")
		}
		swapped := fmt.Sprintf(`"offset":%s,"sha256":"%s"`, m[loc[4]:loc[5]], m[loc[2]:loc[3]])
		return append(append(append([]byte(nil), m[:loc[0]]...), swapped...), m[loc[1]:]...)
	})

	// dossier's own manifest entries, read as a stream in format 2.
	meta := func(name, desc string, edit func(b *bundle)) {
		b := v2(name)
		edit(b)
		integrity(name, desc, b)
	}
	meta("v2-meta-manifest-renamed", "the manifest stored as .dossier/MANIFEST.json", manifestRenamed)
	meta("v2-meta-manifest-hardlink", "the manifest as a hardlink to the preamble", manifestHardlink)
	meta("v2-meta-manifest-xattr", "the manifest entry with a PAX xattr record", manifestXattr)
	meta("v2-meta-manifest-linkname", "the manifest entry (a regular file) with a linkname", manifestLinkname)
	meta("v2-meta-manifest-sig-first", "the manifest's signature entry before the manifest", func(b *bundle) {
		b.manEntry = func(t *tarStream, man, sig []byte) {
			t.add(&tar.Header{Name: manifestSigName, Mode: 0o644, Size: int64(len(sig)), ModTime: b.g.now, Typeflag: tar.TypeReg}, sig)
			t.add(&tar.Header{Name: manifestName, Mode: 0o644, Size: int64(len(man)), ModTime: b.g.now, Typeflag: tar.TypeReg}, man)
		}
	})
	meta("v2-meta-sig-devmajor", "the manifest signature entry with device numbers", manifestSigDevices)
	meta("v2-stream-manifest-bomb", "the manifest entry is 200 MiB of zeros", manifestBomb)
	meta("v2-stream-manifest-cut", "the stream ends inside the manifest entry (its frame cut short, no trailer or seek table)", func(b *bundle) {
		b.tail = func(t *tarStream) {}
		b.frames = func(z *zstream, t *tarStream) {
			// The last data frame holds the manifest and its signature;
			// replace it with one holding half the manifest.
			data := t.buf.Bytes()
			start, end := t.cuts[len(t.cuts)-1], int(t.offsets[manifestName])+100
			z.frames = append(z.frames[:len(z.frames)-1], compress(data[start:end]))
			z.trailer, z.table = nil, []byte{}
		}
	})
	meta("v2-entry-after-manifest", "an extra entry after the signed manifest", entryAfterManifest)
	meta("v2-stream-trailer-offset", "a trailer whose manifest_offset is 512 bytes off", trailerOffsetOff(version2))
}
