package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

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

// Reading a format-2 bundle gets its file list plus room for the garbage
// a bundle of that size makes, at most 24 MiB, and less (down to 10 MiB)
// where that would pass readCeiling, if that is below memoryLimitFor; a
// format-1 bundle, whose manifest is held whole at the end, keeps
// memoryLimitFor.
func TestReadLimitFor(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct {
		name                 string
		version, n, preamble int
		total                int64
		lower                bool
	}{
		{"100,000 small files", 2, 100_000, 11_278_694, 159_000_000, true},
		{"same in format 1", 1, 100_000, 11_278_694, 159_000_000, false},
		{"preamble size unknown", 2, 100_000, 0, 159_000_000, false},
		{"1 GiB mixed", 2, 18_600, 2_400_000, 1_093_000_000, true},
		{"1 GiB text", 2, 44_500, 5_800_000, 1_054_000_000, true},
		{"8 GiB mixed", 2, 148_890, 22_000_000, 8_600_000_000, true},
		{"8 GiB mixed in format 1", 1, 148_890, 22_000_000, 8_600_000_000, false},
	} {
		got, base := readLimitFor(tt.version, tt.n, tt.preamble, tt.total), memoryLimitFor(tt.n)
		if got > base || (got < base) != tt.lower {
			t.Errorf("%s: readLimitFor = %.1f MiB, memoryLimitFor %.1f MiB", tt.name, float64(got)/mib, float64(base)/mib)
		}
		if live := int64(readFixedMemory + tt.preamble); tt.lower && got < live+readMinRoom {
			t.Errorf("%s: %.1f MiB leaves less than %d MiB above the list", tt.name, float64(got)/mib, readMinRoom/mib)
		}
	}
	// 100,000 files: 20 MiB + the preamble + 12 MiB.
	if got := readLimitFor(2, 100_000, 11_278_694, 159_000_000); got != 20*mib+11_278_694+12*mib {
		t.Errorf("100,000 files: %d", got)
	}
	// 1 GiB of text: the room is at most 24 MiB.
	if got := readLimitFor(2, 44_500, 5_800_000, 1_054_000_000); got != 20*mib+5_800_000+24*mib {
		t.Errorf("1 GiB of text: %d", got)
	}
	// 8 GiB: the room shrinks to keep the limit at the ceiling.
	if got := readLimitFor(2, 148_890, 22_000_000, 8_600_000_000); got != readCeiling {
		t.Errorf("8 GiB: %d, want %d", got, readCeiling)
	}
	// A longer list keeps 10 MiB of room, above the ceiling.
	if got := readLimitFor(2, 300_000, 45_000_000, 20_000_000_000); got != 20*mib+45_000_000+10*mib {
		t.Errorf("300,000 files: %d", got)
	}
}

// Reading a format-3 bundle, which holds no list, gets 20 MiB, 24 bytes
// a file and room for garbage of at most 16 MiB, whatever its preamble's
// size: less than format 2 gets for the same files.
func TestReadLimitForFormatThree(t *testing.T) {
	const mib = 1 << 20
	if got := readLimitFor(3, 148_890, 22_000_000, 8_600_000_000); got != 20*mib+148_890*24+16*mib {
		t.Errorf("8 GiB: %.1f MiB", float64(got)/mib)
	}
	if got := readLimitFor(3, 100_000, 0, 159_000_000); got != 20*mib+100_000*24+12*mib {
		t.Errorf("100,000 files: %.1f MiB", float64(got)/mib)
	}
	if got := readLimitFor(3, 1_000_000, 150_000_000, 1<<40); got != 20*mib+1_000_000*24+16*mib {
		t.Errorf("a million files: %.1f MiB", float64(got)/mib)
	}
	for _, n := range []int{0, 18_600, 100_000, 148_890} {
		if v3, v2 := readLimitFor(3, n, n*150, 8_600_000_000), readLimitFor(2, n, n*150, 8_600_000_000); v3 >= v2 && n > 0 {
			t.Errorf("%d files: %.1f MiB in format 3, %.1f MiB in format 2", n, float64(v3)/mib, float64(v2)/mib)
		}
	}
}

