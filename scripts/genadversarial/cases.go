package main

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

func (g *gen) all() {
	g.okCases()
	g.entryCases()
	g.nameCases()
	g.metaCases()
	g.streamCases()
	g.truncCases()
	g.preambleCases()
	g.manifestCases()
	g.senderCases()
	g.rewrapCases()
	g.format2Cases()
	g.format3Cases()
}

func pseudoRandom(seed byte, n int) []byte {
	b := make([]byte, n)
	mrand.NewChaCha8([32]byte{seed, 'a', 'd', 'v'}).Read(b)
	return b
}

// ---- honest but unusual bundles: readers must not over-refuse ----

func (g *gen) okCases() {
	g.section("ok", "honest bundles, some unusual; they must open")
	g.add("ok-valid", "an honest bundle from alice to bob", g.newBundle("ok-valid"),
		"bob alice ok", "bob mallory wrong-sender", "bob carol wrong-sender", "carol alice no-identity", "mallory alice no-identity")

	b := g.newBundle("ok-unicode")
	b.docs[0].path = "case/interviews/Zeugenaussage Müller – Ωmega №1.txt"
	g.add("ok-unicode", "NFC non-ASCII names with spaces and punctuation", b, "bob alice ok")

	b = g.newBundle("ok-long-name")
	b.docs[2].path = "case/" + strings.Repeat("very-long-document-name-", 10) + ".txt"
	g.add("ok-long-name", "a 244-byte component: stored with a PAX path record", b, "bob alice ok")

	b = g.newBundle("ok-ustar-prefix")
	b.docs[2].path = "case/" + strings.Repeat("d", 90) + "/" + strings.Repeat("e", 40) + "/report.txt"
	g.add("ok-ustar-prefix", "a 147-byte path split into ustar prefix and name", b, "bob alice ok")

	b = g.newBundle("ok-many-frames")
	b.docs = append(b.docs,
		doc{path: "case/empty.txt", data: nil, mode: manifest.ModeRegular, mtime: b.docs[0].mtime, cats: []category.ID{category.Other}},
		doc{path: "case/notes.txt", data: bytes.Repeat([]byte("note line\n"), 700), mode: manifest.ModeRegular, mtime: b.docs[0].mtime, cats: []category.ID{category.Other}})
	b.frameSize = 700
	g.add("ok-many-frames", "an empty file and 700-byte frames (frames end mid-entry)", b, "bob alice ok")

	b = g.newBundle("ok-mode-0755")
	b.docs[2].mode = manifest.ModeExecutable
	g.add("ok-mode-0755", "an executable file (lands 0600 all the same)", b, "bob alice ok")

	b = g.newBundle("ok-two-recipients")
	b.ageTo = []*card.Card{g.bob.Card, g.carol.Card}
	g.add("ok-two-recipients", "signed for and encrypted to bob and carol", b,
		"bob alice ok", "carol alice ok", "mallory alice no-identity")

	b = g.newBundle("ok-armored")
	b.armor = true
	g.add("ok-armored", "age ASCII armor; the header hash is over the binary header", b, "bob alice ok")

	b = g.newBundle("ok-signed-extra-stanza")
	b.ageTo = []*card.Card{g.bob.Card, g.mallory.Card}
	b.signedTo = []*card.Card{g.bob.Card}
	g.add("ok-signed-extra-stanza", "alice herself encrypted to bob and mallory but signed only bob: the header is the signed one (SPEC §8.4), so bob accepts; mallory is not a signed recipient", b,
		"bob alice ok", "mallory alice not-addressed")

	b = g.newBundle("ok-signed-superset")
	b.signedTo = []*card.Card{g.bob.Card, g.carol.Card}
	g.add("ok-signed-superset", "signed for bob and carol, encrypted to bob only", b,
		"bob alice ok", "carol alice no-identity")

	b = g.newBundle("ok-chunked")
	b.docs = append(b.docs, doc{path: "case/scan.bin", data: pseudoRandom(1, 60<<10), mode: manifest.ModeRegular, mtime: b.docs[0].mtime, cats: []category.ID{category.Other}})
	g.chunked = b.build()
	g.addBytes("ok-chunked", "incompressible content: the age payload has two STREAM chunks (base of the truncation cases)", g.chunked, "bob alice ok")
}

// ---- validly signed preamble, hostile tar entries ----

// replaceDoc returns a payload hook that writes every doc normally except
// doc k, which f writes.
func replaceDoc(k int, f func(t *tarStream, d doc)) func(t *tarStream, docs []doc) {
	return func(t *tarStream, docs []doc) {
		for i, d := range docs {
			if i == k {
				f(t, d)
			} else {
				t.add(d.header(), d.data)
			}
		}
	}
}

// editDoc writes doc k with an edited header (through tar.Writer).
func editDoc(k int, edit func(h *tar.Header, d *doc)) func(t *tarStream, docs []doc) {
	return replaceDoc(k, func(t *tarStream, d doc) {
		h := d.header()
		edit(h, &d)
		t.add(h, d.data)
	})
}

// rawDoc is doc d as a hand-made ustar header.
func rawDoc(d doc) rawHdr {
	h := d.header()
	return rawHdr{name: d.path, mode: h.Mode, size: h.Size, mtime: h.ModTime.Unix(), typeflag: '0'}
}

