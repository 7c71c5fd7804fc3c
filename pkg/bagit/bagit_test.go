package bagit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/dossier-evidence/dossier/pkg/internal/removeall"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// makeBag writes payload files under dir/data and completes the bag.
func makeBag(t *testing.T, payload map[string]string, info []Field, tags map[string][]byte) (string, []Entry) {
	t.Helper()
	dir := testtmp.Dir(t)
	if err := os.Mkdir(filepath.Join(dir, PayloadDir), 0o755); err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	for p, content := range payload {
		full := filepath.Join(dir, PayloadDir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, Entry{Path: p, SHA256: sha256.Sum256([]byte(content)), Size: int64(len(content))})
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	sources := make(map[string]io.WriterTo, len(tags))
	for n, data := range tags {
		sources[n] = bytes.NewReader(data)
	}
	if err := WriteTags(dir, info, entries, sources); err != nil {
		t.Fatalf("WriteTags: %v", err)
	}
	return dir, entries
}

var samplePayload = map[string]string{
	"report.pdf":        "%PDF-1.7 pretend",
	"photos/img 1.jpg":  "jpeg bytes",
	"photos/empty.txt":  "",
	"deep/a/b/c/d.txt":  "deep",
	"Ünïcødé/名前.txt":    "unicode",
	"tab\there.txt":     "tab in name",
	"leading space.txt": "x",
}

// Windows has no names with control characters, so the cases that use them
// run elsewhere only.
func init() {
	if runtime.GOOS == "windows" {
		for name := range samplePayload {
			if !possibleName(name) {
				delete(samplePayload, name)
			}
		}
	}
}

// sampleOxum is samplePayload's Payload-Oxum ("BYTES.COUNT"), with the
// two numbers moved by the deltas.
func sampleOxum(dBytes, dCount int) string {
	n := 0
	for _, content := range samplePayload {
		n += len(content)
	}
	return fmt.Sprintf("%d.%d", n+dBytes, len(samplePayload)+dCount)
}

// possibleName reports whether the system can hold a file with this name.
func possibleName(name string) bool {
	return runtime.GOOS != "windows" || !strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 })
}

var sampleInfo = []Field{
	{"Source-Organization", "Police of Example"},
	{"External-Description", "line one\nline two\n\nline four"},
	{"Bagging-Date", "2025-06-01"},
}

var sampleTags = map[string][]byte{
	"dossier-manifest.json": []byte(`{"x":1}` + "\n"),
	"dossier-manifest.sig":  []byte("sig\n"),
}

