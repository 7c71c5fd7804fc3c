package bundle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/identity"
)

// The frozen adversarial corpus (issue 5), made by scripts/genadversarial.
const adversarialDir = "../../testdata/adversarial"

type corpusCase struct {
	file, identity, sender, expect, comment string
	// section is the "## NAME: …" heading the case is listed under.
	section string
}

// The corpus's format-2 cases are named v2-* and listed in the section
// format2, which also holds format-1 bundles named v2-v1bundle-* that
// contrast with them.
const (
	format2Section = "format2"
	format2Prefix  = "v2-"
	v1InFormat2    = "v2-v1bundle-"
)

// The format-3 cases are named v3-*: the format-1 sections made again in
// format 3.
const format3Prefix = "v3-"

// corpusFormat is the bundle format a corpus file is in, by its name.
func corpusFormat(file string) int {
	if strings.HasPrefix(file, format3Prefix) {
		return 3
	}
	if strings.HasPrefix(file, format2Prefix) && !strings.HasPrefix(file, v1InFormat2) {
		return 2
	}
	return 1
}

func readCorpus(t testing.TB, dir string) []corpusCase {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusCase
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if h, ok := strings.CutPrefix(sc.Text(), "## "); ok {
			section, _, _ = strings.Cut(h, ":")
			continue
		}
		line, comment, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 4 {
			t.Fatalf("bad cases.txt line %q", sc.Text())
		}
		out = append(out, corpusCase{fields[0], fields[1], fields[2], fields[3], strings.TrimSpace(comment), section})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectation maps an EXPECT word to the error the reader must return
// (nil for success) and the more specific classes it must not match.
func expectation(t testing.TB, expect string) (want error, not []error) {
	switch expect {
	case "ok":
		return nil, nil
	case "integrity":
		return ErrIntegrity, []error{ErrWrongSender, ErrNotAddressed, ErrNoIdentity}
	case "wrong-sender":
		return ErrWrongSender, []error{ErrNotAddressed}
	case "not-addressed":
		return ErrNotAddressed, []error{ErrWrongSender}
	case "no-identity":
		return ErrNoIdentity, []error{ErrIntegrity}
	}
	t.Fatalf("unknown expectation %q", expect)
	return nil, nil
}

// keyring loads the frozen test keys once per test.
type keyring struct {
	t     *testing.T
	ids   map[string]*identity.Identity
	cards map[string]*card.Card
}

func newKeyring(t *testing.T) *keyring {
	return &keyring{t: t, ids: map[string]*identity.Identity{}, cards: map[string]*card.Card{}}
}

func (k *keyring) id(name string) *identity.Identity {
	if k.ids[name] == nil {
		k.ids[name] = vectorIdentity(k.t, name)
	}
	return k.ids[name]
}

func (k *keyring) card(name string) *card.Card {
	if k.cards[name] == nil {
		k.cards[name] = vectorCard(k.t, name)
	}
	return k.cards[name]
}

// treeState lists every path under root with its type, size and mode.
func treeState(t testing.TB, root string) map[string]string {
	t.Helper()
	state := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		state[rel] = fmt.Sprintf("%v %d", info.Mode(), info.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}

// escapeTargets are the absolute paths the corpus's hostile names point
// at; none may appear.
var escapeTargets = []string{"/etc/x", "/tmp/x", "/x"}

// TestAdversarial opens every case of the frozen adversarial corpus into a
// fresh folder and requires the expected outcome class; on failure nothing
// is published and no temporary is left; in every case nothing is created
// outside the output folder.
func TestAdversarial(t *testing.T) {
	cases := readCorpus(t, adversarialDir)
	if len(cases) < 60 {
		t.Fatalf("the corpus lists %d cases, want at least 60", len(cases))
	}
	keys := newKeyring(t)
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.file, ".dossier")+"/"+c.identity+"/"+c.sender, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(adversarialDir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			runCorpusCase(t, c, data, keys)
		})
	}
}

