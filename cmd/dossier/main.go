// Command dossier moves evidence between authorities in signed,
// zstd-compressed, age-encrypted bundles with a manifest of data categories.
package main

import (
	"math"
	"os"
	"runtime/debug"

	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// memoryLimit is a soft limit for the Go heap. dossier streams the data,
// so its live heap is small (frame buffers plus the file list); without a
// limit the garbage collector lets the heap grow to twice the live data
// between collections, which doubles the peak memory for nothing.
// GOMEMLIMIT overrides it. Measured on the 1 GB benchmark corpora: the
// live heap of every command stays near 30 MiB plus its file list, and a
// limit much closer to that makes the collector run hundreds of times.
const memoryLimit = 40 << 20

// The limit grows with the number of files in the bundle, so that a
// bundle with very many files does not make the collector run too often.
// Each file's entry cost some 500 bytes of live heap when this was
// measured (the plan's or preamble's list, its hash, its share of the
// manifest, which format 1 holds whole at the end). Format 2 holds no
// manifest; the limit was kept for the room it leaves for garbage (but
// see readLimitFor). Up to about 47,700 files the limit grows by
// perFileMemory from memoryLimit; beyond, where the list outweighs the
// fixed buffers, by manyFilesMemory from manyFilesBase.
// Measured alternately:
//   - on the 1 GB text corpus (44,500 files), against 768 bytes a file,
//     pack and verify took the same time within noise, with peak RSS of
//     61–63 MiB instead of 77–79 (verify of the mixed corpus was 2–4 %
//     slower, 53 MiB instead of 60);
//   - at 100,000 files, 384 bytes a file throughout left pack (65 MB
//     live) 26–31 collections instead of 18 and about 10 % slower (4
//     runs each, medians 4.0 and 3.6 s), for 9 MiB less; verify was the
//     same either way.
const (
	perFileMemory   = 384
	manyFilesBase   = 32 << 20
	manyFilesMemory = 560
)

// setMemoryLimitFor sets the limit for a file list of n entries, once its
// size is known. It ends the unlimited planning phase (liftMemoryLimit)
// and replaces the room made for parsing a preamble.
func setMemoryLimitFor(n int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memoryLimitFor(n))
}

// setReadLimitFor sets the limit for reading a bundle whose signed
// preamble p (of preambleSize bytes; 0 if not known) was just proven.
func setReadLimitFor(p *manifest.Preamble, preambleSize int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(readLimitFor(p.Version, len(p.Files), preambleSize, p.TotalSize))
}

// Reading a format-2 bundle holds the preamble's file list (each entry
// about 100 bytes more than its encoding: the struct, the hash read) and
// the decompressor's buffers, but never the manifest. How often the
// collector runs depends on the room left above that for garbage, and
// the garbage on the bundle's size (age's stream reader allocates every
// 64 KiB chunk anew). readLimitFor gives a small bundle of many files
// less room than memoryLimitFor, and never more. Measured at 100,000
// files (a 33 MB bundle): verify at a 54 MiB limit made 12 collections
// instead of 10, in the same time, at 60 MiB peak RSS instead of 71; at
// 8 GiB (148,890 files) a limit below memoryLimitFor's made verify 16 %
// (84 MiB) and 48 % (72 MiB) slower, so there it is left as it is.
const (
	readFixedMemory   = 20 << 20
	readPerFileMemory = 100
	readMinRoom       = 12 << 20
	readMaxRoom       = 64 << 20
	readRoomDivisor   = 32 // room for garbage: the bundle's size / 32
)

// readLimitFor is the limit for reading a bundle of format version,
// whose preamble is preambleSize bytes and lists n files of total bytes.
func readLimitFor(version, n, preambleSize int, total int64) int64 {
	limit := memoryLimitFor(n)
	if version == manifest.Version1 || preambleSize <= 0 {
		return limit // a format-1 reader holds the whole manifest at the end
	}
	live := int64(readFixedMemory) + int64(preambleSize) + int64(n)*readPerFileMemory
	room := min(max(total/readRoomDivisor, readMinRoom), readMaxRoom)
	return min(limit, live+room)
}

// memoryLimitFor is the limit for a file list of n entries.
func memoryLimitFor(n int) int64 {
	return max(int64(memoryLimit)+int64(n)*perFileMemory, int64(manyFilesBase)+int64(n)*manyFilesMemory)
}

// preambleMemory is how much memory parsing a preamble takes per byte,
// about: at 100,000 files a 20 MB preamble became 60 MB of file list.
const preambleMemory = 4

// makeRoomForPreamble raises the limit before a signed preamble of size
// bytes is parsed: under a limit below what the parse holds, the collector
// ran about 60 times in a row (1.4 s at 100,000 files).
func makeRoomForPreamble(size int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if want := int64(memoryLimit) + int64(size)*preambleMemory; want > debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(want)
	}
}

// liftMemoryLimit removes the limit while pack builds its file list, whose
// size is not known until it is built: the heap then holds little else,
// and the collector's own pacing (twice the live heap) suits it. The
// limit is set again, for the number of files, by setMemoryLimitFor.
func liftMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(math.MaxInt64)
	}
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