func (g *gen) entryCases() {
	g.section("entry", "the preamble is alice's, signed and valid; the tar entries are hostile (a co-recipient who knows the file key can rewrite everything after the preamble)")
	entry := func(name, desc string, payload func(t *tarStream, docs []doc)) {
		b := g.newBundle(name)
		b.payload = payload
		g.add(name, desc, b, "bob alice integrity")
	}
	rename := func(n string) func(t *tarStream, docs []doc) {
		return editDoc(1, func(h *tar.Header, _ *doc) { h.Name = n })
	}
	entry("entry-dotdot", "entry named ../x in place of a signed file", rename("../x"))
	entry("entry-dotdot-inner", "entry named case/../../x", rename("case/../../x"))
	entry("entry-absolute", "entry named /etc/x", rename("/etc/x"))
	entry("entry-case-variant", "entry name differs from the signed one in case only", rename("case/LEDGER.csv"))
	b := g.newBundle("entry-nfd")
	b.docs[1].path = "case/café.csv"
	b.payload = editDoc(1, func(h *tar.Header, _ *doc) { h.Name = "case/cafe\u0301.csv" })
	g.add("entry-nfd", "the entry name is the NFD spelling of the signed NFC name", b, "bob alice integrity")
	typed := func(name, desc string, typeflag byte, link string, dev int64) {
		entry(name, desc, replaceDoc(1, func(t *tarStream, d doc) {
			h := rawDoc(d)
			h.typeflag, h.linkname, h.size = typeflag, link, 0
			h.devmajor, h.devminor = dev, dev
			t.rawEntry(h, nil)
		}))
	}
	typed("entry-symlink", "a signed file's name as a symlink to /etc/passwd", tar.TypeSymlink, "/etc/passwd", 0)
	typed("entry-hardlink", "a signed file's name as a hardlink to ../../etc/shadow", tar.TypeLink, "../../etc/shadow", 0)
	typed("entry-chardev", "a signed file's name as a character device (1,3)", tar.TypeChar, "", 1)
	typed("entry-blockdev", "a signed file's name as a block device (8,8)", tar.TypeBlock, "", 8)
	typed("entry-fifo", "a signed file's name as a FIFO", tar.TypeFifo, "", 0)
	typed("entry-dir-same-name", "a signed file's name as a directory entry", tar.TypeDir, "", 0)
	entry("entry-contiguous", "typeflag '7' (contiguous file) instead of '0'", replaceDoc(1, func(t *tarStream, d doc) {
		h := rawDoc(d)
		h.typeflag = tar.TypeCont
		t.rawEntry(h, d.data)
	}))
	entry("entry-symlink-dir", "a symlink case/interviews -> ../../.. before the file below it", func(t *tarStream, docs []doc) {
		t.rawEntry(rawHdr{name: "case/interviews", mode: 0o777, mtime: docs[0].mtime.Unix(), typeflag: tar.TypeSymlink, linkname: "../../.."}, nil)
		for _, d := range docs {
			t.add(d.header(), d.data)
		}
	})
	entry("entry-dir", "a directory entry case/ before the files", func(t *tarStream, docs []doc) {
		t.rawEntry(rawHdr{name: "case/", mode: 0o755, mtime: docs[0].mtime.Unix(), typeflag: tar.TypeDir}, nil)
		for _, d := range docs {
			t.add(d.header(), d.data)
		}
	})
	entry("entry-gnu-sparse", "an old GNU sparse entry ('S') under a signed name", replaceDoc(1, func(t *tarStream, d doc) {
		h := rawDoc(d)
		h.typeflag, h.gnu = tar.TypeGNUSparse, true
		h.sparse = [][2]int64{{0, int64(len(d.data))}}
		h.realsize = int64(len(d.data))
		t.rawEntry(h, d.data)
	}))
	entry("entry-pax-sparse", "a PAX (GNU 1.0) sparse entry that expands to the signed name", replaceDoc(1, func(t *tarStream, d doc) {
		t.raw(paxEntry('x', d.mtime.Unix(),
			"GNU.sparse.major", "1", "GNU.sparse.minor", "0",
			"GNU.sparse.name", d.path, "GNU.sparse.realsize", fmt.Sprint(len(d.data))))
		sparseMap := pad([]byte(fmt.Sprintf("1\n0\n%d\n", len(d.data))))
		h := rawDoc(d)
		h.name = "GNUSparseFile.0/ledger.csv"
		h.size = int64(len(sparseMap) + len(d.data))
		t.rawEntry(h, append(sparseMap, d.data...))
	}))
	entry("entry-pax-path", "a PAX path=../x record overriding the signed ustar name", replaceDoc(1, func(t *tarStream, d doc) {
		t.raw(paxEntry('x', d.mtime.Unix(), "path", "../x"))
		t.rawEntry(rawDoc(d), d.data)
	}))
	entry("entry-pax-linkpath", "a regular file with a PAX linkpath=/etc/shadow record", replaceDoc(1, func(t *tarStream, d doc) {
		t.raw(paxEntry('x', d.mtime.Unix(), "linkpath", "/etc/shadow"))
		t.rawEntry(rawDoc(d), d.data)
	}))
	entry("entry-pax-xattr", "a PAX SCHILY.xattr.security.capability record", editDoc(1, func(h *tar.Header, _ *doc) {
		h.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"}
	}))
	entry("entry-pax-uid", "a PAX uid record (uid 0)", replaceDoc(1, func(t *tarStream, d doc) {
		t.raw(paxEntry('x', d.mtime.Unix(), "uid", "0"))
		t.rawEntry(rawDoc(d), d.data)
	}))
	entry("entry-pax-global", "a global PAX header (path=../x) before a signed file", replaceDoc(1, func(t *tarStream, d doc) {
		t.raw(paxEntry('g', d.mtime.Unix(), "path", "../x"))
		t.add(d.header(), d.data)
	}))
	entry("entry-gnu-longname", "a GNU long name (../../x) overriding the signed ustar name", replaceDoc(1, func(t *tarStream, d doc) {
		t.raw(rawHdr{name: "././@LongLink", mode: 0o644, size: 8, typeflag: 'L', gnu: true}.entry([]byte("../../x\x00")))
		h := rawDoc(d)
		h.gnu = true
		t.rawEntry(h, d.data)
	}))
	entry("entry-gnu-longlink", "a GNU long link name (/etc/shadow) on a regular file", replaceDoc(1, func(t *tarStream, d doc) {
		t.raw(rawHdr{name: "././@LongLink", mode: 0o644, size: 12, typeflag: 'K', gnu: true}.entry([]byte("/etc/shadow\x00")))
		h := rawDoc(d)
		h.gnu = true
		t.rawEntry(h, d.data)
	}))
	entry("entry-linkname", "a regular file whose ustar linkname is /etc/shadow", editDoc(1, func(h *tar.Header, _ *doc) { h.Linkname = "/etc/shadow" }))
	entry("entry-devmajor", "a regular file with device numbers", replaceDoc(1, func(t *tarStream, d doc) {
		h := rawDoc(d)
		h.devmajor, h.devminor = 1, 3
		t.rawEntry(h, d.data)
	}))
	entry("entry-uid", "a regular file owned by uid/gid 1000", editDoc(1, func(h *tar.Header, _ *doc) { h.Uid, h.Gid = 1000, 1000 }))
	entry("entry-uname", "a regular file with owner names root/wheel", editDoc(1, func(h *tar.Header, _ *doc) { h.Uname, h.Gname = "root", "wheel" }))
	entry("entry-mode-0755", "mode 0755 where the signed mode is 0644", editDoc(1, func(h *tar.Header, _ *doc) { h.Mode = 0o755 }))
	entry("entry-mode-setuid", "mode 04755 (setuid)", editDoc(1, func(h *tar.Header, _ *doc) { h.Mode = 0o4755 }))
	entry("entry-mtime", "a modification time one second off the signed one", editDoc(1, func(h *tar.Header, _ *doc) { h.ModTime = h.ModTime.Add(time.Second) }))
	entry("entry-size-larger", "the entry is one byte larger than signed", editDoc(1, func(h *tar.Header, d *doc) {
		d.data = append(append([]byte(nil), d.data...), 'x')
		h.Size++
	}))
	entry("entry-size-smaller", "the entry is one byte smaller than signed", editDoc(1, func(h *tar.Header, d *doc) {
		d.data = d.data[:len(d.data)-1]
		h.Size--
	}))
	entry("entry-hash", "same size, one byte changed: the signed SHA-256 does not match", editDoc(1, func(h *tar.Header, d *doc) {
		d.data = bytes.Replace(d.data, []byte("120000"), []byte("920000"), 1)
	}))
	entry("entry-duplicate", "a signed file twice (the second in place of the next file)", func(t *tarStream, docs []doc) {
		t.add(docs[0].header(), docs[0].data)
		t.add(docs[1].header(), docs[1].data)
		t.add(docs[1].header(), docs[1].data)
	})
	entry("entry-duplicate-extra", "a signed file repeated after all files", func(t *tarStream, docs []doc) {
		for _, d := range docs {
			t.add(d.header(), d.data)
		}
		t.add(docs[0].header(), docs[0].data)
	})
	entry("entry-unlisted", "an entry not in the signed list, between signed files", func(t *tarStream, docs []doc) {
		t.add(docs[0].header(), docs[0].data)
		h := docs[0].header()
		h.Name, h.Size = "case/extra.txt", 5
		t.add(h, []byte("extra"))
		t.add(docs[1].header(), docs[1].data)
		t.add(docs[2].header(), docs[2].data)
	})
	entry("entry-missing", "a signed file is missing (the next one follows)", func(t *tarStream, docs []doc) {
		t.add(docs[0].header(), docs[0].data)
		t.add(docs[2].header(), docs[2].data)
	})
	entry("entry-missing-last", "the last signed file is missing", func(t *tarStream, docs []doc) {
		t.add(docs[0].header(), docs[0].data)
		t.add(docs[1].header(), docs[1].data)
	})
	entry("entry-reordered", "two signed files in swapped order", func(t *tarStream, docs []doc) {
		t.add(docs[1].header(), docs[1].data)
		t.add(docs[0].header(), docs[0].data)
		t.add(docs[2].header(), docs[2].data)
	})

	b = g.newBundle("entry-after-manifest")
	entryAfterManifest(b)
	g.add("entry-after-manifest", "an extra entry after the signed manifest", b, "bob alice integrity")
}

