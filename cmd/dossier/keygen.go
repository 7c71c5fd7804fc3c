package main

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/contacts"
	"github.com/dossier-evidence/dossier/pkg/identity"
)

type keygenOptions struct {
	Name, Org    string
	IdentityPath string
	CardPath     string
	NoPassphrase bool
	Accepts      string
}

func newKeygenCommand(g *globalOptions) *cobra.Command {
	o := &keygenOptions{}
	cmd := &cobra.Command{
		Use:   "keygen --name NAME [--org ORG] [--accepts CATS] --identity FILE --card FILE [--no-passphrase]",
		Short: "Make a new identity (secret) and card (public)",
		Long: `keygen makes a post-quantum identity: an age hybrid key (ML-KEM-768 + X25519)
to receive bundles and a hybrid Ed25519 + ML-DSA-65 key to sign them.

The identity file is secret: it is written with mode 0600 and encrypted under
a passphrase (asked on the terminal, or taken from DOSSIER_PASSPHRASE or
--passphrase-file) unless --no-passphrase is given. The card file is public:
give it to your counterparts and read its fingerprint to them over the phone.
Existing files are never overwritten.`,
		Example: `  dossier keygen --name "Alice Martin" --org "Prosecutor's Office, Lyon" \
      --identity alice.id --card alice.card`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeygen(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "your name as counterparts know it (required)")
	f.StringVar(&o.Org, "org", "", "your organisation")
	f.StringVar(&o.IdentityPath, "identity", "", "where to write the secret identity `FILE` (required)")
	f.StringVar(&o.CardPath, "card", "", "where to write the public card `FILE` (required)")
	f.BoolVar(&o.NoPassphrase, "no-passphrase", false, "store the identity unencrypted (protect it by other means)")
	f.StringVar(&o.Accepts, "accepts", "", "categories you accept, comma-separated (default: all)")
	return cmd
}

func runKeygen(ctx context.Context, g *globalOptions, o *keygenOptions) error {
	switch {
	case o.Name == "":
		return usagef("--name is required")
	case o.IdentityPath == "":
		return usagef("--identity FILE is required")
	case o.CardPath == "":
		return usagef("--card FILE is required")
	case samePath(o.IdentityPath, o.CardPath):
		return usagef("--identity and --card must be different files")
	}
	for _, f := range []struct{ flag, value string }{{"--name", o.Name}, {"--org", o.Org}} {
		if err := card.TextProblem(f.flag, f.value, card.MaxNameLen); err != nil {
			return usagef("%v: give plain text, at most %d bytes, without control or text-direction characters", err, card.MaxNameLen)
		}
		if strings.TrimFunc(f.value, contacts.IsBlank) != f.value {
			return usagef("%s begins or ends with a blank (a space, or a character that shows as one): give the name as it should read, without", f.flag)
		}
	}
	for _, out := range []string{o.IdentityPath, o.CardPath} {
		if err := checkOutputFolder(out); err != nil {
			return err
		}
	}
	g.reportLeftovers(o.IdentityPath, o.CardPath)
	var accepts []category.ID
	if o.Accepts != "" {
		var err error
		if accepts, err = category.ParseList(o.Accepts); err != nil {
			return err
		}
	}
	id, err := identity.Generate(o.Name, o.Org, accepts, g.now())
	if err != nil {
		return err
	}
	var pass string
	if !o.NoPassphrase {
		if pass, err = g.passphrase("Passphrase to protect the new identity: ", true); err != nil {
			return err
		}
	}
	if err := id.SaveContext(ctx, o.IdentityPath, o.CardPath, pass); err != nil {
		return err
	}
	// Saved 0600 or with an owner-only access list; on a drive that keeps
	// neither (a FAT or exFAT stick on Windows), say so.
	g.warnIfShared("secret identity file", o.IdentityPath)
	fp := id.Fingerprint()
	if g.JSON {
		return g.printJSON(map[string]any{
			"identity":           o.IdentityPath,
			"card":               o.CardPath,
			"name":               id.Card.Name,
			"org":                id.Card.Org,
			"fingerprint":        fp.String(),
			"fingerprint_sha256": fp.Hex(),
			"age_recipient":      id.Card.AgeRecipient,
			"passphrase":         !o.NoPassphrase,
		})
	}
	protection := "passphrase-protected"
	if o.NoPassphrase {
		protection = "NOT passphrase-protected"
	}
	g.say("identity: %s (secret, %s, mode 0600)\n", o.IdentityPath, protection)
	g.say("card:     %s (public: give it to your counterparts)\n", o.CardPath)
	g.say("fingerprint: %s\n", fp)
	return nil
}

// samePath reports whether a and b name the same file, spelled the same
// or not (./carol.id and carol.id).
func samePath(a, b string) bool {
	if a == b {
		return true
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}
