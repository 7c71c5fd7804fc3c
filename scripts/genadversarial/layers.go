package main

// The three layers of a bundle written by hand, so that every field can be
// set to a hostile value: the age header (with a file key we know, so a
// header can be re-wrapped while the payload stays byte for byte the same),
// zstd frames with their trailer and seek table, and raw tar header blocks.

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
)

// ---- age ----

// keyCatcher wraps an age recipient and remembers the file key and the
// stanzas it produced, so the header can be rebuilt or re-wrapped.
type keyCatcher struct {
	r       *age.HybridRecipient
	key     *[]byte
	stanzas *[]*age.Stanza
}

func (k keyCatcher) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	s, _, err := k.WrapWithLabels(fileKey)
	return s, err
}

func (k keyCatcher) WrapWithLabels(fileKey []byte) ([]*age.Stanza, []string, error) {
	*k.key = append([]byte(nil), fileKey...)
	s, l, err := k.r.WrapWithLabels(fileKey)
	*k.stanzas = append(*k.stanzas, s...)
	return s, l, err
}

// marshalHeader writes an age v1 header for stanzas with the MAC made from
// fileKey, exactly as age does.
func marshalHeader(stanzas []*age.Stanza, fileKey []byte) []byte {
	var b bytes.Buffer
	b.WriteString("age-encryption.org/v1\n")
	for _, s := range stanzas {
		b.WriteString("-> " + s.Type)
		for _, a := range s.Args {
			b.WriteString(" " + a)
		}
		b.WriteString("\n")
		enc := base64.RawStdEncoding.EncodeToString(s.Body)
		for len(enc) >= 64 {
			b.WriteString(enc[:64] + "\n")
			enc = enc[64:]
		}
		b.WriteString(enc + "\n")
	}
	b.WriteString("---")
	macKey, err := hkdf.Key(sha256.New, fileKey, nil, "header", 32)
	check(err)
	h := hmac.New(sha256.New, macKey)
	h.Write(b.Bytes())
	b.WriteString(" " + base64.RawStdEncoding.EncodeToString(h.Sum(nil)) + "\n")
	return b.Bytes()
}

// ---- zstd ----

const (
	frameMagic     = 0xFD2FB528
	trailerMagic   = 0x184D2A5D
	seekTableMagic = 0x184D2A5E
	seekableMagic  = 0x8F92EAB1
	maxFrame       = 8 << 20
)

// zframe is one compressed data frame as the seek table lists it.
type zframe struct {
	raw      []byte
	decomp   uint32
	checksum uint32
}

var encoder = func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderCRC(true),
		zstd.WithSingleSegment(true),
		zstd.WithZeroFrames(false),
		zstd.WithEncoderConcurrency(1))
	check(err)
	return e
}()

// compress makes one independent frame of data, as dossier's writer does:
// single segment (so the content size is declared), content checksum.
func compress(data []byte) zframe {
	if len(data) == 0 || len(data) > maxFrame {
		panic(fmt.Sprintf("frame of %d bytes", len(data)))
	}
	raw := encoder.EncodeAll(data, nil)
	return zframe{raw: raw, decomp: uint32(len(data)), checksum: binary.LittleEndian.Uint32(raw[len(raw)-4:])}
}

// frameParts splits a frame made by compress into its header (magic
// included), its blocks and its checksum.
func frameParts(f zframe) (hdr, blocks, sum []byte) {
	var h zstd.Header
	check(h.Decode(f.raw))
	return f.raw[:h.HeaderSize], f.raw[h.HeaderSize : len(f.raw)-4], f.raw[len(f.raw)-4:]
}

// reheader rebuilds frame f with another frame header: fhd is the
// Frame_Header_Descriptor, then the window descriptor (if not single
// segment), the dictionary id and the content size field as given. The
// checksum is kept if fhd asks for one.
func reheader(f zframe, fhd byte, wd []byte, dict []byte, fcs []byte) zframe {
	_, blocks, sum := frameParts(f)
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, frameMagic)
	b = append(b, fhd)
	b = append(b, wd...)
	b = append(b, dict...)
	b = append(b, fcs...)
	b = append(b, blocks...)
	if fhd&0x04 != 0 {
		b = append(b, sum...)
	}
	return zframe{raw: b, decomp: f.decomp, checksum: f.checksum}
}