// ---- hostile names that the sender signed ----

func (g *gen) nameCases() {
	g.section("name", "hostile stored paths signed by alice (in the preamble and the tar alike): the preamble is refused")
	name := func(cname, desc string, paths ...string) {
		b := g.newBundle(cname)
		for i, p := range paths {
			b.docs[1+i%2].path = p
		}
		b.payload = func(t *tarStream, docs []doc) {
			for _, d := range docs {
				h := rawDoc(d)
				if len(d.path) > 100 {
					h.name = d.path[len(d.path)-100:]
				}
				t.rawEntry(h, d.data)
			}
		}
		g.add(cname, desc, b, "bob alice integrity")
	}
	name("name-dotdot", "../x", "../x")
	name("name-dotdot-inner", "case/../../x", "case/../../x")
	name("name-deep-escape", "case/../../../../../../../../tmp/x", "case/"+strings.Repeat("../", 8)+"tmp/x")
	name("name-absolute", "/etc/x", "/etc/x")
	name("name-dot", "case/./x", "case/./x")
	name("name-backslash", `case\..\..\x`, `case\..\..\x`)
	name("name-drive", "C:/x (drive letter)", "C:/x")
	name("name-ads", "an NTFS alternate data stream (report.txt:evil)", "case/report.txt:evil")
	name("name-windows-char", "a ? in a name", "case/what?.txt")
	name("name-escape-seq", "an ANSI escape sequence in a name", "case/a\x1b[31mred.txt")
	name("name-newline", "a newline in a name", "case/a\nb.txt")
	name("name-nul", "a NUL in a name", "case/a\x00b.txt")
	name("name-del", "DEL in a name", "case/a\x7fb.txt")
	name("name-c1", "a C1 control (NEL) in a name", "case/a\u0085b.txt")
	name("name-bidi-rlo", "a right-to-left override (invoice‮txt.exe)", "case/invoice\u202etxt.exe")
	name("name-bidi-isolate", "a bidi isolate", "case/a\u2066b.txt")
	name("name-lrm", "a left-to-right mark", "case/a\u200eb.txt")
	name("name-bom", "a byte order mark", "case/\ufeffreport.txt")
	name("name-line-separator", "U+2028", "case/a\u2028b.txt")
	name("name-con", "Windows device CON", "case/CON")
	name("name-aux-ext", "Windows device aux.txt", "case/aux.txt")
	name("name-nul-ext", "Windows device nul.tar.gz", "case/nul.tar.gz")
	name("name-com1", "Windows device COM1", "case/com1")
	name("name-lpt-superscript", "Windows device LPT¹", "case/LPT¹.log")
	name("name-conin", "Windows device CONIN$", "case/CONIN$")
	name("name-trailing-dot", "a component ending in a dot", "case/report.")
	name("name-trailing-space", "a component ending in a space", "case/report ")
	name("name-overlong-component", "a 256-byte component", "case/"+strings.Repeat("a", 256))
	name("name-overlong-path", "a 4,300-byte path", strings.Repeat(strings.Repeat("b", 250)+"/", 17)+"x")
	name("name-too-many-components", "65 components", strings.Repeat("a/", 64)+"x")
	name("name-empty", "an empty name", "")
	name("name-empty-component", "case//x", "case//x")
	name("name-trailing-slash", "case/x/", "case/x/")
	name("name-reserved", "a payload file inside .dossier/", ".dossier/manifest.json")
	name("name-reserved-folder", "a payload file named .dossier", ".dossier")
	name("name-nfd", "a name in NFD", "case/cafe\u0301.txt")
	name("name-duplicate", "two files with the same name", "case/x.txt", "case/x.txt")
	name("name-case-collision", "names differing only in case", "case/Report.txt", "case/report.txt")
	name("name-fold-collision", "names equal under full case folding (ß/SS)", "case/straße.txt", "case/STRASSE.txt")
	name("name-nfc-nfd-pair", "an NFC name and its NFD spelling", "case/é.txt", "case/e\u0301.txt")
	name("name-kelvin", "k and the Kelvin sign", "case/k.txt", "case/\u212a.txt")
	name("name-file-dir", "a file that is also a folder", "case/a", "case/a/b")
	name("name-file-dir-case", "a file that is also a folder when case is ignored", "case/A", "case/a/b")
	name("name-dir-file", "a folder listed before the file of the same name", "case/a/b", "case/a")
}

// ---- dossier's own entries ----

