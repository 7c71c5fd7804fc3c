package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

func newVerifyCommand(g *globalOptions) *cobra.Command {
	f := &readFlags{}
	cmd := &cobra.Command{
		Use:   "verify BUNDLE|DIR --from CARD -i ID_FILE",
		Short: "Check a bundle, or a folder opened from one, without writing anything",
		Long: `verify checks a bundle completely without writing anything: it decrypts it,
checks the sender's signatures against --from, checks that you are among the
signed recipients and that the encryption header is the one the sender
signed, and re-hashes every file.

Given a folder made by 'dossier open', verify re-checks it, possibly years
later and without any secret key: the BagIt manifests, every document's
SHA-256, and the sender's signature on the kept manifest.`,
		Example: `  dossier verify case.dossier --from alice.card -i bob.id
  dossier verify opened-case --from alice.card`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), g, f, args[0])
		},
	}
	cmd.Flags().StringVarP(&f.IdentityPath, "identity", "i", "", "your identity `FILE`")
	cmd.Flags().StringVar(&f.From, "from", "", "the expected sender's card `FILE`")
	return cmd
}

func runVerify(ctx context.Context, g *globalOptions, f *readFlags, target string) error {
	if f.From == "" {
		return usagef("--from CARD is required: the card of the sender you expect")
	}
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		sender, err := loadCard(f.From)
		if err != nil {
			return err
		}
		res, err := bundle.VerifyBag(target, sender)
		if err != nil {
			return err
		}
		m := res.Manifest
		if g.JSON {
			return g.printJSON(map[string]any{
				"ok": true, "kind": "opened-folder", "path": target, "bundle_id": m.BundleID, "created": m.Created,
				"sender": m.Sender, "case": m.Case, "file_count": len(m.Files), "bytes": m.TotalSize,
				"categories": manifest.Summary(m.Files),
			})
		}
		g.say("OK: %s holds the %d documents (%s) of bundle %s exactly as %s signed them\n",
			target, len(m.Files), humanBytes(m.TotalSize), m.BundleID, oneLine(sender.Label()))
		return nil
	}
	if f.IdentityPath == "" {
		return usagef("-i ID_FILE is required to verify a bundle: verify decrypts it to check every signature and hash")
	}
	opts, err := g.readOptions(f, true)
	if err != nil {
		return err
	}
	in, err := g.openBundle(target, true)
	if err != nil {
		return err
	}
	defer in.Close()
	bar := g.newProgress("verifying", -1)
	opts.Progress = bar.update
	res, err := bundle.Verify(ctx, in, opts)
	bar.finish()
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(bundleJSON(res, map[string]any{"ok": true, "kind": "bundle", "path": target}))
	}
	pre := res.Preamble
	g.say("OK: bundle %s from %s\n", pre.BundleID, senderLine(pre.Sender, true))
	g.say("    %d files (%s); every signature and SHA-256 verified; addressed to you; nothing written\n",
		len(pre.Files), humanBytes(pre.TotalSize))
	return nil
}
