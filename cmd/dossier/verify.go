package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/seal"
)

func newVerifyCommand(g *globalOptions) *cobra.Command {
	f := &readFlags{}
	cmd := &cobra.Command{
		Use:   "verify BUNDLE|DIR --from CARD [-i ID_FILE] | verify - --from CARD -i ID_FILE",
		Short: "Check a bundle, or a folder opened from one, without writing anything",
		Long: `Without -i, verify is the courier's check: it needs no key, only the sender's
card, and checks the bundle's seal (BUNDLE.minisig; one per volume of a split
bundle): the encrypted bytes are exactly what the sender produced.

With -i, verify checks a bundle completely without writing anything: it decrypts it,
checks the sender's signatures against --from, checks that you are among the
signed recipients and that the encryption header is the one the sender
signed, and re-hashes every file.

Given a folder made by 'dossier open', verify re-checks it, possibly years
later and without any secret key: the BagIt manifests, every document's
SHA-256, and the sender's signature on the kept manifest.`,
		Example: `  dossier verify case.dossier --from alice.card
  dossier verify case.dossier.001 --from alice.card
  dossier verify case.dossier --from alice.card -i bob.id
  dossier verify opened-case --from alice.card`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), g, f, args[0])
		},
	}
	cmd.Flags().StringVarP(&f.IdentityPath, "identity", "i", "", "your identity `FILE`")
	cmd.Flags().StringVar(&f.From, "from", "", "the expected sender's `CARD` file or contact name")
	cmd.Flags().StringVar(&f.SealPath, "seal", "", "the seal `FILE` (default: BUNDLE.minisig beside the bundle)")
	return cmd
}

func runVerify(ctx context.Context, g *globalOptions, f *readFlags, target string) error {
	if f.From == "" {
		return usagef("--from CARD is required: the card of the sender you expect")
	}
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		ev := g.begin("verify-opened")
		sender, err := loadCard(f.From)
		if err != nil {
			return err
		}
		ev.Counterparts = counterparts(sender)
		bar := g.newProgress("verifying", -1)
		res, err := bundle.VerifyBag(ctx, target, sender, bar.update)
		bar.finish()
		if err != nil {
			return err
		}
		ev.BundleID = res.Manifest.BundleID
		m := res.Manifest
		if g.JSON {
			return g.printJSON(map[string]any{
				"ok": true, "kind": "opened-folder", "path": target, "bundle_id": m.BundleID, "created": m.Created,
				"sender": jsonParty(m.Sender), "case": m.Case, "file_count": res.FileCount, "bytes": m.TotalSize,
				"categories": res.Categories,
			})
		}
		g.say("OK: %s holds the %s (%s) of bundle %s exactly as %s signed them\n",
			target, plural(res.FileCount, "document"), humanBytes(m.TotalSize), m.BundleID, oneLine(sender.Label()))
		return nil
	}
	if f.IdentityPath == "" {
		return runVerifySeal(ctx, g, f, target)
	}
	ev := g.begin("verify")
	opts, err := g.readOptions(f, true)
	if err != nil {
		return err
	}
	ev.Counterparts = counterparts(opts.Sender)
	g.setActor(opts.Identity)
	in, err := g.openBundle(target, f.SealPath, opts.Sender)
	if err != nil {
		return err
	}
	defer in.Close()
	bar := g.newProgress("verifying", -1)
	opts.Progress = bar.update
	expectSealed(in.src, &opts)
	res, err := bundle.Verify(ctx, in, opts)
	bar.finish()
	if err != nil {
		return g.explainWithSeals(ctx, err, in.src, opts.Sender)
	}
	ev.BundleID, ev.BundleHash = res.Preamble.BundleID, hexDigest(in.digest())
	g.warnRecipients(res)
	sealed := in.src != nil && in.src.Sealed()
	if g.JSON {
		return g.printJSON(bundleJSON(res, map[string]any{"ok": true, "kind": "bundle", "path": target, "seal_checked": sealed}))
	}
	pre := res.Preamble
	g.say("OK: bundle %s from %s\n", pre.BundleID, senderLine(pre.Sender, true))
	g.say("    %s (%s); every signature and SHA-256 verified; addressed to you; nothing written\n",
		plural(res.FileCount, "file"), humanBytes(pre.TotalSize))
	if sealed {
		g.say("    the seal matches too\n")
	} else if in.src != nil {
		g.say("    (no seal was found beside the bundle; its contents were checked)\n")
	}
	return nil
}

// runVerifySeal is the courier's check: the seal(s) against the sender's
// card, without any decryption key.
func runVerifySeal(ctx context.Context, g *globalOptions, f *readFlags, target string) error {
	if target == "-" {
		return usagef("a seal check needs the bundle file, not standard input (or pass -i ID_FILE to check the contents)")
	}
	ev := g.begin("seal-verify")
	sender, err := loadCard(f.From)
	if err != nil {
		return err
	}
	ev.Counterparts = counterparts(sender)
	src, err := discoverBundle(target, f.SealPath)
	if err != nil {
		return err
	}
	if !src.Sealed() {
		if src.Split {
			return fmt.Errorf("no seal found for %s (looked for %s): ask the sender for the volumes' seals, or pass -i ID_FILE to check the contents instead", target, src.Paths[0]+seal.Ext)
		}
		return fmt.Errorf("no seal found for %s (looked for %s): pass --seal FILE, or -i ID_FILE to check the contents instead", target, src.Paths[0]+seal.Ext)
	}
	total, err := g.checkSeals(ctx, src, sender)
	if err != nil {
		return err
	}
	ev.BundleID = src.BundleID()
	if g.JSON {
		return g.printJSON(map[string]any{
			"ok": true, "kind": "seal", "path": target, "files": src.Paths, "bundle_id": src.BundleID(),
			"sender": jsonParty(manifest.PartyOf(sender)), "bytes": total,
		})
	}
	what := target
	if src.Split {
		what = fmt.Sprintf("all %d volumes of %s", len(src.Paths), strings.TrimSuffix(target, ".001"))
		if len(src.Paths) == 1 {
			what = fmt.Sprintf("the one volume of %s", strings.TrimSuffix(target, ".001"))
		}
	}
	g.say("OK: seal verified: %s (%s) are exactly the bytes %s sealed as bundle %s\n",
		what, humanBytes(total), oneLine(sender.Label()), src.BundleID())
	g.say("    the contents were not decrypted; the recipient checks them with -i\n")
	return nil
}