func (g *gen) metaCases() {
	g.section("meta", "dossier's own .dossier/ entries are hostile")
	meta := func(name, desc string, edit func(b *bundle)) {
		b := g.newBundle(name)
		edit(b)
		g.add(name, desc, b, "bob alice integrity")
	}
	meta("meta-payload-first", "a payload file before the preamble", func(b *bundle) {
		b.preEntry = func(t *tarStream, pre, sig []byte) {
			t.add(b.docs[0].header(), b.docs[0].data)
			t.add(&tar.Header{Name: preambleName, Mode: 0o644, Size: int64(len(pre)), ModTime: b.g.now, Typeflag: tar.TypeReg}, pre)
			t.add(&tar.Header{Name: preambleSigName, Mode: 0o644, Size: int64(len(sig)), ModTime: b.g.now, Typeflag: tar.TypeReg}, sig)
		}
	})
	meta("meta-preamble-symlink", ".dossier/preamble.json as a symlink", func(b *bundle) {
		b.preEntry = func(t *tarStream, pre, sig []byte) {
			t.rawEntry(rawHdr{name: preambleName, mode: 0o644, typeflag: tar.TypeSymlink, linkname: "/etc/passwd", mtime: b.g.now.Unix()}, nil)
			t.add(&tar.Header{Name: preambleSigName, Mode: 0o644, Size: int64(len(sig)), ModTime: b.g.now, Typeflag: tar.TypeReg}, sig)
		}
	})
	meta("meta-preamble-oversize", "the preamble entry declares 300 MiB (nothing follows)", func(b *bundle) {
		b.preEntry = func(t *tarStream, pre, sig []byte) {
			t.raw(headerBlocks(&tar.Header{Name: preambleName, Mode: 0o644, Size: 300 << 20, ModTime: b.g.now, Typeflag: tar.TypeReg}))
			t.raw(pad(pre))
		}
	})
	meta("meta-sig-oversize", "the preamble signature entry declares 17 KiB", func(b *bundle) {
		b.preEntry = func(t *tarStream, pre, sig []byte) {
			t.add(&tar.Header{Name: preambleName, Mode: 0o644, Size: int64(len(pre)), ModTime: b.g.now, Typeflag: tar.TypeReg}, pre)
			big := append(append([]byte(nil), sig...), bytes.Repeat([]byte(" "), 17<<10)...)
			t.add(&tar.Header{Name: preambleSigName, Mode: 0o644, Size: int64(len(big)), ModTime: b.g.now, Typeflag: tar.TypeReg}, big)
		}
	})
	meta("meta-preamble-twice", "the preamble entry twice (no signature entry)", func(b *bundle) {
		b.preEntry = func(t *tarStream, pre, sig []byte) {
			h := &tar.Header{Name: preambleName, Mode: 0o644, Size: int64(len(pre)), ModTime: b.g.now, Typeflag: tar.TypeReg}
			t.add(h, pre)
			t.add(h, pre)
		}
	})
	meta("meta-manifest-renamed", "the manifest stored as .dossier/MANIFEST.json", manifestRenamed)
	meta("meta-manifest-hardlink", "the manifest as a hardlink to the preamble", manifestHardlink)
	// Fields the signatures do not cover, on dossier's own entries: what
	// a stock `tar -x` recovery would apply (SPEC §5: mode 0644, no
	// owners, links or other PAX records).
	meta("meta-preamble-setuid", "the preamble entry with mode 04755", func(b *bundle) {
		b.metaHdr = onlyMeta(preambleName, func(h *tar.Header) { h.Mode = 0o4755 })
	})
	meta("meta-preamble-uid", "the preamble entry owned by uid 1000 (user 'mallory')", func(b *bundle) {
		b.metaHdr = onlyMeta(preambleName, func(h *tar.Header) { h.Uid, h.Uname = 1000, "mallory" })
	})
	meta("meta-manifest-xattr", "the manifest entry with a PAX xattr record", manifestXattr)
	meta("meta-manifest-linkname", "the manifest entry (a regular file) with a linkname", manifestLinkname)
	meta("meta-sig-devmajor", "the manifest signature entry with device numbers", manifestSigDevices)
}

// ---- the zstd and tar stream around validly signed documents ----

