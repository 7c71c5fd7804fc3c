// Command dossier moves evidence between authorities in signed,
// zstd-compressed, age-encrypted bundles with a manifest of data categories.
package main

import (
	"os"
	"runtime/debug"
)

// memoryLimit is a soft limit for the Go heap. dossier streams everything,
// so its live heap is small; without a limit the garbage collector lets the
// heap grow to twice the live data between collections, which doubles the
// peak memory for nothing. GOMEMLIMIT overrides it.
const memoryLimit = 56 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
