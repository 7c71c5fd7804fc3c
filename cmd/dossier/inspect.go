package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

func newInspectCommand(g *globalOptions) *cobra.Command {
	f := &readFlags{}
	cmd := &cobra.Command{
		Use:   "inspect BUNDLE|- -i ID_FILE [--from CARD]",
		Short: "Show a bundle's case metadata, category summary and file list",
		Long: `inspect decrypts and checks only the bundle's signed preamble, so it is quick
whatever the bundle's size: who sent it and to whom, the case metadata, the
files per category and the file list with sizes. Without --from the sender
is shown as claimed, not confirmed. inspect does not check file hashes or
the rest of the bundle; use verify or open for that.`,
		Example: `  dossier inspect case.dossier -i bob.id --from alice.card`,
		Args:    exactArgs(1, "name the bundle to inspect (or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.Context(), g, f, args[0])
		},
	}
	cmd.Flags().StringVarP(&f.IdentityPath, "identity", "i", "", "your identity `FILE`")
	cmd.Flags().StringVar(&f.From, "from", "", "the expected sender's `CARD` file or contact name (confirms the sender)")
	return cmd
}

func runInspect(ctx context.Context, g *globalOptions, f *readFlags, target string) error {
	ev := g.begin("inspect")
	opts, err := g.readOptions(f, false)
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
	res, err := bundle.Inspect(ctx, in, opts)
	if err != nil {
		return err
	}
	ev.BundleID = res.Preamble.BundleID
	g.warnRecipients(res)
	pre := res.Preamble
	if g.JSON {
		return g.printJSON(bundleJSON(res, map[string]any{"path": target, "files": pre.Files}))
	}
	w := g.stdout
	fmt.Fprintf(w, "bundle:     %s (format v%d, created %s)\n", pre.BundleID, pre.Version, pre.Created)
	fmt.Fprintf(w, "sender:     %s\n", senderLine(pre.Sender, res.SenderConfirmed))
	for _, r := range pre.Recipients {
		fp, _ := card.ParseFingerprintHex(r.Fingerprint)
		label := r.Name
		if r.Org != "" {
			label += " (" + r.Org + ")"
		}
		fmt.Fprintf(w, "recipient:  %s [%s]\n", oneLine(label), fp)
	}
	printCase(w, &pre.Case)
	fmt.Fprintf(w, "files:      %d (%s)\n", len(pre.Files), humanBytes(pre.TotalSize))
	printSummary(w, manifest.Summary(pre.Files))
	fmt.Fprintln(w, "file list:")
	for _, file := range pre.Files {
		fmt.Fprintf(w, "  %10s  %-40s %s\n", humanBytes(file.Size), oneLine(file.Path), file.Categories)
	}
	if !res.SenderConfirmed {
		g.warn("the sender is not confirmed: pass --from CARD\n")
		if e, held := impersonatedContact(pre.Sender); e != nil {
			g.warn("the claimed sender's name %q reads as your contact %q, but that contact is the key %s and this sender claims the key %s: this may be an impersonation; check with --from %s\n",
				pre.Sender.Name, e.Name, held, pre.Sender.Fingerprint(), shellQuote(e.Name))
		}
	}
	return nil
}
