package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/custody"
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
	digest, err := bundleDigest(ctx, bundlePath)
	if err != nil {
		return err
	}
	if err := r.Matches(digest); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// The receipt's signature and digest prove who signed it and for
	// which bytes; the rest it only states. Where these bytes were packed,
	// this machine's custody log says which bundle they are and to whom
	// they went: a receipt from anyone else, or naming another bundle, is
	// refused.
	packed, logErr := packedHere(ctx, hexDigest(digest))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(logErr, custody.ErrBroken) {
		// An altered log could hide the pack that would refute this
		// receipt. (Open's replay check checks the log's chain, not its
		// signatures: it runs at every open.)
		return fmt.Errorf("%s: the custody log does not verify, so whether these bytes were packed here, and for whom, cannot be checked: %w; deal with the log as 'dossier log verify' says, then verify the receipt again", path, logErr)
	}
	if logErr != nil {
		g.warn("could not read the custody log to check the receipt against the pack: %s\n", oneLine(logErr.Error()))
	}
	if packed != nil {
		if packed.BundleID != r.BundleID {
			return fmt.Errorf("%s: %w: it names bundle %s, but these bytes are bundle %s (custody log entry %d): the receipt's statements are false", path, receipt.ErrInvalid, r.BundleID, packed.BundleID, packed.Seq)
		}
		if !slices.Contains(packed.Counterparts, r.Recipient.Fingerprint) {
			return fmt.Errorf("%s: %w: it is signed by %s, who was not a recipient of bundle %s (custody log entry %d names who was)", path, receipt.ErrInvalid, oneLine(recipient.Label()), packed.BundleID, packed.Seq)
		}
	}
	// The bytes are proven; the bundle id only where a pack here confirms
	// it. Otherwise the log keeps it as the receipt's statement.
	ev.BundleHash = hexDigest(digest)
	if packed != nil {
		ev.BundleID = packed.BundleID
	} else {
		ev.Detail = "bundle id " + r.BundleID + " as the receipt states it (no pack of these bytes in this log)"
	}
	if g.JSON {
		doc, err := receiptJSON(r)
		if err != nil {
			return err
		}
		out := map[string]any{"ok": true, "receipt": doc, "pack_entry": nil, "log_checked": logErr == nil}
		if packed != nil {
			out["pack_entry"] = packed.Seq
		}
		return g.printJSON(out)
	}
	fp, _ := card.ParseFingerprintHex(r.Recipient.Fingerprint)
	if packed != nil {
		g.say("OK: %s [%s], a recipient of bundle %s (custody log entry %d), received it on %s: %s (%s, %s)\n",
			oneLine(r.Recipient.Name), fp, r.BundleID, packed.Seq, r.Received, r.Result, plural(r.FileCount, "file"), humanBytes(r.TotalSize))
		return nil
	}
	g.say("OK: %s [%s] signed this receipt for exactly these bytes, stating that they are bundle %s (%s, %s), received on %s: %s\n",
		oneLine(r.Recipient.Name), fp, r.BundleID, plural(r.FileCount, "file"), humanBytes(r.TotalSize), r.Received, r.Result)
	why := "this machine's custody log has no pack of these bytes"
	if logErr != nil {
		why = "this machine's custody log could not be read"
	}
	g.say("    not checked: %s, so which bundle they are and that %s was a recipient rest on the receipt's word; check on the machine that packed it\n", why, oneLine(r.Recipient.Name))
	return nil
}

// receiptJSON is the receipt as its own JSON document, but with both
// parties as --json prints parties everywhere: "org" always there.
func receiptJSON(r *receipt.Receipt) (map[string]any, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	doc["sender"], doc["recipient"] = jsonParty(r.Sender), jsonParty(r.Recipient)
	return doc, nil
}

// packedHere returns the custody log's entry of the pack that wrote the
// bundle whose BLAKE2b-512 is hash (hex), or nil if this machine's log has
// none. A pack records the hash only of a complete bundle: one that
// succeeded, or whose seal alone failed after the bundle went to
// standard output (found by review: that pack was not found).
//
// The whole log is verified as it is read (its chain and every
// signature): an entry edited or removed anywhere, not only a torn last
// line, could hide the pack that refutes a receipt (found by an audit).
func packedHere(ctx context.Context, hash string) (*custody.Entry, error) {
	return findInLog(ctx, true, func(e *custody.Entry) bool {
		return e.Action == "pack" && e.BundleHash == hash
	})
}

// bundleDigest hashes a bundle file, or all volumes of a split bundle in
// order, with BLAKE2b-512. The seals beside it play no part: a damaged one
// must not fail the check of a receipt. It ends with ctx's error once
// ctx is done: an 8 GiB bundle takes seconds to hash, minutes from a USB
// stick (found by an audit: Ctrl-C was heard only at the end, and a
// receipt for other bytes then gave exit 3, not 130).
func bundleDigest(ctx context.Context, path string) ([]byte, error) {
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
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return h.Sum(nil), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