// zeroBomb is an honest zstd frame of n zero bytes (n a multiple of
// 128 KiB) declaring its content size, with an 8 MiB window: RLE blocks of
// 128 KiB, four bytes each. Stock zstd decodes it.
func zeroBomb(n int64) zframe {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, frameMagic)
	// FCS field 8 bytes, checksum, not single segment: window descriptor.
	b = append(b, 0xC4, 13<<3)
	b = binary.LittleEndian.AppendUint64(b, uint64(n))
	const block = 128 << 10
	for left := n; left > 0; left -= block {
		h := uint32(block<<3) | 1<<1 // RLE
		if left == block {
			h |= 1
		}
		b = append(b, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	sum := zeroChecksum(n)
	b = binary.LittleEndian.AppendUint32(b, sum)
	return zframe{raw: b, decomp: uint32(min(n, 1<<32-1)), checksum: sum}
}

// zeroChecksum is the zstd content checksum (low 32 bits of XXH64) of n
// zero bytes, taken from the encoder.
var zeroSums = map[int64]uint32{}

func zeroChecksum(n int64) uint32 {
	if s, ok := zeroSums[n]; ok {
		return s
	}
	var tail tailWriter
	e, err := zstd.NewWriter(&tail, zstd.WithEncoderCRC(true), zstd.WithEncoderConcurrency(1))
	check(err)
	_, err = io.Copy(e, io.LimitReader(zeroReader{}, n))
	check(err)
	check(e.Close())
	zeroSums[n] = binary.LittleEndian.Uint32(tail.last[:])
	return zeroSums[n]
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type tailWriter struct{ last [4]byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	if len(p) >= 4 {
		copy(t.last[:], p[len(p)-4:])
	} else {
		copy(t.last[:], append(t.last[len(p):], p...))
	}
	return len(p), nil
}

func skippable(magic uint32, content []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, magic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(content)))
	return append(b, content...)
}

// seekTable is the zstd seekable-format table listing frames.
func seekTable(frames []zframe) []byte {
	var c []byte
	for _, f := range frames {
		c = binary.LittleEndian.AppendUint32(c, uint32(len(f.raw)))
		c = binary.LittleEndian.AppendUint32(c, f.decomp)
		c = binary.LittleEndian.AppendUint32(c, f.checksum)
	}
	c = binary.LittleEndian.AppendUint32(c, uint32(len(frames)))
	c = append(c, 0x80)
	c = binary.LittleEndian.AppendUint32(c, seekableMagic)
	return skippable(seekTableMagic, c)
}

// ---- tar ----

// rawHdr is a tar header block with every field under our control.
type rawHdr struct {
	name, linkname, uname, gname, prefix string
	mode, uid, gid, size, mtime          int64
	devmajor, devminor                   int64
	typeflag                             byte
	gnu                                  bool // GNU magic instead of POSIX ustar
	sparse                               [][2]int64
	realsize                             int64
}

func octal(b []byte, v int64) {
	s := fmt.Sprintf("%0*o", len(b)-1, v)
	copy(b, s)
	b[len(b)-1] = 0
}

func (h rawHdr) block() []byte {
	b := make([]byte, 512)
	copy(b[0:100], h.name)
	octal(b[100:108], h.mode)
	octal(b[108:116], h.uid)
	octal(b[116:124], h.gid)
	octal(b[124:136], h.size)
	octal(b[136:148], h.mtime)
	b[156] = h.typeflag
	copy(b[157:257], h.linkname)
	if h.gnu {
		copy(b[257:265], "ustar  \x00")
	} else {
		copy(b[257:265], "ustar\x0000")
	}
	copy(b[265:297], h.uname)
	copy(b[297:329], h.gname)
	octal(b[329:337], h.devmajor)
	octal(b[337:345], h.devminor)
	if h.gnu {
		for i, s := range h.sparse {
			off := 386 + 24*i
			octal(b[off:off+12], s[0])
			octal(b[off+12:off+24], s[1])
		}
		if h.realsize > 0 {
			octal(b[483:495], h.realsize)
		}
	} else {
		copy(b[345:500], h.prefix)
	}
	copy(b[148:156], "        ")
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func pad(data []byte) []byte {
	out := append([]byte(nil), data...)
	if r := len(out) % 512; r != 0 {
		out = append(out, make([]byte, 512-r)...)
	}
	return out
}

// entry is a header block followed by its padded data.
func (h rawHdr) entry(data []byte) []byte {
	return append(h.block(), pad(data)...)
}

// paxRecords encodes PAX extended header records ("LEN key=value\n").
func paxRecords(kv ...string) []byte {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		rec := " " + kv[i] + "=" + kv[i+1] + "\n"
		n := len(rec)
		for len(fmt.Sprint(n))+len(rec) != n {
			n = len(fmt.Sprint(n)) + len(rec)
		}
		b.WriteString(fmt.Sprint(n) + rec)
	}
	return []byte(b.String())
}

// paxEntry is a PAX extended header ('x', or 'g' for global) with records.
func paxEntry(typeflag byte, mtime int64, kv ...string) []byte {
	recs := paxRecords(kv...)
	return rawHdr{name: "PaxHeaders.0/x", mode: 0o644, size: int64(len(recs)), mtime: mtime, typeflag: typeflag}.entry(recs)
}