// readNoList reads the bag at dir with EachPayload, and returns the
// entries given, sorted by path as Read's Payload is.
func readNoList(dir string) (*Bag, []Entry, error) {
	var got []Entry
	bag, err := ReadWith(context.Background(), dir, ReadOptions{EachPayload: func(e Entry) error {
		got = append(got, e)
		return nil
	}})
	slices.SortFunc(got, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	if bag != nil && bag.Payload != nil {
		return nil, nil, fmt.Errorf("EachPayload set, but Payload holds %d entries", len(bag.Payload))
	}
	return bag, got, err
}

func sampleBag(t *testing.T) string {
	dir, _ := makeBag(t, samplePayload, sampleInfo, sampleTags)
	return dir
}

func TestRoundTrip(t *testing.T) {
	dir, entries := makeBag(t, samplePayload, sampleInfo, sampleTags)
	bag, err := Read(dir)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !reflect.DeepEqual(bag.Payload, entries) {
		t.Fatalf("payload =\n%+v\nwant\n%+v", bag.Payload, entries)
	}
	wantInfo := append(slices.Clone(sampleInfo), Field{"Payload-Oxum", sampleOxum(0, 0)})
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	if wantInfo[len(wantInfo)-1].Value != fmt.Sprintf("%d.%d", total, len(entries)) {
		t.Fatalf("test's expected Oxum is wrong: total %d", total)
	}
	if !reflect.DeepEqual(bag.Info, wantInfo) {
		t.Fatalf("info =\n%q\nwant\n%q", bag.Info, wantInfo)
	}
	if got := bag.InfoValue("payload-oxum"); got != sampleOxum(0, 0) {
		t.Fatalf("InfoValue(payload-oxum) = %q", got)
	}
	if got := bag.InfoValue("Missing"); got != "" {
		t.Fatalf("InfoValue(Missing) = %q", got)
	}
	if !reflect.DeepEqual(bag.Tags, sampleTags) {
		t.Fatalf("tags = %q", bag.Tags)
	}
	// Read without holding the list, the same bag, the same entries.
	noList, given, err := readNoList(dir)
	if err != nil || !reflect.DeepEqual(given, entries) || !reflect.DeepEqual(noList.Info, bag.Info) || !reflect.DeepEqual(noList.Tags, bag.Tags) {
		t.Fatalf("read with EachPayload: %v; entries\n%+v\nwant\n%+v", err, given, entries)
	}
	// Files are written 0600 and the manifests look as documented. (On
	// Windows the folder's access list decides; dossier opens into an
	// owner-only folder, which bundle's tests check.)
	for _, n := range []string{DeclarationName, InfoName, ManifestName, TagManifestName, "dossier-manifest.json"} {
		if runtime.GOOS != "windows" {
			testtmp.WantPerm(t, filepath.Join(dir, n), 0o600)
		}
	}
	decl, _ := os.ReadFile(filepath.Join(dir, DeclarationName))
	if string(decl) != "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n" {
		t.Errorf("bagit.txt = %q", decl)
	}
	man, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	sum := sha256.Sum256([]byte("deep"))
	if !bytes.Contains(man, []byte(hex.EncodeToString(sum[:])+"  data/deep/a/b/c/d.txt\n")) {
		t.Errorf("manifest line missing:\n%s", man)
	}
	tm, _ := os.ReadFile(filepath.Join(dir, TagManifestName))
	for _, n := range []string{DeclarationName, InfoName, ManifestName, "dossier-manifest.json", "dossier-manifest.sig"} {
		if !bytes.Contains(tm, []byte("  "+n+"\n")) {
			t.Errorf("tag manifest does not list %s:\n%s", n, tm)
		}
	}
	if bytes.Contains(tm, []byte(TagManifestName)) {
		t.Error("tag manifest lists itself")
	}
	info, _ := os.ReadFile(filepath.Join(dir, InfoName))
	if !bytes.Contains(info, []byte("External-Description: line one\n  line two\n  \n  line four\n")) {
		t.Errorf("continuation lines not indented:\n%s", info)
	}
}

// A bag without its payload folder is invalid even when it lists nothing.
func TestEmptyBagWithoutData(t *testing.T) {
	dir, _ := makeBag(t, nil, nil, nil)
	if err := os.Remove(filepath.Join(dir, PayloadDir)); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

func TestEmptyBag(t *testing.T) {
	dir, _ := makeBag(t, nil, nil, nil)
	bag, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(bag.Payload) != 0 || len(bag.Tags) != 0 {
		t.Fatalf("bag = %+v", bag)
	}
	if bag.InfoValue("Payload-Oxum") != "0.0" {
		t.Fatalf("Payload-Oxum = %q", bag.InfoValue("Payload-Oxum"))
	}
}

func TestPercentEncoding(t *testing.T) {
	payload := map[string]string{
		"100%.txt":      "a",
		"%25 literal":   "b",
		"a%0Ab":         "c",
		"new\nline.txt": "d",
		"cr\rname":      "e",
	}
	for name := range payload {
		if !possibleName(name) {
			delete(payload, name)
		}
	}
	dir, entries := makeBag(t, payload, nil, nil)
	man, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	wants := []string{"  data/100%25.txt\n", "  data/%2525 literal\n", "  data/a%250Ab\n", "  data/new%0Aline.txt\n", "  data/cr%0Dname\n"}
	if runtime.GOOS == "windows" {
		wants = wants[:3]
	}
	for _, want := range wants {
		if !bytes.Contains(man, []byte(want)) {
			t.Errorf("manifest lacks %q:\n%s", want, man)
		}
	}
	bag, err := Read(dir)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !reflect.DeepEqual(bag.Payload, entries) {
		t.Fatalf("payload = %+v", bag.Payload)
	}
}

func TestEncodeDecodePath(t *testing.T) {
	for _, p := range []string{"", "a", "%", "%%", "%25", "a\nb\r", "100%", "ü%é", "\r\n%0D"} {
		enc := encodePath(p)
		if strings.ContainsAny(enc, "\r\n") {
			t.Errorf("encodePath(%q) = %q keeps a line break", p, enc)
		}
		dec, err := decodePath(enc)
		if err != nil || dec != p {
			t.Errorf("decodePath(encodePath(%q)) = %q, %v", p, dec, err)
		}
	}
	for in, want := range map[string]string{"%2F": "/", "%2f": "/", "a%20b": "a b", "%41": "A"} {
		if got, err := decodePath(in); err != nil || got != want {
			t.Errorf("decodePath(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"%", "%2", "a%", "%GG", "%+1", "%-1", "% 1", "%0x", "x%4"} {
		if _, err := decodePath(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("decodePath(%q): err = %v", bad, err)
		}
	}
}

// writeFile overwrites (or creates) dir/name.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// resealTags rewrites the tag manifest over the current tag files, so
// that a test reaches the checks behind it.
func resealTags(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		if e.Name() == PayloadDir || e.Name() == TagManifestName || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%x  %s\n", sum, e.Name())
	}
	writeFile(t, dir, TagManifestName, b.String())
}

// editManifest applies f to the payload manifest's text and reseals.
func editManifest(t *testing.T, dir string, f func(string) string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, ManifestName, f(string(b)))
	resealTags(t, dir)
}

func addLine(t *testing.T, dir, line string) {
	editManifest(t, dir, func(s string) string { return s + line + "\n" })
}

func sumHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestReadDetects(t *testing.T) {
	tests := []struct {
		name     string
		breakBag func(t *testing.T, dir string)
		msg      string
	}{
		{"payload altered same size", func(t *testing.T, dir string) {
			writeFile(t, dir, "data/report.pdf", "%PDF-1.7 pretenD")
		}, "altered"},
		{"payload truncated", func(t *testing.T, dir string) { writeFile(t, dir, "data/report.pdf", "") }, "altered"},
		{"payload grown", func(t *testing.T, dir string) { writeFile(t, dir, "data/photos/empty.txt", "x") }, "altered"},
		{"extra file in data", func(t *testing.T, dir string) { writeFile(t, dir, "data/extra.txt", "x") }, "not listed"},
		{"extra file in sub folder", func(t *testing.T, dir string) { writeFile(t, dir, "data/photos/extra.jpg", "") }, "not listed"},
		{"extra hidden file", func(t *testing.T, dir string) { writeFile(t, dir, "data/.DS_Store", "") }, "not listed"},
		{"missing payload file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "data", "photos", "img 1.jpg"))
		}, "missing"},
		{"missing payload folder", func(t *testing.T, dir string) {
			removeall.RemoveAll(filepath.Join(dir, "data", "deep"))
		}, "missing"},
		{"payload renamed", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "data", "report.pdf"), filepath.Join(dir, "data", "Report.pdf")); err != nil {
				t.Fatal(err)
			}
			if names, _ := os.ReadDir(filepath.Join(dir, "data")); !slices.ContainsFunc(names, func(e os.DirEntry) bool { return e.Name() == "Report.pdf" }) {
				t.Skip("the system ignored a rename that changes only case (Wine does)")
			}
		}, "not listed"},
		{"symlink in data", func(t *testing.T, dir string) {
			testtmp.Symlink(t, "report.pdf", filepath.Join(dir, "data", "link"))
		}, "not a regular file"},
		{"listed file replaced by symlink", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "data", "report.pdf")
			elsewhere := filepath.Join(testtmp.Dir(t), "elsewhere")
			os.Rename(p, elsewhere)
			testtmp.Symlink(t, elsewhere, p)
		}, "not a regular file"},
		{"listed folder replaced by symlink", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "data", "photos")
			os.Rename(p, filepath.Join(testtmp.Dir(t), "photos"))
			testtmp.Symlink(t, testtmp.Dir(t), p)
		}, "photos"},
		{"fifo in data", func(t *testing.T, dir string) {
			if _, err := exec.LookPath("mkfifo"); err != nil {
				t.Skip("no mkfifo")
			}
			if err := exec.Command("mkfifo", filepath.Join(dir, "data", "fifo")).Run(); err != nil {
				t.Skip(err)
			}
		}, "not a regular file"},
		{"data is a symlink", func(t *testing.T, dir string) {
			other := testtmp.Dir(t)
			os.Rename(filepath.Join(dir, "data"), filepath.Join(other, "data"))
			testtmp.Symlink(t, filepath.Join(other, "data"), filepath.Join(dir, "data"))
		}, "data is not a folder"},
		{"data missing", func(t *testing.T, dir string) {
			removeall.RemoveAll(filepath.Join(dir, "data"))
		}, "data"},
		{"data is a file", func(t *testing.T, dir string) {
			removeall.RemoveAll(filepath.Join(dir, "data"))
			writeFile(t, dir, "data", "")
		}, "data is not a folder"},
		{"missing bagit.txt", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, DeclarationName)) }, "bagit.txt is missing"},
		{"bagit.txt is a folder", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, DeclarationName))
			os.Mkdir(filepath.Join(dir, DeclarationName), 0o755)
		}, "not a regular file"},
		{"bagit.txt not a declaration", func(t *testing.T, dir string) {
			writeFile(t, dir, DeclarationName, "hello\n")
			resealTags(t, dir)
		}, "not a BagIt declaration"},
		{"bagit.txt without encoding", func(t *testing.T, dir string) {
			writeFile(t, dir, DeclarationName, "BagIt-Version: 1.0\n")
			resealTags(t, dir)
		}, "not a BagIt declaration"},
		{"bagit.txt altered", func(t *testing.T, dir string) {
			writeFile(t, dir, DeclarationName, "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n")
		}, "altered"},
		{"bag-info altered", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, InfoName))
			writeFile(t, dir, InfoName, strings.Replace(string(b), "Police", "Polize", 1))
		}, "bag-info.txt does not match"},
		{"extra tag file altered", func(t *testing.T, dir string) {
			writeFile(t, dir, "dossier-manifest.sig", "SIG\n")
		}, "dossier-manifest.sig does not match"},
		{"payload manifest altered", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, ManifestName))
			writeFile(t, dir, ManifestName, string(b)+"\n")
		}, "manifest-sha256.txt does not match"},
		{"listed tag file missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "dossier-manifest.sig"))
		}, "missing"},
		{"unlisted tag file", func(t *testing.T, dir string) { writeFile(t, dir, "notes.txt", "x") }, "not listed in tagmanifest"},
		{"unlisted tag folder", func(t *testing.T, dir string) { os.Mkdir(filepath.Join(dir, "extra"), 0o755) }, "not a regular file"},
		{"tag file symlink", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "dossier-manifest.sig")
			os.Rename(p, filepath.Join(dir, "data.sig"))
			testtmp.Symlink(t, "data.sig", p)
		}, "not a regular file"},
		{"missing tag manifest", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, TagManifestName)) }, "tagmanifest-sha256.txt is missing"},
		{"missing payload manifest", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ManifestName))
			resealTags(t, dir)
		}, "manifest-sha256.txt is missing"},
		{"manifest line without separator", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"data/x") }, "malformed"},
		{"manifest line hash only", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")) }, "malformed"},
		{"manifest line short hash", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")[:62]+"  data/x") }, "no SHA-256"},
		{"manifest line md5", func(t *testing.T, dir string) { addLine(t, dir, "d41d8cd98f00b204e9800998ecf8427e  data/x") }, "no SHA-256"},
		{"manifest line non-hex", func(t *testing.T, dir string) { addLine(t, dir, strings.Repeat("z", 64)+"  data/x") }, "no SHA-256"},
		{"manifest path traversal", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  ../x") }, "unsafe path"},
		{"manifest path traversal inside", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  data/../../x") }, "unsafe path"},
		{"manifest path dot dot", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  ..") }, "unsafe path"},
		{"manifest path encoded traversal", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  data%2F..%2F..%2Fx") }, "unsafe path"},
		{"manifest path absolute", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  /etc/passwd") }, "unsafe path"},
		{"manifest path not clean", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  data//x") }, "unsafe path"},
		{"manifest path dot", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  data/./x") }, "unsafe path"},
		{"manifest path trailing slash", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  data/x/") }, "unsafe path"},
		{"manifest path backslash", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+`  data\x`) }, "unsafe path"},
		{"manifest bad percent", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  data/%4") }, "percent"},
		{"manifest duplicate line", func(t *testing.T, dir string) {
			editManifest(t, dir, func(s string) string { return s + strings.SplitAfter(s, "\n")[0] })
		}, "twice"},
		// Each file listed is there and matches, and as many files
		// are there as listed, but not the same ones: only the walk's
		// names show it to a read that holds no list.
		{"one file listed twice, another not at all", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, InfoName)) // its Payload-Oxum would show the count
			writeFile(t, dir, "data/extra.txt", "%PDF-1.7 pretend")
			editManifest(t, dir, func(s string) string {
				for _, l := range strings.SplitAfter(s, "\n") {
					if strings.HasSuffix(l, "  data/report.pdf\n") {
						return s + l
					}
				}
				t.Fatal("test premise: no line for data/report.pdf")
				return s
			})
		}, "twice"},
		{"listed name differs from the one on disk only in case", func(t *testing.T, dir string) {
			if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
				t.Skip("one name on this system")
			}
			writeFile(t, dir, "data/REPORT.pdf", "%PDF-1.7 pretend")
			editManifest(t, dir, func(s string) string {
				return strings.Replace(s, "  data/report.pdf\n", "  data/REPORT.pdf\n", 1) + sumHex("%PDF-1.7 pretend") + "  data/REPORT.pdf\n"
			})
		}, "twice"},
		{"a folder listed as a file", func(t *testing.T, dir string) { addLine(t, dir, sumHex("")+"  data/photos") }, "missing"},
		{"a path listed through a file", func(t *testing.T, dir string) { addLine(t, dir, sumHex("")+"  data/report.pdf/x") }, "missing"},
		{"a name too long for the system", func(t *testing.T, dir string) {
			addLine(t, dir, sumHex("")+"  data/"+strings.Repeat("n", 300))
		}, "missing"},
		// Where names differ only in case, a system that ignores case
		// opens the file on disk under the name listed: only the
		// names the walk found show the line is not that file's.
		{"a name listed in another case", func(t *testing.T, dir string) {
			editManifest(t, dir, func(s string) string {
				return strings.Replace(s, "  data/report.pdf\n", "  data/Report.pdf\n", 1)
			})
		}, "not listed"},
		{"manifest duplicate path other hash", func(t *testing.T, dir string) {
			editManifest(t, dir, func(s string) string {
				first := strings.SplitAfter(s, "\n")[0]
				return s + sumHex("other") + first[64:]
			})
		}, "twice"},
		{"manifest duplicate path upper case hash", func(t *testing.T, dir string) {
			editManifest(t, dir, func(s string) string {
				first := strings.SplitAfter(s, "\n")[0]
				return s + strings.ToUpper(first[:64]) + first[64:]
			})
		}, "twice"},
		{"manifest lists missing file", func(t *testing.T, dir string) { addLine(t, dir, sumHex("x")+"  data/ghost") }, "missing"},
		{"manifest lists file outside data", func(t *testing.T, dir string) {
			addLine(t, dir, sumHex("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")+"  "+DeclarationName)
		}, "missing"},
		{"manifest line removed", func(t *testing.T, dir string) {
			editManifest(t, dir, func(s string) string { _, rest, _ := strings.Cut(s, "\n"); return rest })
		}, "not listed"},
		{"manifest hash swapped", func(t *testing.T, dir string) {
			editManifest(t, dir, func(s string) string {
				lines := strings.Split(s, "\n")
				lines[0], lines[1] = lines[1][:64]+lines[0][64:], lines[0][:64]+lines[1][64:]
				return strings.Join(lines, "\n")
			})
		}, "altered"},
		{"payload and manifests forged, size differs", func(t *testing.T, dir string) {
			writeFile(t, dir, "data/report.pdf", "forged")
			editManifest(t, dir, func(s string) string {
				return strings.Replace(s, sumHex("%PDF-1.7 pretend"), sumHex("forged"), 1)
			})
		}, "Payload-Oxum"},
		{"oxum wrong count", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, InfoName))
			writeFile(t, dir, InfoName, strings.Replace(string(b), "Payload-Oxum: "+sampleOxum(0, 0), "Payload-Oxum: "+sampleOxum(0, -1), 1))
			resealTags(t, dir)
		}, "Payload-Oxum"},
		{"oxum wrong bytes", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, InfoName))
			writeFile(t, dir, InfoName, strings.Replace(string(b), "Payload-Oxum: "+sampleOxum(0, 0), "Payload-Oxum: "+sampleOxum(1, 0), 1))
			resealTags(t, dir)
		}, "Payload-Oxum"},
		{"bag-info line without colon", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, InfoName))
			writeFile(t, dir, InfoName, string(b)+"no colon here\n")
			resealTags(t, dir)
		}, "Label: value"},
		{"tag manifest path traversal", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, TagManifestName))
			writeFile(t, dir, TagManifestName, string(b)+sumHex("x")+"  ../x\n")
		}, "unsafe path"},
		{"tag manifest duplicate", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, TagManifestName))
			writeFile(t, dir, TagManifestName, string(b)+strings.SplitAfter(string(b), "\n")[0])
		}, "twice"},
		{"tag manifest lists payload", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, TagManifestName))
			writeFile(t, dir, TagManifestName, string(b)+sumHex("deep")+"  data/deep/a/b/c/d.txt\n")
		}, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := sampleBag(t)
			if _, err := Read(dir); err != nil {
				t.Fatalf("fresh bag: %v", err)
			}
			if _, _, err := readNoList(dir); err != nil {
				t.Fatalf("fresh bag, read with EachPayload: %v", err)
			}
			tt.breakBag(t, dir)
			// Read without holding the list, it is refused too, if
			// not always in the same words.
			if _, _, err := readNoList(dir); !errors.Is(err, ErrInvalid) {
				t.Errorf("read with EachPayload: %v, want ErrInvalid", err)
			}
			bag, err := Read(dir)
			if err == nil {
				t.Fatalf("Read succeeded: %+v", bag)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

// Manifests written by other tools are read: CRLF line ends, upper-case
// hashes, blank lines, a single space or a tab as separator, and a bag
// without bag-info.txt.
func TestReadTolerant(t *testing.T) {
	dir := sampleBag(t)
	editManifest(t, dir, func(s string) string {
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		for i, l := range lines {
			switch i % 3 {
			case 0:
				lines[i] = strings.ToUpper(l[:64]) + " " + l[66:]
			case 1:
				lines[i] = l[:64] + "\t" + l[66:]
			}
		}
		return "\n" + strings.Join(lines, "\r\n") + "\r\n\n"
	})
	if _, err := Read(dir); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if _, _, err := readNoList(dir); err != nil {
		t.Fatalf("read with EachPayload: %v", err)
	}
	os.Remove(filepath.Join(dir, InfoName))
	resealTags(t, dir)
	bag, err := Read(dir)
	if err != nil {
		t.Fatalf("Read without bag-info: %v", err)
	}
	if len(bag.Info) != 0 || len(bag.Payload) != len(samplePayload) {
		t.Fatalf("bag = %+v", bag)
	}
}

func TestParseInfo(t *testing.T) {
	in := "A: 1\r\nB:two words \n  continued\n\tmore\n\nC:\nA: second\n"
	got, err := parseInfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{"A", "1"}, {"B", "two words\ncontinued\nmore"}, {"C", ""}, {"A", "second"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseInfo = %q, want %q", got, want)
	}
	b := &Bag{Info: got}
	if b.InfoValue("a") != "1" {
		t.Fatal("InfoValue does not return the first value")
	}
	for _, bad := range []string{"no colon\n", "A: 1\nno colon\n"} {
		if _, err := parseInfo([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("parseInfo(%q): err = %v", bad, err)
		}
	}
	// encodeInfo and parseInfo round trip, CR and CRLF becoming LF.
	fields := []Field{{"X", "a\r\nb\rc\nd"}, {"Y", "plain"}}
	got, err = parseInfo(encodeInfo(fields))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Field{{"X", "a\nb\nc\nd"}, {"Y", "plain"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip = %q", got)
	}
}

func TestWriteTagsRefuses(t *testing.T) {
	for _, name := range []string{DeclarationName, InfoName, ManifestName, TagManifestName, "manifest-md5.txt", "tagmanifest-sha512.txt", "sub/file", "../escape"} {
		dir := testtmp.Dir(t)
		os.Mkdir(filepath.Join(dir, PayloadDir), 0o755)
		err := WriteTags(dir, nil, nil, map[string]io.WriterTo{name: strings.NewReader("x")})
		if err == nil {
			t.Errorf("tag name %q accepted", name)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("tag name %q: WriteTags wrote files before refusing", name)
		}
	}
	// Existing files are never overwritten.
	dir := sampleBag(t)
	before, _ := os.ReadFile(filepath.Join(dir, InfoName))
	if err := WriteTags(dir, []Field{{"X", "y"}}, nil, nil); err == nil {
		t.Fatal("WriteTags over an existing bag succeeded")
	}
	if after, _ := os.ReadFile(filepath.Join(dir, InfoName)); !bytes.Equal(before, after) {
		t.Fatal("bag-info.txt overwritten")
	}
	if err := WriteTags(filepath.Join(testtmp.Dir(t), "missing"), nil, nil, nil); err == nil {
		t.Fatal("WriteTags into a missing folder succeeded")
	}
}

// WriteTags trusts the entries it is given; Read then finds the lie.
func TestWriteTagsWrongEntries(t *testing.T) {
	dir := testtmp.Dir(t)
	os.Mkdir(filepath.Join(dir, PayloadDir), 0o755)
	writeFile(t, dir, "data/a", "real")
	err := WriteTags(dir, nil, []Entry{{Path: "a", SHA256: sha256.Sum256([]byte("claimed")), Size: 4}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

func TestSha256sumCompatible(t *testing.T) {
	tool, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum not installed")
	}
	payload := map[string]string{}
	for p, c := range samplePayload {
		if !strings.Contains(p, "\t") { // GNU sha256sum escapes such names
			payload[p] = c
		}
	}
	dir, _ := makeBag(t, payload, sampleInfo, sampleTags)
	for _, m := range []string{ManifestName, TagManifestName} {
		cmd := exec.Command(tool, "-c", "--strict", "--quiet", m)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c %s: %v\n%s", m, err, out)
		}
	}
	// And it notices a change, so the check above means something.
	writeFile(t, dir, "data/report.pdf", "changed")
	cmd := exec.Command(tool, "-c", "--quiet", ManifestName)
	cmd.Dir = dir
	if err := cmd.Run(); err == nil {
		t.Fatal("sha256sum -c accepted an altered file")
	}
}

// The payload manifest, written as it is hashed, is one line per entry
// in order, and the tag manifest holds its hash.
func TestPayloadManifestBytes(t *testing.T) {
	dir := testtmp.Dir(t)
	a, b := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	payload := []Entry{{Path: "z/100%.txt", Size: 1, SHA256: a}, {Path: "a.txt", Size: 1, SHA256: b}}
	if err := WriteTags(dir, nil, payload, nil); err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(a[:]) + "  data/z/100%25.txt\n" + hex.EncodeToString(b[:]) + "  data/a.txt\n"
	man, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil || string(man) != want {
		t.Fatalf("%s = %q, %v; want %q", ManifestName, man, err, want)
	}
	sum := sha256.Sum256(man)
	tm, _ := os.ReadFile(filepath.Join(dir, TagManifestName))
	if !bytes.Contains(tm, []byte(hex.EncodeToString(sum[:])+"  "+ManifestName+"\n")) {
		t.Fatalf("tag manifest does not hold the payload manifest's hash:\n%s", tm)
	}
}

// A folder in data/ holding no file is valid BagIt (the payload manifest
// cannot list it), so Read accepts it and reports it for callers that
// require the payload to be exactly the listed files.
func TestReadReportsEmptyFolders(t *testing.T) {
	dir, _ := makeBag(t, map[string]string{"a/b/c.txt": "c", "d.txt": "d"}, nil, nil)
	bag, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(bag.EmptyFolders) != 0 {
		t.Fatalf("EmptyFolders of a bag as written = %q, want none", bag.EmptyFolders)
	}
	for _, f := range []string{"a/empty", "x/y/z"} {
		if err := os.MkdirAll(filepath.Join(dir, PayloadDir, filepath.FromSlash(f)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bag, err = Read(dir)
	if err != nil {
		t.Fatalf("Read with empty folders: %v", err)
	}
	want := []string{"data/a/empty", "data/x", "data/x/y", "data/x/y/z"}
	if !slices.Equal(bag.EmptyFolders, want) {
		t.Fatalf("EmptyFolders = %q, want %q", bag.EmptyFolders, want)
	}
	if bag, _, err := readNoList(dir); err != nil || !slices.Equal(bag.EmptyFolders, want) {
		t.Fatalf("read with EachPayload: %v, EmptyFolders %q", err, bag.EmptyFolders)
	}
}

// A payload path as long as open writes (4096 bytes below data/) is read
// under a folder whose own path makes the whole longer than the system
// takes at once (found by an audit: verify of such an opened folder
// failed with 'open …: file name too long').
func TestReadLongPaths(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("long paths on Windows are tested through the bundle's open")
	}
	dir := filepath.Join(testtmp.Dir(t), strings.Repeat("d", 200))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for range 16 {
		parts = append(parts, strings.Repeat("p", 250))
	}
	rel := strings.Join(parts, "/") + "/f.txt" // 4021 bytes
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := root.MkdirAll(filepath.FromSlash(PayloadDir+"/"+filepath.Dir(rel)), 0o700); err != nil {
		t.Fatal(err)
	}
	content := []byte("evidence\n")
	if err := root.WriteFile(filepath.FromSlash(PayloadDir+"/"+rel), content, 0o600); err != nil {
		t.Fatal(err)
	}
	if len(dir)+len(rel) < 4200 {
		t.Fatalf("the path is only %d bytes long", len(dir)+len(rel))
	}
	entries := []Entry{{Path: rel, SHA256: sha256.Sum256(content), Size: int64(len(content))}}
	if err := WriteTags(dir, nil, entries, nil); err != nil {
		t.Fatal(err)
	}
	bag, err := Read(dir)
	if err != nil {
		t.Fatalf("Read of a bag with a %d-byte path: %v", len(dir)+len(rel), err)
	}
	if len(bag.Payload) != 1 || bag.Payload[0].Path != rel {
		t.Fatalf("payload %+v", bag.Payload)
	}
	if _, given, err := readNoList(dir); err != nil || len(given) != 1 || given[0].Path != rel {
		t.Fatalf("read with EachPayload: %v, %+v", err, given)
	}
}

// A folder whose name is not valid UTF-8 is read as any other (found by
// review: a walk through fs.FS refused it with an I/O error, where an
// empty folder added to an opened bag is an altered bag).
func TestReadFolderNameNotUTF8(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("the file system takes only valid names")
	}
	dir, _ := makeBag(t, map[string]string{"docs/a.txt": "a"}, nil, nil)
	if err := os.Mkdir(filepath.Join(dir, PayloadDir, "docs", "x\xff"), 0o700); err != nil {
		t.Fatal(err)
	}
	bag, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bag.EmptyFolders, []string{"data/docs/x\xff"}) {
		t.Fatalf("empty folders %q", bag.EmptyFolders)
	}
	if bag, _, err := readNoList(dir); err != nil || !slices.Equal(bag.EmptyFolders, []string{"data/docs/x\xff"}) {
		t.Fatalf("read with EachPayload: %v", err)
	}
}

// A tag file the caller wrote already (Written) is listed in the tag
// manifest with the SHA-256 given and not written again: the bag then
// reads back whole; given a wrong SHA-256, it does not.
func TestWriteTagsWritten(t *testing.T) {
	for _, right := range []bool{true, false} {
		dir := testtmp.Dir(t)
		if err := os.Mkdir(filepath.Join(dir, PayloadDir), 0o755); err != nil {
			t.Fatal(err)
		}
		kept := []byte("a large tag file, written as it came\n")
		if err := os.WriteFile(filepath.Join(dir, "kept.json"), kept, 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(kept)
		if !right {
			sum[0] ^= 1
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		err = WriteTagsIn(root, nil, slices.Values([]Entry(nil)), map[string]io.WriterTo{"kept.json": Written{SHA256: sum}})
		root.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "kept.json")); !bytes.Equal(got, kept) {
			t.Fatalf("kept.json was written again: %q", got)
		}
		if _, err := Read(dir); (err == nil) != right {
			t.Fatalf("SHA-256 right %v: Read = %v", right, err)
		}
	}
}

// A payload manifest that lists one file many times is refused by a read
// holding no list before it hashes more than the folder holds (found by
// review: it hashed every line, 1.6 GB for an 8 MiB file listed 201
// times, and the sums showed it only at the end).
func TestReadNoListHashesNoMoreThanTheFolder(t *testing.T) {
	big := strings.Repeat("b", 2<<20)
	for name, edit := range map[string]func(string) string{
		"listed again and again": func(s string) string {
			return s + strings.Repeat(sumHex(big)+"  data/big.bin\n", 50)
		},
		"listed instead of another": func(s string) string {
			return strings.Replace(s, "  data/report.pdf\n", "  data/big.bin\n", 1)
		},
	} {
		payload := maps.Clone(samplePayload)
		payload["big.bin"] = big
		dir, _ := makeBag(t, payload, nil, nil) // no Payload-Oxum to give the count away
		editManifest(t, dir, edit)
		var hashed int64
		_, err := ReadWith(context.Background(), dir, ReadOptions{
			EachPayload: func(Entry) error { return nil },
			Progress:    func(done, _ int64) { hashed = max(hashed, done) },
		})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "lists more") || hashed > int64(len(big))+1<<20 {
			t.Errorf("%s: %v, after hashing %d bytes", name, err, hashed)
		}
	}
}
