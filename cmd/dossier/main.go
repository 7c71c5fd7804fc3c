// Command dossier moves evidence between authorities in signed,
// zstd-compressed, age-encrypted bundles with a manifest of data categories.
package main

import (
	"math"
	"os"
	"runtime"
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

// setPackLimit sets pack's limit once its plan is made, ending the
// planning phase (liftMemoryLimit). It first measures what planning left
// live: one collection, which also gives back the pages planning's
// garbage took (FreeOSMemory), so that the frame buffers, made next, take
// those again rather than more. (runtime/metrics would say the same, but
// its package costs every command some 0.5 ms to initialise.) held is
// what packing will hold besides: the signed documents of formats 1
// and 2 (legacyHeldPerFile).
func setPackLimit(held int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	setMemoryLimit(packLimitFor(int64(ms.HeapAlloc) + held))
}

// pack keeps its plan's file list on disk (bundle.SpoolPlan), so what
// planning leaves live is small whatever the number of files: the lists
// of files left out or without a category, and the origins of the
// folders given. Packing adds its buffers, 20-21 MB: the compressor's
// frames (five or six of 2 MiB) and history (2 × 2.1 MiB), its tables,
// age's and the disk's buffers. It makes little garbage (those buffers
// are reused; reading the plan back makes a path a file), so pack's limit
// is memoryLimit, or what planning left and packBuffersAndRoom if that is
// more (a plan that excluded a great many files).
//
// When the plan was held in memory (112 bytes a file and the path), the
// limit followed it: measured at 8 GiB under fixed limits (GOMEMLIMIT)
// of the plan and 28, 30, 32, 33 and 34 MiB, pack made 2,133 collections
// (60 s instead of 31-39), then 94, 76-77, 72 and 70-71; so 32 MiB above
// what planning leaves is room enough. With the plan on disk, at 100,000
// files under fixed limits of 30, 36 and 42 MiB: 112, 92 and 89
// collections, peak RSS 33, 38 and 44 MiB, in the same time (1.9-2.0 s);
// without a limit the collector's own pacing held 20 MB live under a
// goal of 40 MB (50 MiB peak RSS).
const packBuffersAndRoom = 32 << 20 // the buffers, 20-21 MiB, and room

// legacyHeldPerFile is what pack holds a file when it writes format 1 or
// 2: the preamble's bytes while it signs them (some 150 a file), and in
// format 1 the manifest's at the end (some 240), not both at once.
const legacyHeldPerFile = 256

// packLimitFor is pack's limit when planning left planLive bytes live.
func packLimitFor(planLive int64) int64 {
	return max(memoryLimit, planLive+packBuffersAndRoom)
}

// setReadLimitFor sets the limit for reading a bundle whose signed
// preamble p (of preambleSize bytes; 0 if not known) was just proven.
func setReadLimitFor(p *manifest.Preamble, files, preambleSize int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	version := p.Version
	if version >= manifest.Version3 && p.Files != nil {
		// inspect holds a format-3 preamble's list, which it prints.
		version = manifest.Version2
	}
	setMemoryLimit(readLimitFor(version, files, preambleSize, p.TotalSize))
}

// Reading a format-2 bundle holds the preamble's file list (less than
// its encoding: an entry is 80 bytes and its path, against some 95 bytes
// and the path in JSON) and the decompressor's buffers, but never the
// manifest. How often the collector runs depends on the room left above
// that for garbage, and the garbage on the bundle's size (age's stream
// reader, still used for standard input and armor, allocates every 64 KiB
// chunk anew; its random-access reader, used for files, one chunk per
// megabyte). readLimitFor gives a format-2 bundle that room, at most 24
// MiB, and never more than memoryLimitFor; and where the list is long,
// less room, down to 10 MiB, so that the limit stays at readCeiling while
// the list leaves 10 MiB below it.
//
// Measured at 100,000 files (a 33 MB bundle): verify at a 54 MiB limit
// made 12 collections instead of 10, in the same time, at 60 MiB peak
// RSS instead of 71. At 8 GiB (148,890 files, a 22 MB preamble) the live
// heap while reading is 34-38 MB since entries hold their time, mode and
// categories as numbers (it was 48-52), and peak RSS is the limit plus
// some 10 MiB: 8.5 MiB of it the binary's own pages (RssFile), the rest
// the runtime's. With the mtime and mode as numbers only, under a fixed
// limit (GOMEMLIMIT), one run each: 74 MiB, 32 collections, 80,624 KiB
// peak; 62 MiB, 63, 71,084 KiB; 58 MiB, 97, 66,828 KiB; 56 MiB, 148,
// 64,876 KiB; 54 MiB, 241, 64,220 KiB; user CPU 32-37 s throughout,
// elapsed 17.6-20.2 s, in no order of the limit (this machine's noise).
// At the ceiling of 53 MiB, with the categories as a set too, verify
// peaked at 61,364-62,412 KiB in 92 collections and open at
// 62,048-65,208 KiB in 206 (a ceiling of 50 MiB gave open 63,084-64,044
// KiB, in as many collections). The 1 GiB text bundle's limit falls by
// 2.6 MiB.
const (
	readFixedMemory = 20 << 20
	readMinRoom     = 10 << 20 // where the list is long
	readSmallRoom   = 12 << 20 // for a small bundle
	readMaxRoom     = 24 << 20
	readRoomDivisor = 32 // room for garbage: the bundle's size / 32
	readCeiling     = 53 << 20
)

// Reading a format-3 bundle holds no list: some 17 bytes a file of tags
// (readStreamedPerFile allows for their slices' growth) beside the
// decompressor's buffers, a live heap of 20-24 MB at 8 GiB. Its room for
// garbage is at most 16 MiB. Measured at 8 GiB (148,890 files), verify
// under a fixed limit (GOMEMLIMIT), one run each: 48 MiB, 54,276 KiB
// peak RSS, 17.3 s; 40 MiB, 58 collections, 46,064 KiB, 17.1 s; 34 MiB,
// 107 collections, 40,468 KiB, 18.3 s; 30 MiB, 314 collections. Under
// format 2's limit (53 MiB there) it peaked at 55,580-58,536 KiB in
// 16.4-18.9 s; under this one (39.4 MiB) at 45,440-45,644 KiB in
// 17.7-18.3 s, and open at 45,356-45,588 KiB instead of 59,316-59,552,
// in as much CPU time.
const (
	readStreamedPerFile = 24
	readStreamedMaxRoom = 16 << 20
)

// readLimitFor is the limit for reading a bundle of format version,
// whose preamble is preambleSize bytes and lists n files of total bytes.
func readLimitFor(version, n, preambleSize int, total int64) int64 {
	limit := memoryLimitFor(n)
	if version >= manifest.Version3 {
		live := int64(readFixedMemory) + int64(n)*readStreamedPerFile
		room := min(max(total/readRoomDivisor, readSmallRoom), readStreamedMaxRoom)
		return min(limit, live+room)
	}
	if version == manifest.Version1 || preambleSize <= 0 {
		return limit // a format-1 reader holds the whole manifest at the end
	}
	live := int64(readFixedMemory) + int64(preambleSize)
	room := min(max(total/readRoomDivisor, readSmallRoom), readMaxRoom)
	room = max(min(room, readCeiling-live), readMinRoom)
	return min(limit, live+room)
}

// The limits above were measured on the project's 2-core machine. Each
// core beyond compresses or decompresses a frame of its own (zframe's
// Concurrency is GOMAXPROCS): pack holds a frame to compress, one
// compressed and its encoder's history and tables, some 7.4 MiB a core
// (frames of 2 MiB); a reader a compressed and a decoded frame and its
// decoder. Without that room, with GOMAXPROCS=8 on this machine, pack of
// the 1 GiB mixed corpus made 209-216 collections instead of 27-28 and
// peaked at 90 MiB, over its limit, and verify made 307-316 instead of
// 10 and took 4.9-5.3 s instead of 2.6-4.0: on a machine with more cores
// the collector would have taken the time they save.
const perCoreMemory = 8 << 20

// coresMemory is the room the cores beyond 2 take.
func coresMemory() int64 {
	return int64(max(runtime.GOMAXPROCS(0)-2, 0)) * perCoreMemory
}

// setMemoryLimit sets the limit to limit, a limit for 2 cores, and the
// room the cores beyond take (coresMemory).
func setMemoryLimit(limit int64) {
	debug.SetMemoryLimit(limit + coresMemory())
}

// memoryLimitFor is the limit for a file list of n entries.
func memoryLimitFor(n int) int64 {
	return max(int64(memoryLimit)+int64(n)*perFileMemory, int64(manyFilesBase)+int64(n)*manyFilesMemory)
}

// Parsing a preamble holds its bytes and the list made of them at once
// (the list costs a little less than the bytes: an entry is 80 bytes and
// its path, cut from shared blocks), with the frame buffers beside; the
// parse's peak is the reader's. At 8 GiB (a 22 MB preamble, 148,890
// files) the live heap peaked at 45-48 MB while parsing, some 2.1 ×
// size. The limit during the parse is 8 MiB plus 2.35 × size (57 MiB
// there): at 2 × size the collector ran five times in a row at the end
// of the parse; with the old list (mtime and mode as strings), 40 MiB
// plus 0.9, 1.2 and 2 × size gave 64,740, 66,516 and 71,764 KiB peak
// RSS, in the same number of collections (160-171 in the whole verify)
// and time.
const (
	preambleFixedMemory   = 8 << 20
	preambleMemoryPercent = 235
)

// makeRoomForPreamble raises the limit before a signed preamble of size
// bytes is parsed: under a limit below what the parse holds, the collector
// ran about 60 times in a row (1.4 s at 100,000 files). (A format-3
// preamble is parsed as it is read, before this is called, and holds no
// list; readLimitFor lowers the limit again right after.)
func makeRoomForPreamble(size int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if want := int64(preambleFixedMemory) + int64(size)*preambleMemoryPercent/100 + coresMemory(); want > debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(want)
	}
}

