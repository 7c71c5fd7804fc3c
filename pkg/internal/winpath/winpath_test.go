package winpath

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLong(t *testing.T) {
	short := filepath.Join("a", "b.txt")
	if got := Long(short); got != short {
		t.Errorf("Long(%q) = %q, want it unchanged", short, got)
	}
	if got := Long(`\\?\C:\x`); got != `\\?\C:\x` {
		t.Errorf("an already long form changed: %q", got)
	}
	if runtime.GOOS != "windows" {
		return // the \\?\ form means something on Windows only
	}
	long := `C:\` + strings.Repeat("d", 250) + `\file.txt`
	if got := Long(long); got != `\\?\`+long {
		t.Errorf("Long(C:\\ddd…) = %q", got)
	}
	unc := `\\server\share\` + strings.Repeat("d", 250)
	if got := Long(unc); got != `\\?\UNC\server\share\`+strings.Repeat("d", 250) {
		t.Errorf("Long(UNC) = %q", got)
	}
}
