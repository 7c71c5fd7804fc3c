package bundle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// A sender who signs with the expected key but carries a card of another
// name or organisation (the receiver's own, "Europol") is refused by
// every reader given the expected card: the name the bundle carries is
// what open prints, bag-info.txt holds and the receipt states (found by
// an audit with a hostile sender). A card issued again with the same name
// and other accepted categories is the same sender.
func TestRenamedSenderIsRefused(t *testing.T) {
	p := getParties(t)
	recipient := p.alice.Age.Recipient()
	reissue := func(name, org string, accepts []category.ID) *identity.Identity {
		t.Helper()
		c, err := card.New(name, org, accepts, fixedNow.Add(time.Hour), recipient, p.alice.Key)
		if err != nil {
			t.Fatal(err)
		}
		if c.Fingerprint() != p.alice.Card.Fingerprint() {
			t.Fatal("the card issued again has another fingerprint")
		}
		return &identity.Identity{Age: p.alice.Age, Key: p.alice.Key, Card: c}
	}
	plan, _ := planOne(t, "evidence\n", category.LawEnforcement)
	packAs := func(sender *identity.Identity) []byte {
		t.Helper()
		var buf bytes.Buffer
		if _, err := Pack(context.Background(), &buf, plan, PackOptions{
			Sender: sender, Recipients: []*card.Card{p.bob.Card},
			Now: func() time.Time { return fixedNow },
		}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	opts := ReadOptions{Identity: p.bob, Sender: p.alice.Card}
	for _, tt := range []struct{ name, org string }{
		{"Bob", "Bob's office"},      // the receiver's own name
		{"Alice", "Europol"},         // another organisation
		{"Alice", ""},                // none
		{"Alice ", "Alice's office"}, // a name that reads the same
	} {
		data := packAs(reissue(tt.name, tt.org, nil))
		_, err := Verify(context.Background(), bytes.NewReader(data), opts)
		if !errors.Is(err, ErrWrongSender) || !strings.Contains(err.Error(), "poses as someone else") {
			t.Errorf("verify of a bundle whose card names %q of %q: %v, want ErrWrongSender", tt.name, tt.org, err)
		}
		target := filepath.Join(testtmp.Dir(t), "opened")
		if _, err := Open(context.Background(), bytes.NewReader(data), target, opts); !errors.Is(err, ErrWrongSender) {
			t.Errorf("open: %v, want ErrWrongSender", err)
		}
		assertNothingAt(t, target)
		out := filepath.Join(testtmp.Dir(t), "a.txt")
		if _, err := ExtractFile(context.Background(), bytes.NewReader(data), int64(len(data)), "case/a.txt", out, false, opts); !errors.Is(err, ErrWrongSender) {
			t.Errorf("extract: %v, want ErrWrongSender", err)
		}
		assertNothingAt(t, out)
	}
	// The same name and organisation, other categories accepted: the same
	// sender.
	data := packAs(reissue("Alice", "Alice's office", []category.ID{category.Personal}))
	if _, err := Verify(context.Background(), bytes.NewReader(data), opts); err != nil {
		t.Fatalf("a card issued again with other accepted categories: %v", err)
	}
	// A folder opened with the card of then is verified by the keys alone:
	// years later the receiver's card may be one issued again since, under
	// a new organisation (found by review).
	target := filepath.Join(testtmp.Dir(t), "opened")
	if _, err := Open(context.Background(), bytes.NewReader(packAs(p.alice)), target, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyBagChecked(t, target, reissue("Alice", "Alice's new office", nil).Card); err != nil {
		t.Fatalf("verify of the opened folder with the card issued again: %v", err)
	}
}

// A sender who encrypts to someone the signed recipient list does not name
// is found: the header has more stanzas than the list (found by an audit
// with a hostile sender: 256 listed recipients and one stanza, or the
// reverse, were taken as they came). The bundle is still read.
func TestUnlistedRecipientsAreCounted(t *testing.T) {
	p := getParties(t)
	plan, _ := planOne(t, "evidence\n", category.LawEnforcement)
	hidden, err := p.carol.Card.Recipient()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		unlisted    []age.Recipient
		listedOnly  []*card.Card
		want        int
		unreachable int
	}{{nil, nil, 0, 0}, {[]age.Recipient{hidden}, nil, 1, 0}, {nil, []*card.Card{p.carol.Card}, 0, 1}} {
		var buf bytes.Buffer
		if _, err := Pack(context.Background(), &buf, plan, PackOptions{
			Sender: p.alice, Recipients: []*card.Card{p.bob.Card}, Now: func() time.Time { return fixedNow }, unlisted: tt.unlisted, listedOnly: tt.listedOnly,
		}); err != nil {
			t.Fatal(err)
		}
		for name, read := range map[string]func(io.Reader, ReadOptions) (*Result, error){
			"verify":  func(r io.Reader, o ReadOptions) (*Result, error) { return Verify(context.Background(), r, o) },
			"inspect": func(r io.Reader, o ReadOptions) (*Result, error) { return Inspect(context.Background(), r, o) },
		} {
			res, err := read(bytes.NewReader(buf.Bytes()), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res.UnlistedRecipients != tt.want || res.UnreachableRecipients != tt.unreachable {
				t.Errorf("%s of a bundle with %d unlisted and %d unreachable recipients: UnlistedRecipients %d, UnreachableRecipients %d", name, tt.want, tt.unreachable, res.UnlistedRecipients, res.UnreachableRecipients)
			}
		}
		// One named but not encrypted to cannot decrypt it.
		if _, err := Verify(context.Background(), bytes.NewReader(buf.Bytes()), ReadOptions{Identity: p.carol, Sender: p.alice.Card}); tt.unreachable > 0 && !errors.Is(err, ErrNoIdentity) {
			t.Errorf("the recipient named but not encrypted to: %v, want no identity", err)
		}
		// The one not named can decrypt it.
		if _, err := Verify(context.Background(), bytes.NewReader(buf.Bytes()), ReadOptions{Identity: p.carol, Sender: p.alice.Card}); tt.want > 0 && !errors.Is(err, ErrNotAddressed) {
			t.Errorf("the unlisted recipient: %v, want the signed list's refusal (not addressed)", err)
		}
	}
}
