package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/receipt"
	"github.com/dossier-evidence/dossier/pkg/seal"
	"github.com/dossier-evidence/dossier/pkg/volume"
)

func newReceiptCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "receipt",
		Short: "Check receipts that recipients sign when they open a bundle",
	}
	var from, bundlePath string
	verify := &cobra.Command{
		Use:   "verify FILE --from CARD --bundle BUNDLE",
		Short: "Check a receipt against the recipient's card and the bundle you sent",
		Long: `receipt verify checks that FILE was signed by the recipient whose card is
--from (both signature halves), and that it names exactly the bytes of
BUNDLE (its BLAKE2b-512, as b2sum prints it): proof that the recipient
received, verified and opened that bundle.`,
		Example: `  dossier receipt verify case.receipt --from bob.card --bundle case.dossier`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReceiptVerify(cmd.Context(), g, args[0], from, bundlePath)
		},
	}
	verify.Flags().StringVar(&from, "from", "", "the recipient's `CARD` file or contact name (who issued the receipt)")
	verify.Flags().StringVar(&bundlePath, "bundle", "", "the `BUNDLE` you sent (or its first volume)")
	cmd.AddCommand(verify)
	return cmd
}

func runReceiptVerify(ctx context.Context, g *globalOptions, path, from, bundlePath string) error {
	if from == "" {
		return usagef("--from CARD is required: the card of the recipient who issued the receipt")
	}
	if bundlePath == "" {
		return usagef("--bundle BUNDLE is required: the bundle you sent")
	}
	ev := g.begin("receipt-verify")
	recipient, err := loadCard(from)
	if err != nil {
		return err
	}
	ev.Counterparts = counterparts(recipient)
	data, err := readSmallFile(path, receipt.MaxSize)
	if err != nil {
		return fmt.Errorf("read receipt: %w", err)
	}
	r, err := receipt.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := r.Verify(recipient); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	digest, err := bundleDigest(bundlePath)
	if err != nil {
		return err
	}
	if err := r.Matches(digest); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	ev.BundleID, ev.BundleHash = r.BundleID, hexDigest(digest)
	if g.JSON {
		return g.printJSON(map[string]any{"ok": true, "receipt": r})
	}
	fp, _ := card.ParseFingerprintHex(r.Recipient.Fingerprint)
	g.say("OK: %s [%s] received bundle %s (%s, %s) on %s: %s\n",
		oneLine(r.Recipient.Name), fp, r.BundleID, plural(r.FileCount, "file"), humanBytes(r.TotalSize), r.Received, r.Result)
	return nil
}

// bundleDigest hashes a bundle file, or all volumes of a split bundle in
// order, with BLAKE2b-512. The seals beside it play no part: a damaged one
// must not fail the check of a receipt.
func bundleDigest(path string) ([]byte, error) {
	src, err := volume.DiscoverFiles(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open bundle: %w", err)
		}
		return nil, err
	}
	r := src.Open(nil)
	defer r.Close()
	h := seal.NewHasher()
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
