// Command dossier moves evidence between authorities in signed,
// zstd-compressed, age-encrypted bundles with a manifest of data categories.
package main

import (
	"os"
	"runtime/debug"
)

// memoryLimit is a soft limit for the Go heap. dossier streams the data,
// so its live heap is small (frame buffers plus the file list); without a
// limit the garbage collector lets the heap grow to twice the live data
// between collections, which doubles the peak memory for nothing.
// GOMEMLIMIT overrides it. Measured on the 1 GB benchmark corpora: the
// live heap of every command stays near 30 MiB plus its file list, and a
// limit much closer to that makes the collector run hundreds of times.
const memoryLimit = 40 << 20

// perFileMemory is what one file's entry in the plan, preamble and
// manifest costs in memory, about (measured: 600 to 800 bytes at 44,000
// files); the limit grows by it so that a bundle with very many files does
// not make the collector run without pause.
const perFileMemory = 768

// raiseMemoryLimit makes room for a file list of n entries.
func raiseMemoryLimit(n int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	want := int64(memoryLimit) + int64(n)*perFileMemory
	if want > debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(want)
	}
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