// liftMemoryLimit removes the limit while pack builds its file list, whose
// size is not known until it is built, and makes the collector keep the
// heap within half as much again as the live list instead of twice: at
// 148,890 files the heap reached 48 MB with 25 MB live, pages that pack's
// buffers, made next, could not all reuse (61 MiB of anonymous memory
// at their start, 57 once packing). The walk makes some 500 bytes of
// garbage a file, so the collector runs about twice as often, some 40
// times at 148,890 files, each a few milliseconds. (That was measured
// with the list in memory, as plan and pack --dry-run still hold it;
// pack keeps it on disk, and its walk holds a hash of each path and
// folder.) The limit and the pacing are set again by setPackLimit.
func liftMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(math.MaxInt64)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(planningGCPercent)
	}
}

// planningGCPercent is the collector's pacing while pack plans.
const planningGCPercent = 50

// collectOnlyAtLimit turns off proportional collection for a command whose
// heap is small and bounded whatever the bundle, so that it collects only
// if the heap reaches the memory limit: extract, which holds one frame and
// a few buffers (about 8 MB allocated in all for a 1 MiB document). In a
// process that short the collector's cycles cost more than the memory
// they give back: extract of a 1 MiB document from the 1 GiB text bundle
// collected twice, and without that it made 8 % fewer page faults (2,160
// → 1,990) and took some 6 % less time (alternated, 2 × 40 runs, medians:
// 112 → 105 ms elapsed, 118 → 108 ms of CPU). Extracting a 170 MB video,
// whose frames the range reader's pools recycle, peaked at 33–35 MiB
// instead of 32–33. A GOGC or GOMEMLIMIT given in the environment is left
// alone.
func collectOnlyAtLimit() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(-1)
	}
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		setMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