func runCorpusCase(t *testing.T, c corpusCase, data []byte, keys *keyring) {
	want, not := expectation(t, c.expect)
	sender := keys.card(c.sender)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	res, out, err := openContained(t, data, keys.id(c.identity), sender)
	runtime.ReadMemStats(&m1)
	if alloc, limit := m1.TotalAlloc-m0.TotalAlloc, maxCaseAlloc(); alloc > limit {
		t.Errorf("%s allocated %d MiB (more than %d MiB): a bomb is not bounded", c.file, alloc>>20, limit>>20)
	}
	// Verify (which writes nothing) must come to the same verdict.
	if _, verr := Verify(context.Background(), bytes.NewReader(data), ReadOptions{Identity: keys.id(c.identity), Sender: sender}); (verr == nil) != (want == nil) || (want != nil && !errors.Is(verr, want)) {
		t.Errorf("Verify: %v; want %s", verr, c.expect)
	}
	// So must Verify through age's random-access decrypter.
	if _, verr := Verify(context.Background(), randomAccessInput(data), ReadOptions{Identity: keys.id(c.identity), Sender: sender}); (verr == nil) != (want == nil) || (want != nil && !errors.Is(verr, want)) {
		t.Errorf("Verify with random access: %v; want %s", verr, c.expect)
	}
	if want == nil {
		if err != nil {
			t.Fatalf("%s: want success, got %v", c.comment, err)
		}
		if v := corpusFormat(c.file); res.Preamble.Version != v || res.Manifest.Version != v {
			t.Fatalf("%s opened as format %d (manifest %d); its name says format %d", c.file, res.Preamble.Version, res.Manifest.Version, v)
		}
		bag, err := verifyBagChecked(t, out, sender)
		if err != nil {
			t.Fatalf("opened bundle does not re-verify: %v", err)
		}
		files := listedFiles(t, res, out)
		if n := payloadFiles(t, out); n != len(files) || bag.FileCount != n {
			t.Fatalf("published %d files, the manifest lists %d, VerifyBag counted %d", n, len(files), bag.FileCount)
		}
		// Extract gives every file exactly as open published it (an
		// armored bundle allows no random access: extract refuses it).
		for _, f := range files {
			if bytes.Contains(data[:min(len(data), 128)], []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
				break
			}
			got, err := extractCorpusFile(t, data, f.Path, keys.id(c.identity), sender)
			published, rerr := os.ReadFile(filepath.Join(out, "data", filepath.FromSlash(f.Path)))
			if err != nil || rerr != nil || !bytes.Equal(got, published) {
				t.Fatalf("extract %s: %v %v (or it differs from what open published)", f.Path, err, rerr)
			}
		}
		return
	}
	// Extract checks less than open (only the manifest and the file's
	// frames), so it may succeed where open fails; but it writes nothing
	// when it fails, and a bundle not encrypted to the reader is refused
	// as such.
	for _, path := range []string{"case/x.txt", "case/a.txt", "case/interviews/witness.txt"} {
		_, xerr := extractCorpusFile(t, data, path, keys.id(c.identity), sender)
		if c.expect == "no-identity" && !errors.Is(xerr, ErrNoIdentity) {
			t.Errorf("extract %s: %v; want no-identity", path, xerr)
		}
		// Where the fault is in what extract itself reads (the manifest's
		// signature, the versions it goes by), it must be found before
		// any path is looked up.
		if extractMustRefuse(c.file) && (xerr == nil || errors.Is(xerr, ErrNotInBundle)) {
			t.Errorf("extract %s: %v; want a refusal of the manifest", path, xerr)
		}
		// Versions that disagree are damage, not someone else's signature.
		if strings.Contains(c.file, "-version-") && extractMustRefuse(c.file) && (!errors.Is(xerr, ErrIntegrity) || errors.Is(xerr, ErrWrongSender)) {
			t.Errorf("extract %s: %v; want an integrity failure", path, xerr)
		}
	}
	if err == nil {
		t.Fatalf("%s: opened; want %s", c.comment, c.expect)
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v; want %s", c.comment, err, c.expect)
	}
	for _, n := range not {
		if errors.Is(err, n) {
			t.Fatalf("%s: got %v (%v); want exactly %s", c.comment, err, n, c.expect)
		}
	}
	if strings.ContainsAny(err.Error(), "\x1b\n\r\u202e") {
		t.Errorf("error message carries raw control characters: %q", err.Error())
	}
}

// extractMustRefuse reports whether a hostile corpus case is one whose
// fault lies in what extract reads: the manifest's signature, or the
// format version it takes from the trailer and the manifest.
func extractMustRefuse(file string) bool {
	for _, p := range []string{"manifest-sig-", "v2-manifest-sig-", "v2-sig-", "v2-v1bundle-sig-", "v2-trailer-version-",
		"v2-v1bundle-trailer-version-", "v2-manifest-version-", "v2-v1bundle-manifest-v2-"} {
		if strings.HasPrefix(file, p) {
			return true
		}
	}
	return false
}

// extractCorpusFile extracts path with Extract. Nothing may be written
// before the manifest is proven: a failure with bytes written can only be
// an integrity failure of the file's own data, found as it is read (the
// caller, ExtractFile, then discards its temporary).
func extractCorpusFile(t *testing.T, data []byte, path string, id *identity.Identity, sender *card.Card) ([]byte, error) {
	var out bytes.Buffer
	_, err := Extract(context.Background(), bytes.NewReader(data), int64(len(data)), path, &out, ReadOptions{Identity: id, Sender: sender})
	if err != nil && out.Len() > 0 && (!errors.Is(err, ErrIntegrity) || errors.Is(err, ErrWrongSender) || errors.Is(err, ErrNotAddressed)) {
		t.Errorf("extract %s wrote %d bytes before failing: %v", path, out.Len(), err)
	}
	return out.Bytes(), err
}

