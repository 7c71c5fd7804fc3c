package main

import "testing"

// The memory limit follows the fixed buffers for few files and the file
// list for many, and never falls as the count grows.
func TestMemoryLimitFor(t *testing.T) {
	for _, tt := range []struct {
		files int
		want  int64
	}{
		{0, memoryLimit},
		{18_600, memoryLimit + 18_600*perFileMemory},       // the mixed corpus: 46.8 MiB
		{44_500, memoryLimit + 44_500*perFileMemory},       // the text corpus: 56.3 MiB
		{100_000, manyFilesBase + 100_000*manyFilesMemory}, // 85.4 MiB
	} {
		if got := memoryLimitFor(tt.files); got != tt.want {
			t.Errorf("memoryLimitFor(%d) = %d, want %d", tt.files, got, tt.want)
		}
	}
	for n, last := 0, int64(0); n <= 1_000_000; n += 1000 {
		got := memoryLimitFor(n)
		if got < last {
			t.Fatalf("memoryLimitFor(%d) = %d falls below %d", n, got, last)
		}
		last = got
	}
}
