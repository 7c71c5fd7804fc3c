package main

import (
	"archive/tar"
	"fmt"
)

// Hostile forms of dossier's own entries around the manifest. The format-1
// cases use them, and the format-2 ones again (a format-2 reader reads the
// manifest entry as a stream, so the same faults go through other code).

// onlyMeta applies edit to the header of the .dossier/ entry name only.
func onlyMeta(name string, edit func(h *tar.Header)) func(h *tar.Header) {
	return func(h *tar.Header) {
		if h.Name == name {
			edit(h)
		}
	}
}

// manifestRenamed stores the manifest as .dossier/MANIFEST.json.
func manifestRenamed(b *bundle) {
	b.manEntry = func(t *tarStream, man, sig []byte) {
		t.add(&tar.Header{Name: ".dossier/MANIFEST.json", Mode: 0o644, Size: int64(len(man)), ModTime: b.g.now, Typeflag: tar.TypeReg}, man)
		t.add(&tar.Header{Name: manifestSigName, Mode: 0o644, Size: int64(len(sig)), ModTime: b.g.now, Typeflag: tar.TypeReg}, sig)
	}
}

// manifestHardlink makes the manifest entry a hard link to the preamble.
func manifestHardlink(b *bundle) {
	b.manEntry = func(t *tarStream, man, sig []byte) {
		t.rawEntry(rawHdr{name: manifestName, mode: 0o644, typeflag: tar.TypeLink, linkname: preambleName, mtime: b.g.now.Unix()}, nil)
		t.add(&tar.Header{Name: manifestSigName, Mode: 0o644, Size: int64(len(sig)), ModTime: b.g.now, Typeflag: tar.TypeReg}, sig)
	}
}

// manifestXattr gives the manifest entry a PAX xattr record.
func manifestXattr(b *bundle) {
	b.metaHdr = onlyMeta(manifestName, func(h *tar.Header) {
		h.Format = tar.FormatPAX
		h.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"}
	})
}

// manifestLinkname gives the manifest entry (a regular file) a linkname.
func manifestLinkname(b *bundle) {
	b.metaHdr = onlyMeta(manifestName, func(h *tar.Header) { h.Linkname = "/etc/shadow" })
}

// manifestSigDevices gives the manifest signature entry device numbers.
func manifestSigDevices(b *bundle) {
	b.manEntry = func(t *tarStream, man, sig []byte) {
		t.add(&tar.Header{Name: manifestName, Mode: 0o644, Size: int64(len(man)), ModTime: b.g.now, Typeflag: tar.TypeReg}, man)
		t.rawEntry(rawHdr{name: manifestSigName, mode: 0o644, size: int64(len(sig)), mtime: b.g.now.Unix(), typeflag: '0', devmajor: 1, devminor: 3}, sig)
	}
}

// manifestBomb replaces the manifest entry with 200 MiB of zeros.
func manifestBomb(b *bundle) {
	b.manEntry = func(t *tarStream, man, sig []byte) {
		t.add(&tar.Header{Name: manifestName, Mode: 0o644, Size: 200 << 20, ModTime: b.g.now, Typeflag: tar.TypeReg}, make([]byte, 200<<20))
		t.add(&tar.Header{Name: manifestSigName, Mode: 0o644, Size: int64(len(sig)), ModTime: b.g.now, Typeflag: tar.TypeReg}, sig)
	}
	b.frameSize = 8 << 20
}

// entryAfterManifest adds a payload entry after the signed manifest.
func entryAfterManifest(b *bundle) {
	b.tail = func(t *tarStream) {
		h := b.docs[0].header()
		h.Name = "case/late.txt"
		t.add(h, b.docs[0].data)
		check(t.tw.Close())
	}
}

// trailerOffsetOff moves the trailer's manifest_offset of a bundle of
// the given format version 512 bytes on.
func trailerOffsetOff(version int) func(b *bundle) {
	return func(b *bundle) {
		b.frames = func(z *zstream, _ *tarStream) {
			var off int
			fmt.Sscanf(string(z.trailer), `{"type":"dossier-index","version":`+fmt.Sprint(version)+`,"manifest_offset":%d}`, &off)
			z.trailer = []byte(fmt.Sprintf(`{"type":"dossier-index","version":%d,"manifest_offset":%d}`+"\n", version, off+512))
		}
	}
}
