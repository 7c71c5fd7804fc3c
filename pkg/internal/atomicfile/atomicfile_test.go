package atomicfile

import (
	"errors"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreateTemp(t *testing.T) {
	strictUmask(t) // the mode must not depend on the umask
	dir := testtmp.Dir(t)
	for _, tt := range []struct {
		base string
		perm fs.FileMode
	}{
		{"secret.dossier", 0o600},
		{"card.json", 0o644},
		{"script", 0o755},
		{"weird*name[1]", 0o640},
	} {
		if runtime.GOOS == "windows" && strings.ContainsAny(tt.base, "*?") {
			continue // Windows forbids * and ? in names
		}
		final := filepath.Join(dir, tt.base)
		f, err := CreateTemp(final, tt.perm)
		if err != nil {
			t.Fatalf("%s: %v", tt.base, err)
		}
		name := f.Name()
		if _, err := f.WriteString("x"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if filepath.Dir(name) != dir {
			t.Errorf("%s: temporary %s is not beside the target", tt.base, name)
		}
		b := filepath.Base(name)
		if !strings.HasPrefix(b, "."+tt.base+TempMarker) || len(b) == len("."+tt.base+TempMarker) {
			t.Errorf("temporary name %q is not .%s%sRANDOM", b, tt.base, TempMarker)
		}
		if !IsTemp(name) {
			t.Errorf("IsTemp(%q) = false", name)
		}
		testtmp.WantPerm(t, name, tt.perm)
		if _, err := os.Lstat(final); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("CreateTemp created the final name %s", final)
		}
	}
	// Two temporaries for the same target differ.
	a, err := CreateTemp(filepath.Join(dir, "x"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	b, err := CreateTemp(filepath.Join(dir, "x"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	if a.Name() == b.Name() {
		t.Fatal("two temporaries share a name")
	}
	// A missing folder is an error.
	if _, err := CreateTemp(filepath.Join(dir, "missing", "x"), 0o600); err == nil {
		t.Fatal("CreateTemp in a missing folder succeeded")
	}
}

func TestCreateTempRelative(t *testing.T) {
	dir := testtmp.Dir(t)
	t.Chdir(dir)
	f, err := CreateTemp("rel.txt", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !IsTemp(f.Name()) {
		t.Fatalf("IsTemp(%q) = false", f.Name())
	}
	if err := Publish(f.Name(), "rel.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rel.txt")); err != nil {
		t.Fatal(err)
	}
	d, err := MkdirTemp("reldir")
	if err != nil {
		t.Fatal(err)
	}
	if !IsTemp(d) {
		t.Fatalf("IsTemp(%q) = false", d)
	}
}

func TestMkdirTemp(t *testing.T) {
	dir := testtmp.Dir(t)
	final := filepath.Join(dir, "out")
	for _, arg := range []string{final, final + "/"} {
		tmp, err := MkdirTemp(arg)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(tmp) != dir || !strings.HasPrefix(filepath.Base(tmp), ".out"+TempMarker) {
			t.Errorf("MkdirTemp(%q) = %q", arg, tmp)
		}
		st, err := os.Stat(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if !st.IsDir() {
			t.Errorf("temporary folder mode %v", st.Mode())
		}
		testtmp.WantPerm(t, tmp, 0o700)
	}
}

func TestPublishFile(t *testing.T) {
	dir := testtmp.Dir(t)
	final := filepath.Join(dir, "doc.txt")
	f, err := CreateTemp(final, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	f.Close()
	if err := Publish(f.Name(), final); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := readFile(t, final); got != "new" {
		t.Fatalf("published content %q", got)
	}
	if _, err := os.Lstat(f.Name()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("temporary still exists after Publish")
	}

	// A second file is refused, and both stay intact.
	g, err := CreateTemp(final, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	g.WriteString("other")
	g.Close()
	err = Publish(g.Name(), final)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("Publish over an existing file: err = %v, want ErrExists", err)
	}
	if !strings.Contains(err.Error(), final) {
		t.Errorf("error %q does not name the target", err)
	}
	if got := readFile(t, final); got != "new" {
		t.Fatalf("existing file changed to %q", got)
	}
	if got := readFile(t, g.Name()); got != "other" {
		t.Fatalf("temporary changed to %q", got)
	}
}

func TestPublishRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, tmp, final string) // creates tmp and final
	}{
		{"file onto file", func(t *testing.T, tmp, final string) {
			writeFile(t, tmp, "tmp")
			writeFile(t, final, "final")
		}},
		{"file onto empty folder", func(t *testing.T, tmp, final string) {
			writeFile(t, tmp, "tmp")
			os.Mkdir(final, 0o755)
		}},
		{"folder onto file", func(t *testing.T, tmp, final string) {
			os.Mkdir(tmp, 0o700)
			writeFile(t, filepath.Join(tmp, "inside"), "tmp")
			writeFile(t, final, "final")
		}},
		{"folder onto non-empty folder", func(t *testing.T, tmp, final string) {
			os.Mkdir(tmp, 0o700)
			writeFile(t, filepath.Join(tmp, "inside"), "tmp")
			os.Mkdir(final, 0o755)
			writeFile(t, filepath.Join(final, "keep"), "final")
		}},
		{"folder onto folder holding an empty folder", func(t *testing.T, tmp, final string) {
			os.Mkdir(tmp, 0o700)
			os.Mkdir(final, 0o755)
			os.Mkdir(filepath.Join(final, "sub"), 0o755)
		}},
		{"file onto symlink", func(t *testing.T, tmp, final string) {
			writeFile(t, tmp, "tmp")
			testtmp.Symlink(t, "nowhere", final)
		}},
		{"folder onto symlink to empty folder", func(t *testing.T, tmp, final string) {
			os.Mkdir(tmp, 0o700)
			target := final + "-target"
			os.Mkdir(target, 0o755)
			testtmp.Symlink(t, target, final)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testtmp.Dir(t)
			tmp, final := filepath.Join(dir, ".final"+TempMarker+"1"), filepath.Join(dir, "final")
			tt.setup(t, tmp, final)
			before := snapshot(t, dir)
			err := Publish(tmp, final)
			if !errors.Is(err, ErrExists) {
				t.Fatalf("err = %v, want ErrExists", err)
			}
			if after := snapshot(t, dir); !slices.Equal(before, after) {
				t.Fatalf("Publish changed the folder:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

// snapshot lists every path under dir with its type and content.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		entry := rel + " " + d.Type().String()
		if d.Type().IsRegular() {
			entry += " " + readFile(t, p)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			entry += " -> " + l
		}
		out = append(out, entry)
		return nil
	})
	return out
}

func TestPublishFolder(t *testing.T) {
	for _, existing := range []bool{false, true} {
		dir := testtmp.Dir(t)
		final := filepath.Join(dir, "opened")
		if existing {
			if err := os.Mkdir(final, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		tmp, err := MkdirTemp(final)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(tmp, "a.txt"), "A")
		if err := Publish(tmp, final); err != nil {
			t.Fatalf("existing empty folder %v: Publish: %v", existing, err)
		}
		if got := readFile(t, filepath.Join(final, "a.txt")); got != "A" {
			t.Fatalf("content %q", got)
		}
		if _, err := os.Lstat(tmp); !errors.Is(err, fs.ErrNotExist) {
			t.Fatal("temporary folder still exists")
		}
		if l := Leftovers(final); len(l) != 0 {
			t.Fatalf("Leftovers after Publish: %q", l)
		}
	}
}

func TestPublishMissingTemp(t *testing.T) {
	dir := testtmp.Dir(t)
	err := Publish(filepath.Join(dir, "missing"), filepath.Join(dir, "final"))
	if err == nil || errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v does not wrap fs.ErrNotExist", err)
	}
}

// The portable fallback must keep the same no-overwrite promise.
func TestRenameFallback(t *testing.T) {
	dir := testtmp.Dir(t)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, "A")
	if err := renameFallback(a, b); err != nil {
		t.Fatal(err)
	}
	if readFile(t, b) != "A" {
		t.Fatal("content lost")
	}
	if _, err := os.Lstat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("source still exists")
	}
	writeFile(t, a, "A2")
	if err := renameFallback(a, b); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("file onto file: err = %v", err)
	}
	if readFile(t, a) != "A2" || readFile(t, b) != "A" {
		t.Fatal("files changed")
	}
	d1, d2 := filepath.Join(dir, "d1"), filepath.Join(dir, "d2")
	os.Mkdir(d1, 0o700)
	if err := renameFallback(d1, d2); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(d1, 0o700)
	if err := renameFallback(d1, d2); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("folder onto folder: err = %v", err)
	}
	if err := renameFallback(d1, b); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("folder onto file: err = %v", err)
	}
	if err := renameFallback(filepath.Join(dir, "none"), filepath.Join(dir, "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing source: err = %v", err)
	}
}

func TestLeftovers(t *testing.T) {
	root := testtmp.Dir(t)
	// The folder and file names hold glob metacharacters, which must be
	// taken literally.
	for _, sub := range []string{"plain", "case[2024]", "star*q?", `back\slash`} {
		if runtime.GOOS == "windows" && strings.ContainsAny(sub, `*?\`) {
			continue // not a name on Windows
		}
		dir := filepath.Join(root, sub)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, base := range []string{"out.dossier", "a[1]*?.dossier"} {
			if runtime.GOOS == "windows" && strings.ContainsAny(base, "*?") {
				continue // not a name on Windows
			}
			final := filepath.Join(dir, base)
			if l := Leftovers(final); len(l) != 0 {
				t.Fatalf("%s/%s: Leftovers in a clean folder: %q", sub, base, l)
			}
			f, err := CreateTemp(final, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			d, err := MkdirTemp(final)
			if err != nil {
				t.Fatal(err)
			}
			// Temporaries of other targets and unrelated files are not
			// reported.
			g, err := CreateTemp(filepath.Join(dir, "other"), 0o600)
			if err != nil {
				t.Fatal(err)
			}
			g.Close()
			writeFile(t, filepath.Join(dir, base+".bak"), "x")
			writeFile(t, filepath.Join(dir, "x"+base+TempMarker+"1"), "x")

			got := Leftovers(final)
			slices.Sort(got)
			want := []string{f.Name(), d}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s/%s: Leftovers = %q, want %q", sub, base, got, want)
			}
			for _, p := range got {
				if !IsTemp(p) {
					t.Errorf("IsTemp(%q) = false", p)
				}
			}
		}
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".x" + TempMarker + "123":             true,
		"/a/b/.x" + TempMarker + "123":        true,
		".x.json" + TempMarker:                true,
		"x" + TempMarker + "123":              false, // no leading dot
		".x.dossier-tmp":                      false,
		"/a/.x" + TempMarker + "1/child":      false, // only the last element counts
		"/a" + TempMarker + "/.x":             false,
		".dossier":                            false,
		"":                                    false,
		"." + strings.ToUpper(TempMarker[1:]): false,
	} {
		if got := IsTemp(name); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSyncDir(t *testing.T) {
	dir := testtmp.Dir(t)
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("SyncDir of a missing folder succeeded")
	}
}

// MoveAside renames a file to a fresh temporary-style name that Leftovers
// reports, replaces nothing, and refuses a folder.
func TestMoveAside(t *testing.T) {
	dir := testtmp.Dir(t)
	final := filepath.Join(dir, "out.dossier")
	if err := os.WriteFile(final, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(final+".dossier-old", []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	aside, err := MoveAside(final)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(aside); err != nil || string(b) != "old" {
		t.Fatalf("%s: %q, %v", aside, b, err)
	}
	if _, err := os.Lstat(final); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s still there: %v", final, err)
	}
	if b, _ := os.ReadFile(final + ".dossier-old"); string(b) != "notes" {
		t.Fatalf("another file was touched: %q", b)
	}
	if got := Leftovers(final); len(got) != 1 || got[0] != aside {
		t.Fatalf("Leftovers = %v, want [%s]", got, aside)
	}
	folder := filepath.Join(dir, "folder")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := MoveAside(folder); !errors.Is(err, ErrExists) {
		t.Fatalf("MoveAside(folder) = %v, want ErrExists", err)
	}
}

// A folder whose sync fails after WriteFile published into it makes
// WriteFile say that the file, which exists, was written.
func TestWriteFileFolderSyncFails(t *testing.T) {
	old := syncDir
	syncDir = func(string) error { return errors.New("fsync: input/output error") }
	defer func() { syncDir = old }()
	path := filepath.Join(testtmp.Dir(t), "receipt.json")
	if err := WriteFile(path, []byte("x"), 0o644, false); err == nil || !strings.Contains(err.Error(), "was written, but its folder could not be synced") {
		t.Fatalf("WriteFile = %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "x" {
		t.Fatalf("%s: %q, %v", path, b, err)
	}
}