// openContained opens data with Open into base/a/b/out, where base is a
// fresh folder holding a sentinel file, and checks what must hold whatever
// the bundle: nothing but out appears, changes or disappears under base,
// none of the absolute escapeTargets appears, and on failure out does not
// exist and no temporary is left beside it.
func openContained(t testing.TB, data []byte, id *identity.Identity, sender *card.Card) (*Result, string, error) {
	t.Helper()
	existed := map[string]bool{}
	for _, p := range escapeTargets {
		if _, err := os.Lstat(p); err == nil {
			existed[p] = true
		}
	}
	base := testtmp.Dir(t)
	parent := filepath.Join(base, "a", "b")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "sentinel"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treeState(t, base)
	out := filepath.Join(parent, "out")
	res, err := Open(context.Background(), bytes.NewReader(data), out, ReadOptions{Identity: id, Sender: sender})

	for _, p := range escapeTargets {
		if _, err := os.Lstat(p); err == nil && !existed[p] {
			t.Fatalf("%s was created outside the output folder", p)
		}
	}
	after := treeState(t, base)
	outRel, _ := filepath.Rel(base, out)
	for p, st := range after {
		if before[p] == st || p == outRel || strings.HasPrefix(p, outRel+string(filepath.Separator)) {
			continue
		}
		t.Errorf("%s appeared or changed outside the published folder (%s)", p, st)
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s disappeared", p)
		}
	}
	if err != nil {
		assertNothingAt(t, out)
	}
	return res, out, err
}

// maxCaseAlloc bounds what opening one corpus bundle may allocate in all:
// an honest case takes about 1.5 MiB; a bomb may cost the frames decoded
// ahead (one 8 MiB frame per core) but no more.
func maxCaseAlloc() uint64 {
	return 24<<20 + uint64(runtime.GOMAXPROCS(0))*(10<<20)
}

// TestAdversarialCorpusComplete: every bundle in the corpus folder is
// listed, and every listed bundle exists; the format-2 cases are listed
// in their own section, which has honest bundles and hostile ones.
func TestAdversarialCorpusComplete(t *testing.T) {
	cases := readCorpus(t, adversarialDir)
	listed := map[string]bool{}
	format2 := map[string]int{}
	for _, c := range cases {
		listed[c.file] = true
		if (c.section == format2Section) != strings.HasPrefix(c.file, format2Prefix) {
			t.Errorf("%s is listed in section %q: format-2 cases are named %s* and listed in section %s", c.file, c.section, format2Prefix, format2Section)
		}
		if corpusFormat(c.file) == 2 {
			format2[c.expect]++
		}
	}
	if format2["ok"] == 0 || format2["integrity"] == 0 {
		t.Errorf("the corpus has %d honest and %d integrity cases in format 2; want some of each", format2["ok"], format2["integrity"])
	}
	entries, err := os.ReadDir(adversarialDir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".dossier") {
			files = append(files, e.Name())
			if !listed[e.Name()] {
				t.Errorf("%s is not listed in cases.txt", e.Name())
			}
		}
	}
	for f := range listed {
		if !slices.Contains(files, f) {
			t.Errorf("cases.txt lists %s, which does not exist", f)
		}
	}
}

// Extract decodes only the requested entry of the manifest, but a path
// that a signer listed twice is still refused, not resolved to either.
func TestExtractRefusesDuplicateEntry(t *testing.T) {
	keys := newKeyring(t)
	data, err := os.ReadFile(filepath.Join(adversarialDir, "name-duplicate.dossier"))
	if err != nil {
		t.Fatal(err)
	}
	opts := ReadOptions{Identity: keys.id("bob"), Sender: keys.card("alice")}
	var out bytes.Buffer
	_, err = Extract(context.Background(), bytes.NewReader(data), int64(len(data)), "case/x.txt", &out, opts)
	// The corpus bundle is format 1, whose preamble extract proves and
	// parses first (formatOneManifestCap): the duplicate is refused there.
	if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "listed twice") && !strings.Contains(err.Error(), `"case/x.txt" and "case/x.txt" (duplicate path)`) {
		t.Fatalf("got %v, want an integrity error naming the duplicate", err)
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written before the refusal", out.Len())
	}
}

// randomAccessReader is a bundle in memory offered for random access too
// (see RandomAccess), as dossier's command line offers a bundle in files.
type randomAccessReader struct {
	*bytes.Reader
	data    []byte
	readsAt int // reads served at random
}

func randomAccessInput(data []byte) *randomAccessReader {
	return &randomAccessReader{Reader: bytes.NewReader(data), data: data}
}

func (r *randomAccessReader) RandomAccess() (io.ReaderAt, int64, bool) {
	return readerAtFunc(func(p []byte, off int64) (int, error) {
		r.readsAt++
		return bytes.NewReader(r.data).ReadAt(p, off)
	}), int64(len(r.data)), true
}

type readerAtFunc func(p []byte, off int64) (int, error)

func (f readerAtFunc) ReadAt(p []byte, off int64) (int, error) { return f(p, off) }
