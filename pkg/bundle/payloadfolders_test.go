package bundle

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// payloadFolders makes the folders it enters, moving between them by
// the part of the path that differs, creates files only where none is,
// sets their times, and never writes through a link.
func TestPayloadFolders(t *testing.T) {
	dir := testtmp.Dir(t)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	p, err := newPayloadFolders(root)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	write := func(folder, name, content string, mtime time.Time) {
		t.Helper()
		if err := p.enter(folder); err != nil {
			t.Fatalf("enter %s: %v", folder, err)
		}
		f, err := p.create(name)
		if err != nil {
			t.Fatalf("create %s/%s: %v", folder, name, err)
		}
		if _, err := f.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.setTime(name, mtime); err != nil {
			t.Fatalf("set time of %s/%s: %v", folder, name, err)
		}
	}
	t1 := time.Date(2019, 3, 4, 5, 6, 7, 0, time.UTC)
	t2 := time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	write("data", "top.txt", "top", t1)
	write("data/a/b/c", "deep.txt", "deep", t2)
	write("data/a/b/d", "sibling.txt", "sibling", t1)
	write("data/a", "up.txt", "up", t2)
	write("data/e", "other.txt", "other", t1)
	write("data/a/b/c", "again.txt", "again", t1) // back into a folder left
	for name, want := range map[string]struct {
		content string
		mtime   time.Time
	}{
		"data/top.txt":           {"top", t1},
		"data/a/b/c/deep.txt":    {"deep", t2},
		"data/a/b/d/sibling.txt": {"sibling", t1},
		"data/a/up.txt":          {"up", t2},
		"data/e/other.txt":       {"other", t1},
		"data/a/b/c/again.txt":   {"again", t1},
	} {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || string(got) != want.content {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want.content)
			continue
		}
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !st.ModTime().Equal(want.mtime) {
			t.Errorf("%s: modified %v, %v; want %v", name, st.ModTime(), err, want.mtime)
		}
	}

	// A time past 2262 (the end of int64 nanoseconds) is not wrapped
	// around to 1901: Linux sets it as far as the file system goes,
	// elsewhere it is set to 2262.
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	write("data/a", "far.txt", "far", far)
	if st, err := os.Stat(filepath.Join(dir, "data", "a", "far.txt")); err != nil || st.ModTime().Year() < 2038 {
		t.Fatalf("a file dated %v is dated %v, %v", far, st.ModTime(), err)
	}

	// A file that exists is not written over.
	if err := p.enter("data/a"); err != nil {
		t.Fatal(err)
	}
	if f, err := p.create("up.txt"); !errors.Is(err, fs.ErrExist) {
		if f != nil {
			f.Close()
		}
		t.Fatalf("create over an existing file: %v, want it to exist", err)
	}
	// A zero time leaves the file's time as it is.
	if err := p.setTime("up.txt", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "data", "a", "up.txt")); err != nil || !st.ModTime().Equal(t2) {
		t.Fatalf("after a zero time: %v, %v; want %v", st.ModTime(), err, t2)
	}

	// A file where a folder is needed is an error, not a way around it.
	if err := os.WriteFile(filepath.Join(dir, "data", "plain"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.enter("data/plain/x"); err == nil {
		t.Fatal("entered a folder under a file")
	}

	// A name that is not one plain name is refused, though safepath
	// refuses such paths long before.
	for _, folder := range []string{"data/../escaped", "data/./x", "data//x", "data/x\x00y", "/abs"} {
		if err := p.enter(folder); err == nil {
			t.Errorf("entered %q", folder)
		}
	}
	if err := p.enter("data"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", ".", "..", "a/b", "../up", "nul\x00"} {
		if f, err := p.create(name); err == nil {
			f.Close()
			t.Errorf("created %q", name)
		}
		if err := p.setTime(name, t1); err == nil {
			t.Errorf("set the time of %q", name)
		}
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(dir), "escaped")); err == nil {
		t.Fatal("made a folder beside the root")
	}

	if runtime.GOOS == "windows" {
		return
	}
	// A link to a folder outside, on the way or at the end, is refused,
	// and nothing is written through it.
	outside := testtmp.Dir(t)
	if err := os.Symlink(outside, filepath.Join(dir, "data", "link")); err != nil {
		t.Fatal(err)
	}
	for _, folder := range []string{"data/link", "data/link/below"} {
		if err := p.enter(folder); err == nil {
			if f, err := p.create("escaped.txt"); err == nil {
				f.Close()
			}
			t.Errorf("entered %s, a link", folder)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote through a link: %v", entries)
	}
	// A link where a file is to go is not written through either.
	if err := p.enter("data"); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(outside, "target")
	if err := os.Symlink(target, filepath.Join(dir, "data", "file-link")); err != nil {
		t.Fatal(err)
	}
	if f, err := p.create("file-link"); err == nil {
		f.Close()
		t.Fatal("created a file through a link")
	}
	if err := p.setTime("file-link", t1); err == nil {
		if _, err := os.Lstat(target); err == nil {
			t.Fatal("set a time through a link")
		}
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the link's target was made: %v", err)
	}
}
