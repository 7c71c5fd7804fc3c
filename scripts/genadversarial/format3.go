package main

import (
	"archive/tar"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// version3 is bundle format 3, spelled out as version2 is.
const version3 = 3

// ---- format 3 ----

// format3Cases makes the format-1 sections again in format 3 (v3-*),
// where a reader parses the preamble as it streams, judges it only once
// its signature (over its SHA-512) holds, and keeps of each file only
// keyed tags to match the payload and the manifest against: every case
// refused in format 1 must be refused here too, for the same reason.
// Then format 3's own cases: the preamble signed in the wrong form, a
// stranger's invalid preamble, and lists long enough to span batches.
func (g *gen) format3Cases() {
	func() {
		g.version, g.prefix = version3, "v3-"
		defer func() { g.version, g.prefix = manifest.Version1, "" }()
		g.okCases()
		g.entryCases()
		g.nameCases()
		g.metaCases()
		g.preambleCases()
		g.manifestCases()
		g.senderCases()
	}()

	g.section("format3", "format 3 (the preamble signature is over the preamble's SHA-512, with context \"dossier/v3 preamble\"; the reader parses the preamble as it streams and keeps no file list)")
	v3 := func(name string) *bundle { return g.newBundleV(name, version3) }
	integrity := func(name, desc string, b *bundle) { g.add(name, desc, b, "bob alice integrity") }

	many := func(name string) *bundle { return manyFiles(v3(name)) }
	g.add("v3-ok-many-files", "400 files: a preamble and a manifest of many batches, neither held", many("v3-ok-many-files"), "bob alice ok")
	b := many("v3-manifest-hash-late")
	b.editMan = func(m *manifest.Manifest) { m.Files[380].SHA256 = sha256.Sum256([]byte("other")) }
	integrity("v3-manifest-hash-late", "400 files; file 380's signed SHA-256 is wrong", b)
	b = many("v3-manifest-category-late")
	b.editMan = func(m *manifest.Manifest) { m.Files[380].Categories = category.MustSet(category.Personal) }
	integrity("v3-manifest-category-late", "400 files; file 380's categories in the manifest differ from the preamble's", b)
	b = many("v3-entry-hash-late")
	b.payload = editDoc(380, func(_ *tar.Header, d *doc) { d.data = []byte(fmt.Sprintf("document %d\n", 999)) })
	integrity("v3-entry-hash-late", "400 files; file 380's content altered (same size): its signed SHA-256 does not match", b)
	b = many("v3-preamble-collision-late")
	b.docs[399].path = "case/docs/0001.TXT"
	integrity("v3-preamble-collision-late", "400 files; the last one's name differs from the second's only in case", b)

	// The preamble signed in the wrong form.
	sig := func(name, desc, expect string, f func(pre []byte) []byte) {
		b := v3(name)
		b.preSig = f
		g.add(name, desc, b, "bob alice "+expect)
	}
	digest := func(pre []byte) []byte { d := sha512.Sum512(pre); return d[:] }
	sig("v3-presig-bytes", "a format-3 preamble signed the older way (its bytes, \"dossier/v1 preamble\")", "wrong-sender", func(p []byte) []byte {
		return signDoc(g.alice, sign.ContextPreamble, p)
	})
	sig("v3-presig-digest-v1-context", "a format-3 preamble's SHA-512 signed with \"dossier/v1 preamble\"", "wrong-sender", func(p []byte) []byte {
		return signDoc(g.alice, sign.ContextPreamble, digest(p))
	})
	sig("v3-presig-manifest-context", "a format-3 preamble's SHA-512 signed with the manifest's \"dossier/v2 manifest\"", "wrong-sender", func(p []byte) []byte {
		return signDoc(g.alice, sign.ContextManifestDigest, digest(p))
	})
	sig("v3-presig-bytes-v3-context", "a format-3 preamble's bytes (not their SHA-512) signed with \"dossier/v3 preamble\"", "wrong-sender", func(p []byte) []byte {
		return signDoc(g.alice, sign.ContextPreambleDigest, p)
	})
	b = g.newBundleV("v3-v2bundle-presig-digest", version2)
	b.preSig = func(p []byte) []byte { return signDoc(g.alice, sign.ContextPreambleDigest, digest(p)) }
	integrity("v3-v2bundle-presig-digest", "a format-2 preamble signed by alice the format-3 way: hers, but not a format-3 preamble", b)

	// Judged only once its signature holds: a stranger's preamble is
	// refused as a stranger's, whatever it holds.
	b = v3("v3-stranger-invalid-preamble")
	b.signer = g.mallory
	b.docs[0].path = "case/../../x"
	g.add("v3-stranger-invalid-preamble", "mallory's signature over a format-3 preamble naming alice, with an unsafe path", b, "bob alice wrong-sender")
	b = v3("v3-stranger-null-files")
	b.signer = g.mallory
	b.docs = nil
	b.editPre = func(p *manifest.Preamble) { p.Files = nil }
	g.add("v3-stranger-null-files", `mallory's signature over a format-3 preamble naming alice, with "files":null`, b, "bob alice wrong-sender")

	b = v3("v3-empty-preamble-null")
	b.docs = nil
	b.editPre = func(p *manifest.Preamble) { p.Files = nil }
	integrity("v3-empty-preamble-null", `no files: the preamble (validly signed) lists "files":null`, b)
	b = v3("v3-manifest-version-2")
	b.editMan = func(m *manifest.Manifest) { m.Version = version2 }
	integrity("v3-manifest-version-2", "a format-3 preamble; the manifest says version 2 (signed the same way as format 3's)", b)
	b = v3("v3-trailer-version-2")
	b.frames = func(z *zstream, _ *tarStream) { z.trailer = replaceOnce(z.trailer, `"version":3`, `"version":2`) }
	integrity("v3-trailer-version-2", "a format-3 bundle whose trailer says version 2", b)
}