func (g *gen) streamCases() {
	g.section("stream", "the zstd frames, trailer, seek table and tar end around validly signed documents")
	stream := func(name, desc string, edit func(b *bundle)) {
		b := g.newBundle(name)
		edit(b)
		g.add(name, desc, b, "bob alice integrity")
	}
	stream("stream-tar-no-end", "no tar end-of-archive marker (frames, trailer and seek table consistent)", func(b *bundle) {
		b.tail = func(t *tarStream) {}
	})
	stream("stream-tar-one-zero-block", "a single zero block instead of two", func(b *bundle) {
		b.tail = func(t *tarStream) { check(t.tw.Flush()); t.buf.Write(make([]byte, 512)) }
	})
	stream("stream-tar-junk-after-end", "bytes after the tar end-of-archive marker", func(b *bundle) {
		b.tail = func(t *tarStream) { check(t.tw.Close()); t.buf.WriteString("junk after the end") }
	})
	stream("stream-tar-record-padding", "zero padding to a 10 KiB tar record after the end marker", func(b *bundle) {
		b.tail = func(t *tarStream) {
			check(t.tw.Close())
			if r := t.buf.Len() % 10240; r != 0 {
				t.buf.Write(make([]byte, 10240-r))
			}
		}
	})
	stream("stream-tar-second-archive", "a second tar archive after the first", func(b *bundle) {
		b.tail = func(t *tarStream) {
			check(t.tw.Close())
			tw := tar.NewWriter(&t.buf)
			check(tw.WriteHeader(&tar.Header{Name: "case/smuggled.txt", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg}))
			_, err := tw.Write([]byte("bad"))
			check(err)
			check(tw.Close())
		}
	})
	stream("stream-extra-frame", "an extra zstd data frame after the archive (listed in the seek table)", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.frames = append(z.frames, compress([]byte("extra frame"))) }
	})
	stream("stream-after-seek-table", "a byte after the seek table", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.after = []byte{0} }
	})
	stream("stream-frame-after-seek-table", "a whole zstd frame after the seek table", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.after = compress([]byte("after")).raw }
	})
	stream("stream-between-trailer-and-table", "a skippable frame between the trailer and the seek table", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.between = skippable(0x184D2A50, []byte("x")) }
	})
	stream("stream-skippable-between-frames", "a skippable frame between data frames", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			f := z.frames[1]
			f.raw = append(skippable(0x184D2A50, []byte("hidden")), f.raw...)
			z.frames[1] = zframe{raw: f.raw, decomp: f.decomp, checksum: f.checksum}
		}
	})
	stream("stream-trailer-early", "a trailer frame between data frames (the stream seems to end early)", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			z.frames[1].raw = append(skippable(trailerMagic, z.trailer), z.frames[1].raw...)
		}
	})
	stream("stream-no-trailer", "no trailer frame", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.trailer = nil }
	})
	stream("stream-no-seek-table", "no seek table", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.table = []byte{} }
	})
	stream("stream-seek-comp-size", "a seek table entry with a wrong compressed size", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			fs := append([]zframe(nil), z.frames...)
			fs[1].raw = append(append([]byte(nil), fs[1].raw...), 0)
			z.table = seekTable(fs)
		}
	})
	stream("stream-seek-decomp-size", "a seek table entry with a wrong decompressed size", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			fs := append([]zframe(nil), z.frames...)
			fs[1].decomp++
			z.table = seekTable(fs)
		}
	})
	stream("stream-seek-checksum", "a seek table entry with a wrong checksum", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			fs := append([]zframe(nil), z.frames...)
			fs[1].checksum ^= 1
			z.table = seekTable(fs)
		}
	})
	stream("stream-seek-missing-entry", "a seek table that omits the last frame", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.table = seekTable(z.frames[:len(z.frames)-1]) }
	})
	stream("stream-seek-no-checksums", "a seek table without the checksum flag", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			t := seekTable(z.frames)
			t[len(t)-5] = 0
			z.table = t
		}
	})
	stream("stream-seek-bad-magic", "a seek table with a wrong footer magic", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			t := seekTable(z.frames)
			t[len(t)-1] ^= 0xff
			z.table = t
		}
	})
	stream("stream-trailer-offset", "a trailer whose manifest_offset is 512 bytes off", trailerOffsetOff(manifest.Version1))
	stream("stream-trailer-noncanonical", "a trailer with a space in its JSON", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.trailer = replaceOnce(z.trailer, `"version":1`, `"version": 1`) }
	})
	stream("stream-trailer-type", "a trailer of another type", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) { z.trailer = replaceOnce(z.trailer, "dossier-index", "dossier-indey") }
	})
	stream("stream-trailer-huge", "a trailer frame declaring 2 MiB", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			h := binary.LittleEndian.AppendUint32(nil, trailerMagic)
			h = binary.LittleEndian.AppendUint32(h, 2<<20)
			z.between = append(h, z.trailer...)
			z.trailer = nil
		}
	})
	stream("stream-raw-tar", "the tar archive without zstd", func(b *bundle) {
		b.frames = func(z *zstream, t *tarStream) {
			z.frames, z.trailer, z.table = nil, nil, []byte{}
			z.after = t.buf.Bytes()
		}
	})
	stream("stream-big-window", "a payload frame declaring a 64 MiB window", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			f := z.frames[1]
			z.frames[1] = reheader(f, 0x84, []byte{16 << 3}, nil, binary.LittleEndian.AppendUint32(nil, f.decomp))
		}
	})
	stream("stream-no-content-size", "a payload frame that does not declare its content size", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			z.frames[1] = reheader(z.frames[1], 0x04, []byte{13 << 3}, nil, nil)
		}
	})
	stream("stream-no-checksum", "a payload frame without a content checksum", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			f := z.frames[1]
			z.frames[1] = reheader(f, 0xA0, nil, nil, binary.LittleEndian.AppendUint32(nil, f.decomp))
		}
	})
	stream("stream-dictionary", "a payload frame that needs a dictionary", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			f := z.frames[1]
			z.frames[1] = reheader(f, 0xA5, nil, []byte{7}, binary.LittleEndian.AppendUint32(nil, f.decomp))
		}
	})
	stream("stream-bad-checksum", "a payload frame whose content checksum is wrong (the seek table agrees with it)", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			f := z.frames[1]
			raw := append([]byte(nil), f.raw...)
			raw[len(raw)-1] ^= 0x55
			z.frames[1] = zframe{raw: raw, decomp: f.decomp, checksum: binary.LittleEndian.Uint32(raw[len(raw)-4:])}
		}
	})
	stream("stream-bad-block", "a payload frame with corrupt compressed data", func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			f := z.frames[1]
			raw := append([]byte(nil), f.raw...)
			raw[len(raw)/2] ^= 0x55
			z.frames[1] = zframe{raw: raw, decomp: f.decomp, checksum: f.checksum}
		}
	})
	stream("stream-expanding-frame", "a signed 100-byte file whose frame holds 8 MiB of zeros", func(b *bundle) {
		b.docs = b.docs[:1]
		b.docs[0].data = make([]byte, 100)
		b.frames = func(z *zstream, t *tarStream) {
			hdr := headerBlocks(b.docs[0].header())
			z.frames = append(z.frames[:1], compress(hdr), zeroBomb(8<<20))
		}
	})

	b := g.newBundle("stream-bomb-1gib")
	b.docs = []doc{{path: "case/zeros.bin", big: 1 << 30, mode: manifest.ModeRegular, mtime: b.docs[0].mtime, cats: []category.ID{category.Other}}}
	b.payload = func(t *tarStream, docs []doc) { t.raw(headerBlocks(docs[0].header())) }
	b.frames = func(z *zstream, _ *tarStream) { z.frames = append(z.frames[:2], zeroBomb(1<<30)) }
	g.add("stream-bomb-1gib", "alice signs a 1 GiB file; its frame is 1 GiB of zeros in 32 KiB", b, "bob alice integrity")

	b = g.newBundle("stream-bomb-first-frame")
	b.frames = func(z *zstream, _ *tarStream) { z.frames = []zframe{zeroBomb(1 << 30)} }
	g.add("stream-bomb-first-frame", "the first frame is 1 GiB of zeros (before the sender is proven)", b, "bob alice integrity")

	b = g.newBundle("stream-manifest-bomb")
	manifestBomb(b)
	g.add("stream-manifest-bomb", "the manifest entry is 200 MiB of zeros (a co-recipient rewrote everything after the preamble)", b, "bob alice integrity")

	g.section("zstd-cut", "the plaintext cut at zstd frame boundaries and re-encrypted under the signed header (a co-recipient's truncation)")
	cut := func(name, desc string, edit func(z *zstream)) {
		b := g.newBundle(name)
		b.frames = func(z *zstream, _ *tarStream) { edit(z) }
		g.add(name, desc, b, "bob alice integrity")
	}
	cut("zstd-cut-after-preamble", "only the preamble's frame", func(z *zstream) {
		z.frames, z.trailer, z.table = z.frames[:1], nil, []byte{}
	})
	cut("zstd-cut-before-manifest", "the frames up to the manifest", func(z *zstream) {
		z.frames, z.trailer, z.table = z.frames[:2], nil, []byte{}
	})
	cut("zstd-cut-before-manifest-indexed", "the frames up to the manifest, with a trailer and seek table for them", func(z *zstream) {
		z.frames = z.frames[:2]
	})
	cut("zstd-cut-before-trailer", "every data frame, no trailer or seek table", func(z *zstream) {
		z.trailer, z.table = nil, []byte{}
	})
	cut("zstd-cut-before-seek-table", "data frames and trailer, no seek table", func(z *zstream) {
		z.table = []byte{}
	})
	cut("zstd-cut-in-seek-table", "the seek table without its last byte", func(z *zstream) {
		t := seekTable(z.frames)
		z.table = t[:len(t)-1]
	})
	cut("zstd-cut-mid-frame", "the stream cut in the middle of the payload frame", func(z *zstream) {
		f := z.frames[1]
		z.frames = z.frames[:1]
		z.trailer, z.table = nil, []byte{}
		z.after = f.raw[:len(f.raw)/2]
	})
}

// ---- the age layer: truncation and trailing data ----

