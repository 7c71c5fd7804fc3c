package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

var fixedNow = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

type parties struct {
	alice, bob, carol, mallory *identity.Identity
}

var (
	partiesOnce sync.Once
	testParties parties
)

func getParties(t testing.TB) parties {
	t.Helper()
	partiesOnce.Do(func() {
		gen := func(name string) *identity.Identity {
			id, err := identity.Generate(name, name+"'s office", nil, fixedNow)
			if err != nil {
				panic(err)
			}
			return id
		}
		testParties = parties{gen("Alice"), gen("Bob"), gen("Carol"), gen("Mallory")}
	})
	return testParties
}

// writeTree creates files (path -> content) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// planOne plans one file, case/a.txt holding content, in a new folder
// (returned), all of it under the category cat.
func planOne(t testing.TB, content string, cat category.ID) (*Plan, string) {
	t.Helper()
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/a.txt": content})
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{cat})
	if err != nil {
		t.Fatal(err)
	}
	return plan, dir
}

var sampleFiles = map[string]string{
	"case/interviews/witness.txt": "Witness statement of J. Doe.\n",
	"case/medical/report.txt":     "Forensic medical report.\n",
	"case/ledger.csv":             strings.Repeat("2026-07-03,120000.00,INV-0711\n", 2000),
	"case/empty.txt":              "",
}

// packSample packs sampleFiles from Alice to the given recipients with a
// small frame size, so the bundle has several frames.
func packSample(t testing.TB, recipients ...*card.Card) ([]byte, *manifest.Manifest, string) {
	return packFiles(t, sampleFiles, 16<<10, recipients...)
}

func packFiles(t testing.TB, files map[string]string, frameSize int, recipients ...*card.Card) ([]byte, *manifest.Manifest, string) {
	t.Helper()
	return packFilesFormat(t, files, frameSize, 0, recipients...)
}

// packSampleFormat is packSample in the given format version.
func packSampleFormat(t testing.TB, version int, recipients ...*card.Card) ([]byte, *manifest.Manifest) {
	t.Helper()
	data, man, _ := packFilesFormat(t, sampleFiles, 16<<10, version, recipients...)
	return data, man
}

func packFilesFormat(t testing.TB, files map[string]string, frameSize, version int, recipients ...*card.Card) ([]byte, *manifest.Manifest, string) {
	t.Helper()
	dir := testtmp.Dir(t)
	writeTree(t, dir, files)
	rules := category.Rules{
		{Category: category.Personal, Glob: "case/interviews/**"},
		{Category: category.SpecialCategory, Glob: "case/medical/**"},
	}
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, rules, []category.ID{category.LawEnforcement})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p := getParties(t)
	man, err := Pack(context.Background(), &buf, plan, PackOptions{
		Sender:        p.alice,
		Recipients:    recipients,
		Case:          manifest.Case{Reference: "MLA-2026-077", Purpose: "test"},
		Now:           func() time.Time { return fixedNow },
		FrameSize:     frameSize,
		FormatVersion: version,
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), man, dir
}

