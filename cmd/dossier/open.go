package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/custody"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/receipt"
)

type openOptions struct {
	readFlags
	Output      string
	Receipt     string
	AllowReopen bool
	// skipReopenCheck is set by the demo, which must not read or create
	// the user's custody log.
	skipReopenCheck bool
}

func newOpenCommand(g *globalOptions) *cobra.Command {
	o := &openOptions{}
	cmd := &cobra.Command{
		Use:   "open BUNDLE|- -i ID_FILE --from CARD -o DIR",
		Short: "Verify a bundle and unpack it into a new folder (a BagIt bag)",
		Long: `open checks everything verify checks and only then publishes the documents:
they are staged in a hidden folder beside DIR and renamed to DIR once every
signature and hash has matched. On any failure nothing appears and DIR is
left as it was. DIR must not exist or be empty.

DIR is a BagIt bag (RFC 8493): the documents under DIR/data, their SHA-256
in manifest-sha256.txt, the case metadata in bag-info.txt, and the sender's
signed manifest kept beside them so that 'dossier verify DIR --from CARD'
can re-check the folder years later.

A bundle that the custody log (under DOSSIER_HOME) records as already opened
on this machine is refused (exit 3): a second copy arriving is a likely
replay. Check with the sender; --allow-reopen opens it again, and the log
records it as reopened. An open of a bundle that another open on this
machine is opening right now waits for it to end, then checks.`,
		Example: `  dossier open case.dossier -i bob.id --from alice.card -o case-opened
  cat case.dossier | dossier open - -i bob.id --from alice.card -o case-opened`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOpen(cmd.Context(), g, o, args[0])
		},
	}
	cmd.Flags().StringVarP(&o.IdentityPath, "identity", "i", "", "your identity `FILE`")
	cmd.Flags().StringVar(&o.From, "from", "", "the expected sender's `CARD` file or contact name")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "the new folder `DIR` to open into")
	cmd.Flags().StringVar(&o.Receipt, "receipt", "", "write a signed receipt for the sender to `FILE`")
	cmd.Flags().StringVar(&o.SealPath, "seal", "", "the seal `FILE` (default: BUNDLE.minisig beside the bundle, checked if present)")
	cmd.Flags().BoolVar(&o.AllowReopen, "allow-reopen", false, "open a bundle the custody log records as already opened on this machine")
	return cmd
}

