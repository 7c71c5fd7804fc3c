package bundle

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// The C2SP CCTV age test vectors (c2sp.org/CCTV/age), copied into
// testdata/cctv; see the README there.
const cctvDir = "../../testdata/cctv"

type cctvVector struct {
	expect     string
	payload    []byte // SHA-256 of the plaintext released, if given
	identities []age.Identity
	file       []byte
}

func parseCCTV(t *testing.T, data []byte) *cctvVector {
	t.Helper()
	v := &cctvVector{}
	zlibbed := false
	for {
		line, rest, ok := bytes.Cut(data, []byte("\n"))
		if !ok {
			t.Fatal("no blank line before the file")
		}
		data = rest
		if len(line) == 0 {
			break
		}
		key, value, _ := strings.Cut(string(line), ": ")
		switch key {
		case "expect":
			v.expect = value
		case "payload":
			h, err := hex.DecodeString(value)
			if err != nil {
				t.Fatal(err)
			}
			v.payload = h
		case "identity":
			var id age.Identity
			id, err := age.ParseX25519Identity(value)
			if err != nil {
				id, err = age.ParseHybridIdentity(value)
			}
			if err != nil {
				t.Fatal(err)
			}
			v.identities = append(v.identities, id)
		case "passphrase":
			id, err := age.NewScryptIdentity(value)
			if err != nil {
				t.Fatal(err)
			}
			v.identities = append(v.identities, id)
		case "compressed":
			if value != "zlib" {
				t.Fatalf("unknown compression %q", value)
			}
			zlibbed = true
		case "file key", "armored", "comment":
		default:
			t.Fatalf("unknown header %q", key)
		}
	}
	if zlibbed {
		r, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
	}
	v.file = data
	return v
}

// ageDecrypt is the first steps of read(), with its error classes: armor
// detection, the capped header scan, age.Decrypt, and reading the
// plaintext (which read() hands to the zstd layer, where any failure is an
// integrity failure). It returns the plaintext released before any error.
func ageDecrypt(r io.Reader, ids ...age.Identity) ([]byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if isArmored(br) {
		br = bufio.NewReaderSize(&armorErrReader{r: armor.NewReader(br)}, 64<<10)
	}
	hdr, err := readAgeHeader(br)
	if err != nil {
		return nil, err
	}
	plain, err := age.Decrypt(io.MultiReader(bytes.NewReader(hdr), br), ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, ErrNoIdentity
		}
		return nil, integrityWrap(err, "not a valid age-encrypted bundle")
	}
	out, err := io.ReadAll(plain)
	if err != nil {
		return out, tarErr(err, "the payload")
	}
	// read() finally requires the end of the input (end()).
	if _, err := br.Peek(1); err != io.EOF {
		return out, integrity("the bundle has data after its end")
	}
	return out, nil
}

// TestCCTV runs every CCTV age vector through dossier's decrypt path: the
// success vectors decrypt to the expected payload, "no match" is
// ErrNoIdentity (exit 4) and every other failure is ErrIntegrity (exit 3).
func TestCCTV(t *testing.T) {
	entries, err := os.ReadDir(cctvDir)
	if err != nil {
		t.Fatal(err)
	}
	bob := vectorIdentity(t, "bob")
	n := map[string]int{}
	for _, e := range entries {
		if e.Name() == "README.md" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(cctvDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(e.Name(), func(t *testing.T) {
			v := parseCCTV(t, data)
			n[v.expect]++
			out, err := ageDecrypt(bytes.NewReader(v.file), v.identities...)
			if v.payload != nil && (err == nil || v.expect == "payload failure") {
				if sum := sha256.Sum256(out); !bytes.Equal(sum[:], v.payload) {
					t.Errorf("released plaintext (%d bytes) does not match the payload hash", len(out))
				}
			}
			switch v.expect {
			case "success":
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				// A dossier identity that is not a recipient: exit 4.
				if _, err := ageDecrypt(bytes.NewReader(v.file), bob.Age); !errors.Is(err, ErrNoIdentity) {
					t.Errorf("with bob's identity: %v, want ErrNoIdentity", err)
				}
			case "no match":
				if !errors.Is(err, ErrNoIdentity) {
					t.Fatalf("want ErrNoIdentity, got %v", err)
				}
			case "HMAC failure", "header failure", "payload failure", "armor failure":
				if !errors.Is(err, ErrIntegrity) {
					t.Fatalf("want ErrIntegrity (%s), got %v", v.expect, err)
				}
			default:
				t.Fatalf("unknown expectation %q", v.expect)
			}
		})
	}
	if n["success"] == 0 || n["no match"] == 0 || n["header failure"] == 0 || n["payload failure"] == 0 {
		t.Fatalf("too few vectors of some class: %v", n)
	}
	t.Logf("vectors by expectation: %v", n)
}