func TestPackVerifyOpen(t *testing.T) {
	p := getParties(t)
	data, man, src := packSample(t, p.bob.Card, p.carol.Card)
	if len(man.Files) != len(sampleFiles) {
		t.Fatalf("manifest lists %d files, want %d", len(man.Files), len(sampleFiles))
	}
	for _, f := range man.Files {
		want := sha256.Sum256([]byte(sampleFiles[f.Path]))
		if f.SHA256 != want {
			t.Errorf("%s: manifest hash %s is wrong", f.Path, f.SHA256)
		}
	}
	cats := map[string]category.Set{}
	for _, f := range man.Files {
		cats[f.Path] = f.Categories
	}
	if got := cats["case/interviews/witness.txt"]; got != category.MustSet(category.Personal) {
		t.Errorf("witness categories = %v", got)
	}
	if got := cats["case/ledger.csv"]; got != category.MustSet(category.LawEnforcement) {
		t.Errorf("ledger categories = %v", got)
	}

	for _, who := range []*identity.Identity{p.bob, p.carol} {
		res, err := Verify(context.Background(), bytes.NewReader(data), ReadOptions{Identity: who, Sender: p.alice.Card})
		if err != nil {
			t.Fatalf("%s: verify: %v", who.Card.Name, err)
		}
		if !res.SenderConfirmed || res.Manifest.BundleID != man.BundleID {
			t.Fatalf("verify result: %+v", res)
		}
		// Format 3: no list was held, but its count and totals are
		// given, and the manifest's head is the one packed.
		head := *man
		head.Files = nil
		if !res.Streamed || res.Preamble.Files != nil || !reflect.DeepEqual(res.Manifest, &head) ||
			res.FileCount != len(man.Files) || !reflect.DeepEqual(res.Categories, manifest.Summary(man.Files)) || res.SignedManifest() != nil {
			t.Fatalf("%s: the result of a format-3 read: %+v", who.Card.Name, res)
		}
	}

	out := filepath.Join(testtmp.Dir(t), "opened")
	res, err := Open(context.Background(), bytes.NewReader(data), out, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if err != nil {
		t.Fatal(err)
	}
	// The bag keeps the signed manifest, read as a stream, byte for byte.
	kept := bagManifest(t, out)
	if want, _ := man.Marshal(); !bytes.Equal(kept, want) || sha256.Sum256(kept) != res.ManifestSHA256 {
		t.Fatalf("the bag keeps a manifest of %d bytes, not the %d signed", len(kept), len(want))
	}

	for name, content := range sampleFiles {
		got, err := os.ReadFile(filepath.Join(out, "data", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("%s differs after open", name)
		}
		st, _ := os.Stat(filepath.Join(src, filepath.FromSlash(name)))
		st2, _ := os.Stat(filepath.Join(out, "data", filepath.FromSlash(name)))
		if !st2.ModTime().Equal(st.ModTime().Truncate(time.Second)) {
			t.Errorf("%s: mtime %v, want %v", name, st2.ModTime(), st.ModTime().Truncate(time.Second))
		}
		testtmp.WantPermInherited(t, filepath.Join(out, "data", filepath.FromSlash(name)), 0o600)
	}
	// The published folder itself is private.
	testtmp.WantPerm(t, out, 0o700)
	if _, err := verifyBagChecked(t, out, p.alice.Card); err != nil {
		t.Fatalf("VerifyBag: %v", err)
	}
	if _, err := verifyBagChecked(t, out, p.mallory.Card); !errors.Is(err, ErrWrongSender) {
		t.Fatalf("VerifyBag with the wrong sender: %v, want ErrWrongSender", err)
	}
}

func TestInspectReadsOnlyThePreamble(t *testing.T) {
	p := getParties(t)
	big := map[string]string{"case/big.bin": string(randomBytes(4 << 20)), "case/a.txt": "a"}
	data, man, _ := packFiles(t, big, 0, p.bob.Card)
	// Keep only the first 512 KiB of a 4 MiB bundle: inspect must not
	// need the rest.
	head := data[:512<<10]
	res, err := Inspect(context.Background(), bytes.NewReader(head), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if err != nil {
		t.Fatalf("inspect of the first 512 KiB: %v", err)
	}
	if res.Preamble.BundleID != man.BundleID || len(res.Preamble.Files) != len(man.Files) || !res.SenderConfirmed {
		t.Fatalf("inspect result %+v", res.Preamble)
	}
	res, err = Inspect(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.bob})
	if err != nil || res.SenderConfirmed {
		t.Fatalf("inspect without sender: confirmed=%v err=%v", res != nil && res.SenderConfirmed, err)
	}
	if _, err := Inspect(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.bob, Sender: p.mallory.Card}); !errors.Is(err, ErrWrongSender) {
		t.Fatalf("inspect with the wrong sender: %v", err)
	}
}

// decryptPayload returns the age plaintext of a bundle (the zstd stream).
func decryptPayload(t testing.TB, data []byte, id *identity.Identity) []byte {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(data), id.Age)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

func encryptTo(t testing.TB, plain []byte, cards ...*card.Card) []byte {
	t.Helper()
	var rs []age.Recipient
	for _, c := range cards {
		r, err := c.Recipient()
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReencryptedPayloadIsRefused(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	plain := decryptPayload(t, data, p.bob)

	// Bob re-encrypts Alice's signed payload to Carol: Carol decrypts it
	// but is not a signed recipient.
	toCarol := encryptTo(t, plain, p.carol.Card)
	_, err := Verify(context.Background(), bytes.NewReader(toCarol), ReadOptions{Identity: p.carol, Sender: p.alice.Card})
	if !errors.Is(err, ErrNotAddressed) || !errors.Is(err, ErrIntegrity) {
		t.Fatalf("re-encrypted to Carol: %v, want ErrNotAddressed", err)
	}
	out := filepath.Join(testtmp.Dir(t), "out")
	if _, err := Open(context.Background(), bytes.NewReader(toCarol), out, ReadOptions{Identity: p.carol, Sender: p.alice.Card}); err == nil {
		t.Fatal("open of a re-encrypted bundle succeeded")
	}
	assertNothingAt(t, out)

	// Even re-encrypted to Bob himself (who is a signed recipient) the
	// header hash no longer matches what Alice signed.
	toBob := encryptTo(t, plain, p.bob.Card)
	_, err = Verify(context.Background(), bytes.NewReader(toBob), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, ErrNotAddressed) || !strings.Contains(err.Error(), "age header") {
		t.Fatalf("re-encrypted to Bob: %v, want the age header binding to fail", err)
	}
}

func TestNotForThisIdentity(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	_, err := Verify(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.carol, Sender: p.alice.Card})
	if !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("err = %v, want ErrNoIdentity", err)
	}
}

// TestForeignSenderRefusedBeforePayload replaces every payload frame with
// garbage: with the wrong expected sender the error must still be about
// the sender, proving no payload frame was decompressed first.
func TestForeignSenderRefusedBeforePayload(t *testing.T) {
	p := getParties(t)
	data, _, _ := packFiles(t, sampleFiles, 0, p.bob.Card)
	plain := decryptPayload(t, data, p.bob)
	first := firstFrameLen(t, plain)
	garbage := append([]byte(nil), plain[:first]...)
	garbage = append(garbage, bytes.Repeat([]byte{0x28, 0xb5, 0x2f, 0xfd, 0xff}, 10000)...)
	bad := encryptTo(t, garbage, p.bob.Card)
	_, err := Verify(context.Background(), bytes.NewReader(bad), ReadOptions{Identity: p.bob, Sender: p.mallory.Card})
	if !errors.Is(err, ErrWrongSender) {
		t.Fatalf("err = %v, want ErrWrongSender before any payload is read", err)
	}
	// With the right sender, the garbage is found (after the checks).
	_, err = Verify(context.Background(), bytes.NewReader(bad), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("err = %v, want ErrIntegrity", err)
	}
}

// firstFrameLen returns the compressed length of the first zstd frame.
func firstFrameLen(t testing.TB, stream []byte) int {
	t.Helper()
	var h zstd.Header
	if err := h.Decode(stream); err != nil {
		t.Fatal(err)
	}
	// Walk the blocks: 3-byte headers after the frame header.
	pos := h.HeaderSize
	for {
		bh := int(stream[pos]) | int(stream[pos+1])<<8 | int(stream[pos+2])<<16
		last, typ, size := bh&1, (bh>>1)&3, bh>>3
		pos += 3
		if typ == 1 {
			size = 1
		}
		pos += size
		if last == 1 {
			break
		}
	}
	if h.HasCheckSum {
		pos += 4
	}
	return pos
}

func assertNothingAt(t testing.TB, out string) {
	t.Helper()
	if _, err := os.Lstat(out); err == nil {
		t.Fatalf("%s exists after a failed open", out)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".dossier-tmp-") {
			t.Fatalf("temporary %s left behind", e.Name())
		}
	}
}