// pack's limit does not follow the number of files (its plan is on
// disk): memoryLimit, or what planning left live and 32 MiB if more.
func TestPackLimitFor(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct{ planLive, want int64 }{
		{0, memoryLimit},
		{2_000_000, memoryLimit},
		{8 * mib, memoryLimit},
		{30_000_000, 30_000_000 + 32*mib},
	} {
		if got := packLimitFor(tt.planLive); got != tt.want {
			t.Errorf("packLimitFor(%d) = %.1f MiB, want %.1f", tt.planLive, float64(got)/mib, float64(tt.want)/mib)
		}
	}
}

// extract collects only at the memory limit, unless the environment sets
// the collector's pacing or limit, which is then left as it is.
func TestCollectOnlyAtLimit(t *testing.T) {
	restore := debug.SetGCPercent(100)
	defer debug.SetGCPercent(restore)
	for _, tt := range []struct {
		gogc, memlimit string
		want           int
	}{
		{"", "", -1},
		{"50", "", 100},
		{"", "64MiB", 100},
	} {
		t.Setenv("GOGC", tt.gogc)
		t.Setenv("GOMEMLIMIT", tt.memlimit)
		debug.SetGCPercent(100)
		collectOnlyAtLimit()
		if got := debug.SetGCPercent(100); got != tt.want {
			t.Errorf("GOGC=%q GOMEMLIMIT=%q: GC percent %d, want %d", tt.gogc, tt.memlimit, got, tt.want)
		}
	}
}

// pack plans with the collector paced at planningGCPercent and packs at
// the usual 100, unless the environment sets the pacing; the limit is
// lifted while planning unless the environment sets it.
func TestPlanningPacing(t *testing.T) {
	restoreGC := debug.SetGCPercent(100)
	defer debug.SetGCPercent(restoreGC)
	restoreLimit := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(restoreLimit)
	for _, tt := range []struct {
		gogc, memlimit    string
		planning, packing int
		lifted            bool
	}{
		{"", "", planningGCPercent, 100, true},
		{"80", "", 80, 80, true},
		{"", "64MiB", planningGCPercent, 100, false},
	} {
		t.Setenv("GOGC", tt.gogc)
		t.Setenv("GOMEMLIMIT", tt.memlimit)
		debug.SetGCPercent(80)
		debug.SetMemoryLimit(64 << 20)
		liftMemoryLimit()
		if got := debug.SetGCPercent(-1); got != tt.planning {
			t.Errorf("GOGC=%q: planning at GC percent %d, want %d", tt.gogc, got, tt.planning)
		}
		debug.SetGCPercent(tt.planning)
		if lifted := debug.SetMemoryLimit(-1) == math.MaxInt64; lifted != tt.lifted {
			t.Errorf("GOMEMLIMIT=%q: limit lifted while planning: %v, want %v", tt.memlimit, lifted, tt.lifted)
		}
		setPackLimit(0)
		if got := debug.SetGCPercent(100); got != tt.packing {
			t.Errorf("GOGC=%q: packing at GC percent %d, want %d", tt.gogc, got, tt.packing)
		}
	}
}

// The limits are for 2 cores; each core beyond gets perCoreMemory more,
// for the frame it compresses or decompresses, also while a preamble is
// parsed.
func TestLimitsMakeRoomForMoreCores(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	restore := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(restore)
	t.Setenv("GOMEMLIMIT", "")
	for _, tt := range []struct {
		procs int
		extra int64
	}{{1, 0}, {2, 0}, {4, 2 * perCoreMemory}, {8, 6 * perCoreMemory}} {
		runtime.GOMAXPROCS(tt.procs)
		setMemoryLimit(memoryLimit)
		if got := debug.SetMemoryLimit(-1); got != memoryLimit+tt.extra {
			t.Errorf("%d cores: limit %d MiB, want %d", tt.procs, got>>20, (memoryLimit+tt.extra)>>20)
		}
		const size = 20 << 20
		makeRoomForPreamble(size)
		if got, want := debug.SetMemoryLimit(-1), preambleFixedMemory+size*preambleMemoryPercent/100+tt.extra; got != want {
			t.Errorf("%d cores: limit for a preamble %d MiB, want %d", tt.procs, got>>20, want>>20)
		}
	}
}
