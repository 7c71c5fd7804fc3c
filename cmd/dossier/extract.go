package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/seal"
)

type extractOptions struct {
	readFlags
	Output string
	Force  bool
}

func newExtractCommand(g *globalOptions) *cobra.Command {
	o := &extractOptions{}
	cmd := &cobra.Command{
		Use:   "extract BUNDLE -i ID_FILE --from CARD PATH_IN_BUNDLE -o FILE",
		Short: "Take one document out of a bundle without decrypting the rest",
		Long: `extract decrypts and decompresses only what it needs to give you one document:
the end of the bundle (seek table and the sender's signed manifest) and the
frames holding the document, so it takes about the same time whatever the
bundle's size.

It proves that the manifest is signed by --from, names you as a recipient
and this exact encryption header, that every encrypted chunk it read is
authentic, and that the document matches its signed SHA-256. It does NOT
check the parts of the bundle it did not read: run 'dossier verify' or
'dossier open' for the whole bundle. The document is written to a temporary
beside FILE (mode 0600) and renamed only once its hash has matched.`,
		Example: `  dossier extract case.dossier -i bob.id --from alice.card case/interviews/witness.txt -o witness.txt`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExtract(cmd.Context(), g, o, args[0], args[1])
		},
	}
	cmd.Flags().StringVarP(&o.IdentityPath, "identity", "i", "", "your identity `FILE`")
	cmd.Flags().StringVar(&o.From, "from", "", "the expected sender's `CARD` file or contact name")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the document to `FILE`")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace FILE if it exists")
	return cmd
}

func runExtract(ctx context.Context, g *globalOptions, o *extractOptions, target, name string) error {
	if o.Output == "" {
		return usagef("-o FILE is required: where to write the document")
	}
	if o.Output == "-" {
		return usagef("extract cannot write to standard output: it hands the document over only once its SHA-256 matched; name a file (-o ./- for a file called '-')")
	}
	if target == "-" {
		return usagef("extract needs a bundle file for random access; to read standard input use open")
	}
	// The name as stored paths are written: NFC, no leading "./", and
	// slashes for Windows' backslashes.
	name = category.NormalizeGlob(filepath.ToSlash(name))
	if err := refuseReplacingInputs([]string{o.Output}, o.IdentityPath, o.From, g.PassphraseFile); err != nil {
		return err
	}
	collectOnlyAtLimit()
	if err := checkOutputFolder(o.Output); err != nil {
		return err
	}
	g.reportLeftovers(o.Output)
	ev := g.begin("extract")
	opts, err := g.readOptions(&o.readFlags, true)
	if err != nil {
		return err
	}
	ev.Counterparts = counterparts(opts.Sender)
	g.setActor(opts.Identity)
	src, err := discoverBundle(target, o.SealPath)
	if err != nil {
		return err
	}
	// --force replaces FILE, never the bundle read or a seal beside it.
	if out, err := os.Stat(o.Output); err == nil {
		for _, p := range src.Paths {
			for _, name := range []string{p, p + seal.Ext} {
				if st, err := os.Stat(name); err == nil && os.SameFile(st, out) {
					what := o.Output + " is " + name + ", which extract reads"
					if filepath.Clean(o.Output) == filepath.Clean(name) {
						what = o.Output + " is a file extract reads"
					}
					return usagef("%s: write the document elsewhere", what)
				}
			}
		}
	}
	expectSealed(src, &opts)
	ra, size, closer, err := src.ReaderAt()
	if err != nil {
		return fmt.Errorf("open bundle: %w", err)
	}
	defer closer.Close()
	bar := g.newProgress("extracting", -1)
	opts.Progress = bar.update
	res, err := bundle.ExtractFile(ctx, ra, size, name, o.Output, o.Force, opts)
	bar.finish()
	if err != nil {
		return g.explainWithSeals(ctx, err, src, opts.Sender)
	}
	ev.BundleID = res.Manifest.BundleID
	ev.Detail = "extracted " + res.File.Path
	if g.JSON {
		return g.printJSON(map[string]any{
			"ok": true, "path": target, "bundle_id": res.Manifest.BundleID, "sender": jsonParty(res.Manifest.Sender),
			"file": res.File, "output": o.Output,
		})
	}
	g.say("extracted %s (%s, SHA-256 verified against the manifest signed by %s) to %s\n",
		oneLine(res.File.Path), humanBytes(res.File.Size), oneLine(opts.Sender.Label()), o.Output)
	g.say("only this document was checked; verify the whole bundle with: dossier verify %s --from CARD -i ID\n", target)
	return nil
}