// TestEveryByteMatters flips bytes across the whole bundle: every flip must
// be refused (exit-3 class, or exit 4 inside a recipient stanza) and open
// must leave nothing behind.
func TestEveryByteMatters(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	hdrLen := bytes.Index(data, []byte("\n--- "))
	step := 1
	if testing.Short() {
		step = 97
	}
	positions := []int{}
	for i := 0; i < len(data); i += step {
		positions = append(positions, i)
	}
	if step > 1 {
		for i := len(data) - 64; i < len(data); i++ {
			positions = append(positions, i)
		}
	}
	parent := testtmp.Dir(t)
	for n, i := range positions {
		mod := append([]byte(nil), data...)
		mod[i] ^= 0x01
		// Every other byte through age's random-access decrypter.
		var in io.Reader = bytes.NewReader(mod)
		if n%2 == 1 {
			in = randomAccessInput(mod)
		}
		var err error
		if n%16 < 2 {
			out := filepath.Join(parent, "out")
			_, err = Open(context.Background(), in, out, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
			if err != nil {
				assertNothingAt(t, out)
			}
		} else {
			_, err = Verify(context.Background(), in, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
		}
		switch {
		case err == nil:
			t.Fatalf("flipping byte %d of %d was not detected", i, len(data))
		case errors.Is(err, ErrIntegrity):
		case errors.Is(err, ErrNoIdentity) && i < hdrLen:
			// A damaged recipient stanza cannot be told from one for
			// someone else.
		default:
			t.Fatalf("flipping byte %d: unexpected error class: %v", i, err)
		}
	}
}

func TestTruncationAndTrailingData(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	lengths := []int{0, 1, 10, 100, len(data) / 2, len(data) - 65536 - 16, len(data) - 17, len(data) - 16, len(data) - 1}
	for _, n := range lengths {
		if n < 0 || n >= len(data) {
			continue
		}
		for _, in := range []io.Reader{bytes.NewReader(data[:n]), randomAccessInput(data[:n])} {
			_, err := Verify(context.Background(), in, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
			if !errors.Is(err, ErrIntegrity) {
				t.Errorf("truncated to %d of %d (%T): %v, want ErrIntegrity", n, len(data), in, err)
			}
		}
	}
	for _, extra := range [][]byte{{0}, []byte("trailing"), bytes.Repeat([]byte{0}, 70000)} {
		mod := append(append([]byte(nil), data...), extra...)
		for _, in := range []io.Reader{bytes.NewReader(mod), randomAccessInput(mod)} {
			out := filepath.Join(testtmp.Dir(t), "out")
			_, err := Open(context.Background(), in, out, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
			if !errors.Is(err, ErrIntegrity) {
				t.Errorf("%d trailing bytes (%T): %v, want ErrIntegrity", len(extra), in, err)
			}
			assertNothingAt(t, out)
		}
	}
}

// TestStockRecovery decrypts with the age library, decompresses with the
// zstd library and reads the tar: the documents come out unchanged.
func TestStockRecovery(t *testing.T) {
	p := getParties(t)
	data, man, _ := packSample(t, p.bob.Card)
	plain := decryptPayload(t, data, p.bob)
	dec, err := zstd.NewReader(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tr := tar.NewReader(dec)
	got := map[string]string{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[h.Name] = string(b)
		names = append(names, h.Name)
	}
	for name, content := range sampleFiles {
		if got[name] != content {
			t.Errorf("%s not recovered", name)
		}
	}
	if names[0] != PreambleName || names[1] != PreambleSigName || names[len(names)-2] != ManifestName || names[len(names)-1] != ManifestSigName {
		t.Errorf("entry order %v", names)
	}
	if !strings.Contains(got[ManifestName], man.BundleID) {
		t.Error("manifest entry does not carry the bundle id")
	}
	if zstdPath, err := exec.LookPath("zstd"); err == nil {
		cmd := exec.Command(zstdPath, "-d", "-c")
		cmd.Stdin = bytes.NewReader(plain)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("stock zstd -d: %v", err)
		}
		if !bytes.Contains(out, []byte(sampleFiles["case/ledger.csv"])) {
			t.Error("stock zstd output lacks the ledger")
		}
	}
}

// packAfterPlan plans case/a.txt ("original", beside other.txt,
// "replaced"), lets change alter the files, packs the plan and requires an
// ErrInput that says want, and nothing written.
func packAfterPlan(t *testing.T, want string, change func(a, other string) error) {
	t.Helper()
	p := getParties(t)
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/a.txt": "original", "other.txt": "replaced"})
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	if err := change(filepath.Join(dir, "case", "a.txt"), filepath.Join(dir, "other.txt")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(testtmp.Dir(t), "b.dossier")
	_, err = PackFile(context.Background(), out, FileOptions{}, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want an ErrInput that says %q", err, want)
	}
	assertNothingAt(t, out)
}

func TestPackRefusesChangedFile(t *testing.T) {
	packAfterPlan(t, "changed while packing", func(a, _ string) error {
		return os.WriteFile(a, []byte("changed after planning"), 0o644)
	})
}

func TestPackFileNeverOverwrites(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"a.txt": "x"})
	plan, err := MakePlan([]string{filepath.Join(dir, "a.txt")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "exists.dossier")
	os.WriteFile(out, []byte("precious"), 0o644)
	_, err = PackFile(context.Background(), out, FileOptions{}, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
	if !errors.Is(err, ErrTargetExists) {
		t.Fatalf("err = %v, want ErrTargetExists", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Fatal("existing file was changed")
	}
}

func TestPackCancelled(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	writeTree(t, dir, sampleFiles)
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(testtmp.Dir(t), "c.dossier")
	if _, err := PackFile(ctx, out, FileOptions{}, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertNothingAt(t, out)
}

func TestMakePlan(t *testing.T) {
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{
		"case/a.txt":     "a",
		"case/sub/b.jpg": "b",
		"loose.txt":      "c",
	})
	rules := category.Rules{{Category: category.Personal, Glob: "case/**"}, {Category: category.TradeSecret, Glob: "**/*.jpg"}}
	plan, err := MakePlan([]string{filepath.Join(dir, "case"), filepath.Join(dir, "loose.txt")}, rules, nil)
	var ue *UnlabelledError
	if !errors.As(err, &ue) || len(ue.Paths) != 1 || ue.Paths[0] != "loose.txt" {
		t.Fatalf("err = %v, want loose.txt unlabelled", err)
	}
	plan, err = MakePlan([]string{filepath.Join(dir, "case"), filepath.Join(dir, "loose.txt")}, rules, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range plan.Files {
		got[f.File.Path] = f.File.Categories.String()
	}
	want := map[string]string{"case/a.txt": "personal", "case/sub/b.jpg": "personal,trade-secret", "loose.txt": "other"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: categories %q, want %q", k, got[k], v)
		}
	}
	if plan.TotalSize != 3 {
		t.Errorf("total %d", plan.TotalSize)
	}
	if _, err := MakePlan(nil, nil, nil); !errors.Is(err, ErrInput) {
		t.Errorf("empty plan: %v", err)
	}
	testtmp.Symlink(t, "a.txt", filepath.Join(dir, "case", "link"))
	if _, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other}); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink: %v", err)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// A damaged frame after the manifest's signature (here the one holding
// only the end-of-archive blocks) does not hide who signed the manifest:
// extract reports what verify reports, as it did when it read the end of
// the archive as a stream. A bundle re-encrypted after the damage is "not
// addressed" to its reader, and from the wrong sender "wrong sender", not
// merely damaged.
func TestExtractJudgesTheManifestBeforeLaterDamage(t *testing.T) {
	p := getParties(t)
	data, _, _ := packFiles(t, sampleFiles, 512, p.bob.Card)
	plain := decryptPayload(t, data, p.bob)
	ix, err := zframe.ReadIndex(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	last := ix.Frames[len(ix.Frames)-1]
	if last.DecompressedOffset < ix.DataSize-1024 {
		t.Fatalf("the last frame (from %d of %d) holds more than the end-of-archive blocks", last.DecompressedOffset, ix.DataSize)
	}
	plain[last.CompressedOffset+last.CompressedSize-6] ^= 0x01 // inside the frame's checksum
	damaged := encryptTo(t, plain, p.bob.Card)

	for _, c := range []struct {
		sender *card.Card
		want   error
	}{{p.alice.Card, ErrNotAddressed}, {p.mallory.Card, ErrWrongSender}} {
		opts := ReadOptions{Identity: p.bob, Sender: c.sender}
		_, verr := Verify(context.Background(), bytes.NewReader(damaged), opts)
		var out bytes.Buffer
		_, err := Extract(context.Background(), bytes.NewReader(damaged), int64(len(damaged)), "case/interviews/witness.txt", &out, opts)
		if !errors.Is(verr, c.want) || !errors.Is(err, c.want) || out.Len() != 0 {
			t.Errorf("from %s: verify says %v, extract %v (%d bytes written); want %v from both", c.sender.Name, verr, err, out.Len(), c.want)
		}
	}
	// Damage inside the manifest itself is reported as damage.
	plain = decryptPayload(t, data, p.bob)
	t2 := sort.Search(len(ix.Frames), func(i int) bool { return ix.Frames[i].DecompressedOffset >= ix.DataSize-1024-4096 })
	f := ix.Frames[t2-1]
	plain[f.CompressedOffset+f.CompressedSize-6] ^= 0x01
	damaged = encryptTo(t, plain, p.bob.Card)
	var out bytes.Buffer
	_, err = Extract(context.Background(), bytes.NewReader(damaged), int64(len(damaged)), "case/interviews/witness.txt", &out, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, ErrIntegrity) || errors.Is(err, ErrNotAddressed) || errors.Is(err, ErrWrongSender) || out.Len() != 0 {
		t.Fatalf("damage in the manifest's signature: %v, want a plain integrity failure", err)
	}
}

// Extract decodes a small file in the manifest's buffer after the
// signature is checked, and a large one in parallel while it is: both
// give the file's bytes, at the boundary too, and a damaged frame of
// either is an integrity failure.
func TestExtractSmallAndLargeFiles(t *testing.T) {
	p := getParties(t)
	files := map[string]string{
		"case/small.txt": "a small document\n",
		"case/edge.bin":  string(randomBytes(seqExtractMax)),
		"case/large.bin": string(randomBytes(seqExtractMax + 300<<10)),
	}
	data, man, _ := packFiles(t, files, 0, p.bob.Card)
	opts := ReadOptions{Identity: p.bob, Sender: p.alice.Card}
	for path, want := range files {
		var got bytes.Buffer
		res, err := Extract(context.Background(), bytes.NewReader(data), int64(len(data)), path, &got, opts)
		if err != nil || got.String() != want || res.File.Path != path {
			t.Fatalf("%s: %d bytes, %v", path, got.Len(), err)
		}
	}
	plain := decryptPayload(t, data, p.bob)
	ix, err := zframe.ReadIndex(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range man.Files {
		if f.Path == "case/small.txt" {
			continue // shares its frame with others; the fuzz tests damage those
		}
		damaged := bytes.Clone(plain)
		i := sort.Search(len(ix.Frames), func(i int) bool { return ix.Frames[i].DecompressedOffset > f.Offset+f.Size/2 }) - 1
		fr := ix.Frames[i]
		damaged[fr.CompressedOffset+fr.CompressedSize/2] ^= 0x01
		bundle := encryptTo(t, damaged, p.bob.Card)
		var out bytes.Buffer
		_, err := Extract(context.Background(), bytes.NewReader(bundle), int64(len(bundle)), f.Path, &out, opts)
		if !errors.Is(err, ErrIntegrity) {
			t.Errorf("%s with frame %d damaged: %v, want an integrity failure", f.Path, i, err)
		}
	}
}

// A bundle read through age's random-access decrypter (as the command line
// reads a bundle in files) opens to the same result as one read as a
// stream; an armored one, which allows no random access, is read as a
// stream from the bytes already read on.
func TestRandomAccessMatchesStream(t *testing.T) {
	p := getParties(t)
	files := map[string]string{"case/big.bin": string(randomBytes(300 << 10)), "case/a.txt": "a"}
	for _, armored := range []bool{false, true} {
		dir := testtmp.Dir(t)
		writeTree(t, dir, files)
		plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := Pack(context.Background(), &buf, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}, Armor: armored}); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		var results []*Result
		ra := randomAccessInput(data)
		for _, in := range []io.Reader{bytes.NewReader(data), ra} {
			out := filepath.Join(testtmp.Dir(t), "out")
			res, err := Open(context.Background(), in, out, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
			if err != nil {
				t.Fatalf("armored %v, %T: %v", armored, in, err)
			}
			got, err := os.ReadFile(filepath.Join(out, "data", "case", "big.bin"))
			if err != nil || string(got) != files["case/big.bin"] {
				t.Fatalf("armored %v, %T: big.bin differs (%v)", armored, in, err)
			}
			results = append(results, res)
		}
		if results[0].ManifestSHA256 != results[1].ManifestSHA256 || results[0].Preamble.BundleID != results[1].Preamble.BundleID {
			t.Fatalf("armored %v: the two reads give different results", armored)
		}
		// age read the last chunk ahead, at random, unless armored.
		if (ra.readsAt > 0) == armored {
			t.Fatalf("armored %v: %d reads at random", armored, ra.readsAt)
		}
	}
}

// splitInput gives its reader one set of bytes and its random-access
// handle another, as a file changed while it is read would.
type splitInput struct {
	*bytes.Reader
	ra []byte
}

func (s *splitInput) RandomAccess() (io.ReaderAt, int64, bool) {
	return bytes.NewReader(s.ra), int64(len(s.ra)), true
}

// Where the bytes read in order (hashed for the seals and the custody
// log) and those read at random (age's last chunk, read first) differ,
// the read fails as an integrity failure: for a bundle whose last chunk
// age never reads again (at most 16 chunks, decrypted in one read) and
// for one whose last chunk it reads again in order.
func TestRandomAccessFindsChangedBytes(t *testing.T) {
	p := getParties(t)
	for _, size := range []int{100 << 10, 1500 << 10} {
		data, _, _ := packFiles(t, map[string]string{"case/big.bin": string(randomBytes(size))}, 256<<10, p.bob.Card)
		changed := bytes.Clone(data)
		changed[len(changed)-40] ^= 1
		for _, tt := range []struct {
			name           string
			inOrder, ahead []byte
		}{
			{"read in order", changed, data},
			{"read ahead", data, changed},
		} {
			in := &splitInput{Reader: bytes.NewReader(tt.inOrder), ra: tt.ahead}
			_, err := Verify(context.Background(), in, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
			if !errors.Is(err, ErrIntegrity) {
				t.Errorf("%d bytes, last chunk changed as %s: %v, want ErrIntegrity", len(data), tt.name, err)
			}
		}
		// Cut short or extended, it fails too.
		for _, mod := range [][]byte{data[:len(data)-1], data[:len(data)-17], data[:len(data)/2], append(bytes.Clone(data), 0)} {
			if _, err := Verify(context.Background(), randomAccessInput(mod), ReadOptions{Identity: p.bob, Sender: p.alice.Card}); !errors.Is(err, ErrIntegrity) {
				t.Errorf("%d bytes as %d: %v, want ErrIntegrity", len(data), len(mod), err)
			}
		}
		// Unchanged, it verifies, reading ahead at random.
		ra := randomAccessInput(data)
		if _, err := Verify(context.Background(), ra, ReadOptions{Identity: p.bob, Sender: p.alice.Card}); err != nil || ra.readsAt == 0 {
			t.Fatalf("%d bytes, unchanged: %v (%d reads at random)", len(data), err, ra.readsAt)
		}
	}
}

// failingReadAt is a bundle in memory whose random-access handle fails,
// as a failing disk or stick would.
type failingReadAt struct {
	*bytes.Reader
	err error
}

func (f *failingReadAt) RandomAccess() (io.ReaderAt, int64, bool) {
	return readerAtFunc(func([]byte, int64) (int, error) { return 0, f.err }), f.Size(), true
}

// A read error of the random-access handle is a read error, not a
// verdict on the bundle.
func TestRandomAccessReadErrorIsNotIntegrity(t *testing.T) {
	p := getParties(t)
	data, _, _ := packFiles(t, map[string]string{"case/big.bin": string(randomBytes(300 << 10))}, 256<<10, p.bob.Card)
	eio := errors.New("input/output error")
	_, err := Verify(context.Background(), &failingReadAt{Reader: bytes.NewReader(data), err: eio}, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, eio) || errors.Is(err, ErrIntegrity) {
		t.Fatalf("err = %v, want the read error, not ErrIntegrity", err)
	}
}

// payloadFiles counts the regular files in the payload of the bag at
// out.
func payloadFiles(t testing.TB, out string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(out, "data"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// bagManifest returns the signed manifest the bag opened at out keeps.
func bagManifest(t testing.TB, out string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, BagManifestName))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listedFiles returns the files of a bundle that res describes: the list
// the read held, or, for one that held none, the list of the manifest
// kept in the bag opened at out.
func listedFiles(t testing.TB, res *Result, out string) []manifest.File {
	t.Helper()
	if !res.Streamed {
		return res.Manifest.Files
	}
	man, err := manifest.ParseManifest(bagManifest(t, out))
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Files) != res.FileCount {
		t.Fatalf("the kept manifest lists %d files, the read %d", len(man.Files), res.FileCount)
	}
	return man.Files
}

// A format-2 read holds the list: the signed manifest is recognised as the
// preamble restated, not decoded into a second copy of the list.
func TestFormatTwoHoldsTheList(t *testing.T) {
	p := getParties(t)
	data, man := packSampleFormat(t, manifest.Version2, p.bob.Card)
	res, err := Verify(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if err != nil {
		t.Fatal(err)
	}
	if res.Streamed || !reflect.DeepEqual(res.Manifest, man) || unsafe.StringData(res.Manifest.Files[0].Path) != unsafe.StringData(res.Preamble.Files[0].Path) {
		t.Fatalf("the manifest read differs from the one packed, or was decoded anew")
	}
	if res.FileCount != len(man.Files) || !reflect.DeepEqual(res.Categories, manifest.Summary(man.Files)) {
		t.Fatalf("count %d, categories %v", res.FileCount, res.Categories)
	}
}