func runOpen(ctx context.Context, g *globalOptions, o *openOptions, target string) error {
	if o.Output == "" {
		return usagef("-o DIR is required: the new folder to open the bundle into")
	}
	if o.Output == "-" {
		return usagef("open writes a folder, not standard output: name a new folder (-o ./- for a folder called '-')")
	}
	if o.Receipt != "" {
		// The receipt's folder must exist now: one that appears only with
		// DIR (a link to it, another spelling of it on a caseless file
		// system) would put the receipt in the bag.
		if bundle.Within(o.Receipt, []string{o.Output}) || receiptInside(o.Receipt, o.Output) {
			return usagef("the receipt %s is inside the folder %s being opened, where it would spoil the bag; write it elsewhere", o.Receipt, o.Output)
		}
		if err := checkOutputFolder(o.Receipt); err != nil {
			return err
		}
		if _, err := os.Lstat(o.Receipt); err == nil {
			return fmt.Errorf("%w: the receipt file %s (choose another name)", bundle.ErrTargetExists, o.Receipt)
		}
	}
	if err := checkOutputFolder(o.Output); err != nil {
		return err
	}
	g.reportLeftovers(o.Output)
	if o.Receipt != "" {
		g.reportLeftovers(o.Receipt)
	}
	ev := g.begin("open")
	opts, err := g.readOptions(&o.readFlags, true)
	if err != nil {
		return err
	}
	ev.Counterparts = counterparts(opts.Sender)
	g.setActor(opts.Identity)
	in, err := g.openBundle(target, o.SealPath, opts.Sender)
	if err != nil {
		return err
	}
	defer in.Close()
	// The receipt's file is made first: once the documents are published,
	// opening the bundle again for a receipt is refused as a replay.
	var pendingReceipt *receipt.Pending
	if o.Receipt != "" {
		if pendingReceipt, err = receipt.Reserve(o.Receipt); err != nil {
			return err
		}
		defer pendingReceipt.Abort()
	}
	bar := g.newProgress("opening", -1)
	opts.Progress = bar.update
	var reopened *custody.Entry
	opts.Accept = func(p *manifest.Preamble) error {
		// The preamble is proven: its id is the sender's.
		ev.BundleID = p.BundleID
		if o.skipReopenCheck {
			return nil
		}
		// Another open of this bundle running now is found in the log
		// once it has ended: wait for it, then check.
		if err := g.reserveOpen(ctx, p.BundleID); err != nil {
			return err
		}
		prev, err := previousOpen(ctx, p.BundleID)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && (o.AllowReopen || !errors.Is(err, custody.ErrBroken)):
			// A log that cannot be read is a warning, like one that cannot
			// be written; a log that was altered is not.
			g.warn("could not check whether bundle %s was opened here before: %s\n", p.BundleID, oneLine(err.Error()))
			return nil
		case err != nil:
			return fmt.Errorf("cannot check whether bundle %s was already opened on this machine: %w (pass --allow-reopen to open it anyway)", p.BundleID, err)
		case prev == nil:
			return nil
		case o.AllowReopen:
			reopened = prev
			return nil
		}
		return &bundle.VerifyError{Msg: fmt.Sprintf(
			"bundle %s was already opened on this machine at %s (custody log entry %d): a copy arriving again may be a replay; check with the sender, and pass --allow-reopen to open it again",
			p.BundleID, prev.Time, prev.Seq)}
	}
	expectSealed(in.src, &opts)
	res, err := bundle.Open(ctx, in, o.Output, opts)
	bar.finish()
	if err != nil {
		return g.explainWithSeals(ctx, err, in.src, opts.Sender)
	}
	ev.BundleID, ev.BundleHash = res.Preamble.BundleID, hexDigest(in.digest())
	g.warnRecipients(res)
	var details []string
	if reopened != nil {
		details = append(details, fmt.Sprintf("reopened (first opened %s, custody log entry %d)", reopened.Time, reopened.Seq))
	}
	if o.Receipt != "" {
		if receiptInside(o.Receipt, o.Output) {
			return fmt.Errorf("the bundle was opened into %s, but the receipt was not written: %s is inside that folder, where it would spoil the bag; write it elsewhere with 'dossier open --allow-reopen … --receipt FILE'", o.Output, o.Receipt)
		}
		if err := writeReceipt(g, pendingReceipt, opts, res, in.digest()); err != nil {
			return fmt.Errorf("the bundle was opened into %s, but the receipt could not be written: %w; for a receipt, open it again into a new folder with 'dossier open --allow-reopen … --receipt FILE'", o.Output, err)
		}
		details = append(details, "receipt written to "+o.Receipt)
	}
	ev.Detail = strings.Join(details, "; ")
	if g.JSON {
		doc := bundleJSON(res, map[string]any{"ok": true, "path": target, "output": o.Output, "receipt": o.Receipt, "reopened": reopened != nil})
		if !res.Streamed {
			doc["files"] = res.Manifest.Files
			return g.printJSON(doc)
		}
		// The list was not held: it is read back from the bag, where
		// open kept the signed manifest, checked, and then written as
		// it is read again.
		kept := filepath.Join(o.Output, bundle.BagManifestName)
		if err := checkKeptFiles(kept, res.ManifestSHA256, res.FileCount); err != nil {
			return fmt.Errorf("the bundle was opened into %s, but its file list could not be read back for --json: %w; check the folder with 'dossier verify %s --from CARD'", o.Output, err, o.Output)
		}
		return g.printJSONWithFiles(doc, keptFiles(kept))
	}
	if reopened != nil {
		g.warn("bundle %s was already opened on this machine at %s; opened again (--allow-reopen)\n", res.Preamble.BundleID, reopened.Time)
	}
	pre := res.Preamble
	if g.Quiet {
		return nil
	}
	w := g.stdout
	g.say("opened bundle %s from %s\n", pre.BundleID, senderLine(pre.Sender, true))
	printCase(w, &pre.Case)
	g.say("%s (%s) verified and written to %s/data\n", plural(res.FileCount, "document"), humanBytes(pre.TotalSize), o.Output)
	printSummary(w, res.Categories)
	if o.Receipt != "" {
		g.say("receipt for the sender: %s\n", o.Receipt)
	}
	g.say("re-check later with: dossier verify %s --from CARD\n", o.Output)
	return nil
}

// writeReceipt signs a receipt for an opened bundle and writes it without
// replacing anything.
func writeReceipt(g *globalOptions, to *receipt.Pending, opts bundle.ReadOptions, res *bundle.Result, bundleDigest []byte) error {
	r, err := receipt.New(opts.Identity.Key, opts.Identity.Card, res.Manifest, res.FileCount, res.ManifestSHA256[:], bundleDigest, receipt.ResultOpened, g.now())
	if err != nil {
		return err
	}
	data, err := r.Marshal()
	if err != nil {
		return err
	}
	return to.Write(data)
}

// receiptInside reports whether the file receipt would land inside the
// folder dir, as the file system resolves it: one of the receipt's
// folders is dir itself (through a link, or spelled otherwise on a
// caseless file system). It is false while dir does not exist.
func receiptInside(receipt, dir string) bool {
	target, err := os.Stat(dir)
	if err != nil {
		return false
	}
	abs, err := filepath.Abs(receipt)
	if err != nil {
		return false
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && os.SameFile(st, target) {
			return true
		}
		if filepath.Dir(p) == p {
			return false
		}
	}
}
