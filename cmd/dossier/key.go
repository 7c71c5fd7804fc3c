package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/contacts"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/seal"
)

func newKeyCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Show fingerprints and export keys",
	}
	cmd.AddCommand(newKeyFingerprintCommand(g), newKeyAgeIdentityCommand(g), newKeyMinisignCommand(g))
	return cmd
}

func newKeyFingerprintCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "fingerprint CARD|ID_FILE|CONTACT",
		Short: "Print a card's short fingerprint, to read aloud and compare",
		Example: `  dossier key fingerprint bob.card
  7K2M-QX4P-9D3R-WT6H-0B5N`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readSmallFile(args[0], identity.MaxSize)
			var c *card.Card
			if err == nil {
				if err := ambiguousWithContact(args[0]); err != nil {
					return err
				}
			}
			if errors.Is(err, fs.ErrNotExist) {
				if c, err = loadContactCard(args[0], err); err != nil {
					return err
				}
			} else if err != nil {
				return fmt.Errorf("read %s: %w", args[0], err)
			} else if identity.IsIdentityFile(data) {
				id, err := g.loadIdentity(args[0])
				if err != nil {
					return err
				}
				c = id.Card
			} else if c, err = card.Parse(data); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			} else if err := impersonation(args[0], c); err != nil {
				// Shown all the same: comparing it aloud is how to tell.
				g.warn("%s\n", strings.TrimPrefix(err.Error(), contacts.ErrConflict.Error()+": "))
			}
			fp := c.Fingerprint()
			if g.JSON {
				return g.printJSON(map[string]any{"fingerprint": fp.String(), "fingerprint_sha256": fp.Hex(), "name": c.Name, "org": c.Org})
			}
			if g.Quiet {
				fmt.Fprintln(g.stdout, fp)
				return nil
			}
			fmt.Fprintf(g.stdout, "%s\n", fp)
			fmt.Fprintf(g.stderr, "(%s)\n", oneLine(c.Label()))
			return nil
		},
	}
}

func newKeyAgeIdentityCommand(g *globalOptions) *cobra.Command {
	var idPath string
	cmd := &cobra.Command{
		Use:   "age-identity -i ID_FILE",
		Short: "Print the identity's age secret key line, for recovery with stock age",
		Long: `age-identity prints the AGE-SECRET-KEY-PQ-1… line of an identity, so that a
bundle can be opened with the stock age tool if dossier is ever unavailable:

  (umask 077; dossier key age-identity -i bob.id > key.txt)   # key.txt readable by you alone
  age -d -i key.txt BUNDLE | zstd -d | tar -x

The line is a secret: keep key.txt as safe as the identity and delete it after.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("key age-identity takes the identity file with -i: dossier key age-identity -i %s", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := g.loadIdentity(idPath)
			if err != nil {
				return err
			}
			if g.JSON {
				return g.printJSON(map[string]any{"age_identity": id.Age.String(), "age_recipient": id.Card.AgeRecipient})
			}
			fmt.Fprintln(g.stdout, id.Age.String())
			return nil
		},
	}
	cmd.Flags().StringVarP(&idPath, "identity", "i", "", "the identity `FILE`")
	return cmd
}

func newKeyMinisignCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "minisign CARD|CONTACT",
		Short: "Print the card's signing key as a minisign public key, to check seals with stock minisign",
		Long: `minisign prints the Ed25519 half of a card's signing key in minisign's
public key format, so that a courier without dossier can check a seal:

  dossier key minisign alice.card > alice.pub
  minisign -Vm case.dossier -p alice.pub

Stock minisign checks the Ed25519 half only; 'dossier verify BUNDLE --from CARD'
checks the ML-DSA-65 half too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadCard(args[0])
			if err != nil {
				return err
			}
			pub := seal.PublicKey(c)
			if g.JSON {
				lines := strings.Split(strings.TrimSpace(pub), "\n")
				return g.printJSON(map[string]any{"minisign_public_key": lines[len(lines)-1], "file": pub, "fingerprint": c.Fingerprint().String()})
			}
			fmt.Fprint(g.stdout, pub)
			return nil
		},
	}
}
