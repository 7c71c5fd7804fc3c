package bagit

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ReadWith gives a streamed tag file to its reader once the payload is
// validated, holds none of it in Tags, and reports an altered file as
// altered whatever the reader said.
func TestReadWithStreamed(t *testing.T) {
	const big = "kept.json"
	content := strings.Repeat("a signed list\n", 1000)
	tags := map[string][]byte{big: []byte(content), "small.txt": []byte("small")}
	errReader := errors.New("the reader refused it")
	read := func(dir string, refuse bool) (bag *Bag, got string, called bool, err error) {
		bag, err = ReadWith(context.Background(), dir, ReadOptions{Streamed: map[string]TagReader{big: func(b *Bag, r io.Reader) error {
			called = true
			if len(b.Payload) != len(samplePayload) || b.Payload[0].Size < 0 {
				t.Errorf("the reader was given a bag of %d payload files, before the payload was checked", len(b.Payload))
			}
			half := make([]byte, len(content)/2) // what it leaves is hashed too
			n, _ := io.ReadFull(r, half)
			got = string(half[:n])
			if refuse {
				return errReader
			}
			return nil
		}}})
		return bag, got, called, err
	}

	dir, _ := makeBag(t, samplePayload, nil, tags)
	bag, got, called, err := read(dir, false)
	if err != nil || !called || got != content[:len(content)/2] {
		t.Fatalf("ReadWith: %v (called %v, read %d bytes)", err, called, len(got))
	}
	if _, held := bag.Tags[big]; held || string(bag.Tags["small.txt"]) != "small" {
		t.Fatalf("Tags holds %d files, the streamed one among them: %v", len(bag.Tags), held)
	}
	if _, _, _, err := read(dir, true); err != errReader {
		t.Fatalf("the reader's error: got %v", err)
	}

	// Altered in the half the reader did not read: reported as altered,
	// not as what the reader said.
	writeFile(t, dir, big, content[:len(content)-2]+"b\n")
	for _, refuse := range []bool{false, true} {
		if _, _, _, err := read(dir, refuse); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), big+" does not match its SHA-256 (altered)") {
			t.Fatalf("altered, reader refusing %v: got %v", refuse, err)
		}
	}

	// Missing: the reader is not called, and the tag manifest says so.
	if err := os.Remove(filepath.Join(dir, big)); err != nil {
		t.Fatal(err)
	}
	if _, _, called, err := read(dir, false); called || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing: called %v, %v", called, err)
	}
	resealTags(t, dir)
	if _, _, called, err := read(dir, false); called || err != nil {
		t.Fatalf("missing and unlisted: called %v, %v", called, err)
	}

	// Not listed in the tag manifest, or not a regular file.
	writeFile(t, dir, big, content)
	if _, _, called, err := read(dir, false); called || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not listed") {
		t.Fatalf("unlisted: called %v, %v", called, err)
	}
}

// The payload manifest is read as a stream and checked against the tag
// manifest: an edit that breaks a line is reported as the edit it is.
func TestReadPayloadManifestAltered(t *testing.T) {
	dir, _ := makeBag(t, samplePayload, nil, nil)
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, ManifestName, "not a manifest line\n"+string(b))
	if _, err := Read(dir); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), ManifestName+" does not match its SHA-256 (altered)") {
		t.Fatalf("got %v", err)
	}
	resealTags(t, dir)
	if _, err := Read(dir); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "line 1 has no SHA-256") {
		t.Fatalf("resealed: got %v", err)
	}
}

// ReadWith tells its progress the payload bytes hashed, up to the total
// Payload-Oxum states, and ends with the context's error once it is done,
// also in the middle of a file.
func TestReadWithProgressAndCancel(t *testing.T) {
	payload := map[string]string{"a.bin": strings.Repeat("a", 3<<20), "b/c.bin": strings.Repeat("c", 1<<20+7), "empty": ""}
	dir, _ := makeBag(t, payload, nil, nil)
	const total = 4<<20 + 7
	var seen []int64
	_, err := ReadWith(context.Background(), dir, ReadOptions{Progress: func(done, all int64) {
		if all != total || (len(seen) > 0 && done < seen[len(seen)-1]) {
			t.Errorf("progress %d of %d after %v", done, all, seen)
		}
		seen = append(seen, done)
	}})
	if err != nil || len(seen) < 4 || seen[len(seen)-1] != total {
		t.Fatalf("ReadWith: %v; progress %v", err, seen)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadWith(ctx, dir, ReadOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a context done before: %v", err)
	}
	// Cancelled at the first MiB of a.bin: the read stops within it.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var calls int
	_, err = ReadWith(ctx, dir, ReadOptions{Progress: func(done, all int64) {
		calls++
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("a context done mid-file: %v after %d reports", err, calls)
	}
}