func (g *gen) truncCases() {
	g.section("age", "the bundle file cut at and around age STREAM chunk boundaries (64 KiB + 16), or with data after it")
	f := g.chunked
	hdrLen := bytes.Index(f, []byte("\n--- ")) + 1
	hdrLen += bytes.IndexByte(f[hdrLen:], '\n') + 1
	const chunk = 64<<10 + 16
	payload := hdrLen + 16
	if len(f) <= payload+chunk || len(f) >= payload+2*chunk {
		panic(fmt.Sprintf("ok-chunked has %d payload bytes; want two chunks", len(f)-payload))
	}
	cut := func(name, desc string, n int) {
		g.addBytes(name, desc, f[:n:n], "bob alice integrity")
	}
	cut("age-cut-empty", "an empty file", 0)
	cut("age-cut-intro", "cut inside the version line", 10)
	cut("age-cut-stanza", "cut inside the recipient stanza", hdrLen/2)
	cut("age-cut-before-mac", "cut before the header MAC line", bytes.Index(f, []byte("\n--- "))+1)
	cut("age-cut-header", "the header alone, without the payload nonce", hdrLen)
	cut("age-cut-nonce-half", "half of the payload nonce", hdrLen+8)
	cut("age-cut-nonce", "the header and nonce, no chunk", payload)
	cut("age-cut-chunk1-minus1", "one byte short of the first chunk", payload+chunk-1)
	cut("age-cut-chunk1", "exactly one full (non-final) chunk", payload+chunk)
	cut("age-cut-chunk1-plus1", "one byte into the second chunk", payload+chunk+1)
	cut("age-cut-last-tag", "the final chunk without its 16-byte tag", len(f)-16)
	cut("age-cut-last-byte", "the last byte missing", len(f)-1)
	add := func(name, desc string, data []byte) {
		g.addBytes(name, desc, data, "bob alice integrity")
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	add("age-trailing-byte", "one zero byte after the age stream", cat(f, []byte{0}))
	add("age-trailing-chunk", "17 random bytes (the size of a one-byte STREAM chunk) after the age stream", cat(f, pseudoRandom(2, 17)))
	add("age-trailing-bundle", "a second age file after the first", cat(f, g.newBundle("age-trailing-bundle").build()))
	c1, c2 := f[payload:payload+chunk], f[payload+chunk:]
	add("age-swap-chunks", "the two chunks swapped", cat(f[:payload], c2, c1))
	add("age-drop-chunk", "the first chunk removed", cat(f[:payload], c2))
	mac := bytes.Clone(f)
	mac[hdrLen-3] ^= 0x01
	add("age-header-mac", "the header MAC changed", mac)
	armored := g.newBundle("age-armor-trailing")
	armored.armor = true
	add("age-armor-trailing", "an armored bundle with text after its END line", cat(armored.build(), []byte("trailing text\n")))
}

// ---- the signed preamble ----

// noncanonical lists byte-level mutations of a canonical document of type
// typ that keep it valid JSON (or nearly) but not canonical.
type mutation struct {
	name, desc string
	edit       func([]byte) []byte
}

func noncanonical(typ string, version int) []mutation {
	v := fmt.Sprintf(`"version":%d`, version)
	return []mutation{
		{"space", "a space after a colon", func(b []byte) []byte { return replaceOnce(b, v, strings.Replace(v, ":", ": ", 1)) }},
		{"key-order", "two keys swapped", func(b []byte) []byte {
			return replaceOnce(b, `"type":"`+typ+`",`+v, v+`,"type":"`+typ+`"`)
		}},
		{"duplicate-key", "a duplicated key", func(b []byte) []byte { return replaceOnce(b, v+",", v+","+v+",") }},
		{"case-key", "a key spelled in another case", func(b []byte) []byte { return replaceOnce(b, `"bundle_id"`, `"Bundle_id"`) }},
		{"escape", "a needless \\u escape", func(b []byte) []byte {
			return replaceOnce(b, `"`+typ+`"`, `"`+strings.Replace(typ, "d", `\u0064`, 1)+`"`)
		}},
		{"invalid-utf8", "an invalid UTF-8 byte in a string", func(b []byte) []byte { return replaceOnce(b, "adversarial corpus", "adversarial\xffcorpus") }},
		{"unknown-field", "an unknown field", func(b []byte) []byte { return replaceOnce(b, v+",", v+`,"x":1,`) }},
		{"no-newline", "no final newline", func(b []byte) []byte { return bytes.TrimSuffix(b, []byte("\n")) }},
		{"bom", "a UTF-8 byte order mark first", func(b []byte) []byte { return append([]byte("\xef\xbb\xbf"), b...) }},
	}
}

func (g *gen) preambleCases() {
	g.section("preamble", "preambles signed by alice (valid signatures) that are not canonical or break the rules")
	for _, m := range noncanonical(manifest.PreambleType, g.version) {
		b := g.newBundle("preamble-" + m.name)
		b.preBytes = m.edit
		g.add("preamble-"+m.name, "non-canonical preamble: "+m.desc, b, "bob alice integrity")
	}
	pre := func(name, desc string, edit func(p *manifest.Preamble)) {
		b := g.newBundle(name)
		b.editPre = edit
		g.add(name, desc, b, "bob alice integrity")
	}
	pre("preamble-version-2", `made as "format version 2" before format 2 existed: now a v2 preamble with a v1 manifest and trailer`, func(p *manifest.Preamble) { p.Version = 2 })
	pre("preamble-type", "another document type", func(p *manifest.Preamble) { p.Type = manifest.ManifestType })
	pre("preamble-total-size", "total_size not the sum of the sizes", func(p *manifest.Preamble) { p.TotalSize++ })
	pre("preamble-negative-size", "a negative file size", func(p *manifest.Preamble) { p.Files[0].Size = -1 })
	pre("preamble-carries-hash", "a file entry with a sha256 (only the manifest has those)", func(p *manifest.Preamble) {
		p.Files[0].SHA256 = sha256.Sum256([]byte("other"))
	})
	pre("preamble-created-offset", "created with a +01:00 offset", func(p *manifest.Preamble) { p.Created = "2026-11-26T10:00:00+01:00" })
	pre("preamble-mode-0777", "a file mode of 0777", func(p *manifest.Preamble) { p.Files[0].Mode = 0o777 })
	// A File holds only known categories: these lists are written into
	// the signed bytes.
	preRaw := func(name, desc, list string) {
		b := g.newBundle(name)
		b.preBytes = func(doc []byte) []byte {
			return bytes.Replace(doc, []byte(`"categories":["personal"]`), []byte(`"categories":`+list), 1)
		}
		g.add(name, desc, b, "bob alice integrity")
	}
	preRaw("preamble-no-category", "a file without a category", "null")
	preRaw("preamble-unknown-category", "an unknown category", `["secret"]`)
	pre("preamble-duplicate-recipient", "bob listed twice", func(p *manifest.Preamble) { p.Recipients = append(p.Recipients, p.Recipients[0]) })
	pre("preamble-no-recipients", "no recipients", func(p *manifest.Preamble) { p.Recipients = nil })
	pre("preamble-bidi-case", "a right-to-left override in the case reference", func(p *manifest.Preamble) { p.Case.Reference = "ADV\u202e-2026" })
	pre("preamble-escape-purpose", "an ANSI escape in the purpose", func(p *manifest.Preamble) { p.Case.Purpose = "\x1b]0;pwned\x07" })
	pre("preamble-bad-bundle-id", "a bundle id that is not 32 hex digits", func(p *manifest.Preamble) { p.BundleID = "../../etc" })

	b := g.newBundle("preamble-sender-card-altered")
	c := *g.alice.Card
	c.Name = "Alice (altered)"
	b.sender = &c
	g.add("preamble-sender-card-altered", "alice signs a preamble carrying her card with an altered name (its self-signature fails)", b, "bob alice integrity")
}

// ---- the signed manifest ----

func (g *gen) manifestCases() {
	g.section("manifest", "manifests after a valid payload: not canonical, disagreeing with the preamble, or badly signed")
	g.manifestCasesFor("", g.version)
}

// manifestCasesFor adds the manifest cases for bundle format version,
// named with prefix. A format-1 manifest signature is over the manifest's
// bytes (sign.ContextManifest), a format-2 one over their SHA-512
// (sign.ContextManifestDigest): the signature cases are made in the
// bundle's own form.
func (g *gen) manifestCasesFor(prefix string, version int) {
	for _, m := range noncanonical(manifest.ManifestType, version) {
		name := prefix + "manifest-" + m.name
		b := g.newBundleV(name, version)
		b.manBytes = m.edit
		g.add(name, "non-canonical manifest: "+m.desc, b, "bob alice integrity")
	}
	man := func(name, desc string, edit func(m *manifest.Manifest)) {
		b := g.newBundleV(prefix+name, version)
		b.editMan = edit
		g.add(prefix+name, desc, b, "bob alice integrity")
	}
	man("manifest-bundle-id", "another bundle id", func(m *manifest.Manifest) { m.BundleID = strings.Repeat("ab", 16) })
	man("manifest-created", "another creation time", func(m *manifest.Manifest) { m.Created = "2026-11-26T09:00:01Z" })
	man("manifest-sender", "another sender (mallory)", func(m *manifest.Manifest) { m.Sender = manifest.PartyOf(g.mallory.Card) })
	man("manifest-recipients", "carol added to the recipients", func(m *manifest.Manifest) {
		m.Recipients = append(m.Recipients, manifest.PartyOf(g.carol.Card))
	})
	man("manifest-header-hash", "another age header hash", func(m *manifest.Manifest) { m.AgeHeaderSHA256 = strings.Repeat("0", 64) })
	man("manifest-preamble-hash", "another preamble hash", func(m *manifest.Manifest) { m.PreambleSHA256 = strings.Repeat("0", 64) })
	man("manifest-case", "another purpose", func(m *manifest.Manifest) { m.Case.Purpose = "something else" })
	man("manifest-categories", "another category for a file", func(m *manifest.Manifest) { m.Files[0].Categories = category.MustSet(category.Other) })
	man("manifest-file-dropped", "a file dropped (total adjusted)", func(m *manifest.Manifest) {
		m.TotalSize -= m.Files[2].Size
		m.Files = m.Files[:2]
	})
	man("manifest-file-added", "an extra file", func(m *manifest.Manifest) {
		f := m.Files[2]
		f.Path = "case/extra.txt"
		m.Files = append(m.Files, f)
		m.TotalSize += f.Size
	})
	man("manifest-file-order", "two files swapped", func(m *manifest.Manifest) { m.Files[0], m.Files[1] = m.Files[1], m.Files[0] })
	man("manifest-file-size", "a file one byte larger (total adjusted)", func(m *manifest.Manifest) {
		m.Files[1].Size++
		m.TotalSize++
	})
	man("manifest-mtime", "another modification time", func(m *manifest.Manifest) {
		m.Files[1].MTime = manifest.TimeOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	})
	man("manifest-hash", "a wrong SHA-256", func(m *manifest.Manifest) { m.Files[1].SHA256 = sha256.Sum256([]byte("other")) })
	man("manifest-offset", "a wrong offset", func(m *manifest.Manifest) { m.Files[1].Offset += 512 })

	// ctx and msg: what a valid manifest signature of this format signs.
	ctx, _ := manifestMessage(version, nil)
	msg := func(m []byte) []byte { _, b := manifestMessage(version, m); return b }
	what := "the manifest"
	if version != manifest.Version1 {
		what = "the manifest's SHA-512"
	}
	sig := func(name, desc string, f func(b *bundle) func([]byte) []byte) {
		b := g.newBundleV(prefix+name, version)
		b.manSig = f(b)
		g.add(prefix+name, desc, b, "bob alice integrity")
	}
	sig("manifest-sig-context", what+" signed with the preamble's context", func(b *bundle) func([]byte) []byte {
		return func(m []byte) []byte { return signDoc(g.alice, sign.ContextPreamble, msg(m)) }
	})
	sig("manifest-sig-mallory", what+" signed by mallory", func(b *bundle) func([]byte) []byte {
		return func(m []byte) []byte { return signDoc(g.mallory, ctx, msg(m)) }
	})
	sig("manifest-sig-missing", "no manifest signature entry", func(b *bundle) func([]byte) []byte {
		return func([]byte) []byte { return nil }
	})
	sig("manifest-sig-empty", "an empty manifest signature entry", func(b *bundle) func([]byte) []byte {
		return func([]byte) []byte { return []byte{} }
	})
	sig("manifest-sig-ed25519-bad", "the ML-DSA-65 half valid, the Ed25519 half over another context", func(b *bundle) func([]byte) []byte {
		return func(m []byte) []byte { return halfBad(g, ctx, msg(m), true) }
	})
	sig("manifest-sig-mldsa-bad", "the Ed25519 half valid, the ML-DSA-65 half over another context", func(b *bundle) func([]byte) []byte {
		return func(m []byte) []byte { return halfBad(g, ctx, msg(m), false) }
	})
	sig("manifest-sig-ed25519-only", "a signature file without the ML-DSA-65 half", func(b *bundle) func([]byte) []byte {
		return func(m []byte) []byte {
			s := parseSig(signDoc(g.alice, ctx, msg(m)))
			s.MLDSA65 = nil
			return sigFile(s)
		}
	})
	sig("manifest-sig-noncanonical", "a valid signature in a non-canonical signature file", func(b *bundle) func([]byte) []byte {
		return func(m []byte) []byte {
			return replaceOnce(signDoc(g.alice, ctx, msg(m)), `","ml_dsa_65"`, `", "ml_dsa_65"`)
		}
	})
	sig("manifest-sig-preamble-sig", "the preamble's signature file in place of the manifest's", func(b *bundle) func([]byte) []byte {
		return func([]byte) []byte { return b.lastPreSig }
	})
}

// halfBad returns alice's signature over doc in ctx with one half replaced
// by her signature over doc in another context: well formed, not valid.
func halfBad(g *gen, ctx string, doc []byte, edBad bool) []byte {
	good := parseSig(signDoc(g.alice, ctx, doc))
	other := sign.ContextReceipt
	wrong := parseSig(signDoc(g.alice, other, doc))
	if edBad {
		good.Ed25519 = wrong.Ed25519
		if ed25519.VerifyWithOptions(g.alice.Key.Ed25519().Public().(ed25519.PublicKey), doc, good.Ed25519, &ed25519.Options{Context: ctx}) == nil {
			panic("the Ed25519 half still verifies")
		}
	} else {
		good.MLDSA65 = wrong.MLDSA65
	}
	return sigFile(good)
}

// ---- who signed ----

func (g *gen) senderCases() {
	g.section("sender", "preambles not (validly) signed by the expected sender")
	b := g.newBundle("sender-mallory")
	b.signer, b.sender = g.mallory, g.mallory.Card
	g.add("sender-mallory", "mallory's own valid bundle to bob", b, "bob alice wrong-sender", "bob mallory ok")

	b = g.newBundle("sender-alice-card-mallory-sig")
	b.signer = g.mallory
	g.add("sender-alice-card-mallory-sig", "alice's card in the preamble, signed by mallory", b, "bob alice wrong-sender", "bob mallory wrong-sender")

	b = g.newBundle("sender-mallory-card-alice-sig")
	b.sender = g.mallory.Card
	g.add("sender-mallory-card-alice-sig", "mallory's card in the preamble, signed by alice", b, "bob alice wrong-sender", "bob mallory wrong-sender")

	sig := func(name, desc string, f func(b *bundle) func([]byte) []byte) {
		b := g.newBundle(name)
		b.preSig = f(b)
		g.add(name, desc, b, "bob alice wrong-sender")
	}
	sig("sender-sig-context", "the preamble signed with the manifest's context", func(b *bundle) func([]byte) []byte {
		return func(p []byte) []byte { return signDoc(g.alice, sign.ContextManifest, p) }
	})
	sig("sender-sig-ed25519-bad", "the ML-DSA-65 half valid, the Ed25519 half over another context", func(b *bundle) func([]byte) []byte {
		return func(p []byte) []byte { return halfBad(g, sign.ContextPreamble, p, true) }
	})
	sig("sender-sig-mldsa-bad", "the Ed25519 half valid, the ML-DSA-65 half over another context", func(b *bundle) func([]byte) []byte {
		return func(p []byte) []byte { return halfBad(g, sign.ContextPreamble, p, false) }
	})
	sig("sender-sig-other-preamble", "alice's signature of another preamble", func(b *bundle) func([]byte) []byte {
		return func(p []byte) []byte {
			return signDoc(g.alice, sign.ContextPreamble, replaceOnce(p, "adversarial corpus", "another purpose"))
		}
	})
	sig("sender-sig-empty", "an empty preamble signature entry", func(b *bundle) func([]byte) []byte {
		return func([]byte) []byte { return []byte{} }
	})
	sig("sender-sig-noncanonical", "a valid signature in a non-canonical signature file", func(b *bundle) func([]byte) []byte {
		return func(p []byte) []byte { return append(signDoc(g.alice, sign.ContextPreamble, p), '\n') }
	})
	b = g.newBundle("sender-sig-missing")
	b.preSig = func([]byte) []byte { return nil }
	g.add("sender-sig-missing", "no preamble signature entry: the first payload file follows", b, "bob alice integrity")
}

// ---- age headers: re-wrapped, re-encrypted, mis-addressed ----

func (g *gen) rewrapCases() {
	g.section("rewrap", "the age header re-wrapped or the payload re-encrypted by someone who can decrypt it")
	wrapTo := func(key []byte, cards ...*card.Card) []*age.Stanza {
		var out []*age.Stanza
		for _, c := range cards {
			r, err := c.Recipient()
			check(err)
			s, err := r.Wrap(key)
			check(err)
			out = append(out, s...)
		}
		return out
	}
	rewrap := func(name, desc string, edit func(b *bundle), checks ...string) {
		b := g.newBundle(name)
		edit(b)
		g.add(name, desc, b, checks...)
	}
	rewrap("rewrap-add-mallory", "bob re-wraps the file key for bob and mallory (same payload bytes, new header)", func(b *bundle) {
		b.header = func(key []byte, st []*age.Stanza) []byte {
			return marshalHeader(append(st, wrapTo(key, g.mallory.Card)...), key)
		}
	}, "bob alice not-addressed", "mallory alice not-addressed")
	rewrap("rewrap-to-carol", "the file key re-wrapped for carol only (same payload bytes)", func(b *bundle) {
		b.header = func(key []byte, _ []*age.Stanza) []byte { return marshalHeader(wrapTo(key, g.carol.Card), key) }
	}, "carol alice not-addressed", "bob alice no-identity")
	rewrap("rewrap-fresh-stanza", "the file key re-wrapped for bob again (a fresh stanza, same payload bytes)", func(b *bundle) {
		b.header = func(key []byte, _ []*age.Stanza) []byte { return marshalHeader(wrapTo(key, g.bob.Card), key) }
	}, "bob alice not-addressed")
	rewrap("rewrap-reorder", "signed for bob and carol; their stanzas reordered", func(b *bundle) {
		b.ageTo = []*card.Card{g.bob.Card, g.carol.Card}
		b.header = func(key []byte, st []*age.Stanza) []byte { return marshalHeader([]*age.Stanza{st[1], st[0]}, key) }
	}, "bob alice not-addressed", "carol alice not-addressed")
	rewrap("rewrap-drop-carol", "signed for bob and carol; carol's stanza removed", func(b *bundle) {
		b.ageTo = []*card.Card{g.bob.Card, g.carol.Card}
		b.header = func(key []byte, st []*age.Stanza) []byte { return marshalHeader(st[:1], key) }
	}, "bob alice not-addressed", "carol alice no-identity")
	rewrap("rewrap-grease", "an unknown (grease) stanza added", func(b *bundle) {
		b.header = func(key []byte, st []*age.Stanza) []byte {
			return marshalHeader(append(st, &age.Stanza{Type: "x-grease", Args: []string{"adv"}, Body: []byte("grease")}), key)
		}
	}, "bob alice not-addressed")
	rewrap("rewrap-stanza-damaged", "bob's stanza body altered (MAC recomputed): bob cannot unwrap it", func(b *bundle) {
		b.header = func(key []byte, st []*age.Stanza) []byte {
			s := *st[0]
			s.Body = bytes.Clone(s.Body)
			s.Body[0] ^= 1
			return marshalHeader([]*age.Stanza{&s}, key)
		}
	}, "bob alice no-identity")
	rewrap("rewrap-too-many-stanzas", "1,025 stanzas (valid MAC): over the reader's cap", func(b *bundle) {
		b.header = func(key []byte, st []*age.Stanza) []byte {
			for range 1024 {
				st = append(st, &age.Stanza{Type: "x", Body: nil})
			}
			return marshalHeader(st, key)
		}
	}, "bob alice integrity")
	rewrap("rewrap-long-line", "a 17 KiB stanza argument (valid MAC): over the reader's line cap", func(b *bundle) {
		b.header = func(key []byte, st []*age.Stanza) []byte {
			return marshalHeader(append(st, &age.Stanza{Type: "x", Args: []string{strings.Repeat("a", 17<<10)}}), key)
		}
	}, "bob alice integrity")
	rewrap("rewrap-not-signed-for-reader", "alice signed the preamble for carol but encrypted to bob", func(b *bundle) {
		b.signedTo = []*card.Card{g.carol.Card}
	}, "bob alice not-addressed", "carol alice no-identity")
	rewrap("rewrap-header-hash-of-other", "alice signed another header's hash", func(b *bundle) {
		b.editPre = func(p *manifest.Preamble) { p.AgeHeaderSHA256 = strings.Repeat("ab", 32) }
	}, "bob alice not-addressed")

	// Re-encrypted: a recipient decrypts and encrypts the same plaintext
	// anew (new file key, new header).
	valid := g.newBundle("rewrap-reencrypted")
	plainOf := func() []byte {
		var plain []byte
		valid.plain = func(p []byte) []byte { plain = bytes.Clone(p); return p }
		valid.build()
		return plain
	}
	plain := plainOf()
	encryptTo := func(c *card.Card) []byte {
		b := g.newBundle("rewrap-reencrypted")
		b.ageTo = []*card.Card{c}
		b.plain = func([]byte) []byte { return plain }
		return b.build()
	}
	g.addBytes("rewrap-reencrypted-to-carol", "bob decrypts alice's bundle and encrypts the plaintext to carol", encryptTo(g.carol.Card),
		"carol alice not-addressed", "bob alice no-identity")
	g.addBytes("rewrap-reencrypted-to-bob", "the plaintext encrypted to bob again with a new header", encryptTo(g.bob.Card), "bob alice not-addressed")
}
