package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/seal"
	"github.com/dossier-evidence/dossier/pkg/volume"
)

// readFlags are the flags shared by the commands that read bundles.
type readFlags struct {
	IdentityPath string
	From         string
	SealPath     string
}

// bundleInput is an opened bundle: its bytes, where they come from, and
// their BLAKE2b-512 once read to the end (for receipts and the custody log).
type bundleInput struct {
	io.ReadCloser
	src    *volume.Source // nil for standard input
	digest func() []byte
	ra     io.Closer // the random-access handles given out, if any
}

// RandomAccess offers the bundle's files for random access (see
// bundle.RandomAccess) when every one is a regular file: a pipe or a
// device can be read only once.
func (in *bundleInput) RandomAccess() (io.ReaderAt, int64, bool) {
	if in.src == nil || in.ra != nil {
		return nil, 0, false
	}
	for _, p := range in.src.Paths {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			return nil, 0, false
		}
	}
	ra, size, closer, err := in.src.ReaderAt()
	if err != nil {
		return nil, 0, false // the in-order read reports it
	}
	in.ra = closer
	return ra, size, true
}

// Close closes the bundle's files.
func (in *bundleInput) Close() error {
	err := in.ReadCloser.Close()
	if in.ra != nil {
		if cerr := in.ra.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// openBundle opens BUNDLE (a file, or the first volume of a split bundle),
// or standard input for "-". When sender is given and seals are found
// beside the files, each file is checked against its seal as it is read.
func (g *globalOptions) openBundle(name, sealPath string, sender *card.Card) (*bundleInput, error) {
	if name == "-" {
		h := seal.NewHasher()
		return &bundleInput{ReadCloser: io.NopCloser(io.TeeReader(g.stdin, h)), digest: func() []byte { return h.Sum(nil) }}, nil
	}
	src, err := discoverBundle(name, sealPath)
	if err != nil {
		return nil, err
	}
	r := src.Open(sender)
	return &bundleInput{ReadCloser: r, src: src, digest: r.Digest}, nil
}

// discoverBundle finds the file or volumes of the bundle name
// (volume.Discover), saying what to do when that fails.
func discoverBundle(name, sealPath string) (*volume.Source, error) {
	src, err := volume.Discover(name, sealPath)
	switch {
	case err == nil:
		return src, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("open bundle: %w", err)
	case errors.Is(err, volume.ErrSealForSet):
		return nil, usagef("--seal is for a single-file bundle: %s is split, and each volume's seal is read from beside it (NAME.001.minisig, …); leave --seal out", name)
	}
	return nil, err
}

// explainWithSeals improves an integrity failure of a sealed volume set:
// decryption fails at the first damaged chunk, which says nothing about
// which stick is wrong, so the volumes are checked against their seals to
// name the culprit. It does the same for a sealed bundle its reader could
// not decrypt (see below). It costs a second read, but only after a failure, and
// an interrupt ends it.
func (g *globalOptions) explainWithSeals(ctx context.Context, err error, src *volume.Source, sender *card.Card) error {
	if err == nil || src == nil || !src.Sealed() || sender == nil {
		return err
	}
	// An age header that does not decrypt with the identity reads as "not
	// addressed to you" (exit 4), for a single file too: if the seal finds
	// the bytes changed, that is what happened (exit 3), and a recipient
	// must not set tampered evidence aside as someone else's.
	noIdentity := errors.Is(err, bundle.ErrNoIdentity)
	var ve *bundle.VerifyError
	if !noIdentity && (!src.Split || !errors.As(err, &ve)) {
		return err
	}
	// A second read of the whole bundle, after the failure, shown as it
	// takes as long as reading the bundle does.
	if _, serr := g.checkSeals(ctx, src, sender); serr != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return serr
	}
	return err
}

// checkSeals checks every file of src against its seal and the sender
// (volume.Source.VerifySeals), with a progress bar over their bytes, and
// returns how many bytes that was.
func (g *globalOptions) checkSeals(ctx context.Context, src *volume.Source, sender *card.Card) (int64, error) {
	var total, done int64
	for _, p := range src.Paths {
		if st, err := os.Stat(p); err == nil {
			total += st.Size()
		}
	}
	bar := g.newProgress("checking seal", total)
	err := src.VerifySeals(ctx, sender, func(n int64) { done += n; bar.update(done, total) })
	bar.finish()
	return total, err
}

// expectSealed makes the read require the bundle id the seals state.
func expectSealed(src *volume.Source, opts *bundle.ReadOptions) {
	if src != nil && src.Sealed() {
		opts.BundleID = src.BundleID()
	}
}

// readOptions loads the identity and sender card named by the flags.
func (g *globalOptions) readOptions(f *readFlags, senderRequired bool) (bundle.ReadOptions, error) {
	var opts bundle.ReadOptions
	if senderRequired && f.From == "" {
		return opts, usagef("--from CARD is required: the card of the sender you expect")
	}
	if f.From != "" {
		c, err := loadCard(f.From)
		if err != nil {
			return opts, err
		}
		opts.Sender = c
	}
	id, err := g.loadIdentity(f.IdentityPath)
	if err != nil {
		return opts, err
	}
	opts.Identity = id
	preambleSize := 0
	opts.Signed = func(size int) {
		preambleSize = size
		makeRoomForPreamble(size)
	}
	opts.Proven = func(p *manifest.Preamble, files int) { setReadLimitFor(p, files, preambleSize) }
	return opts, nil
}

// bundleJSON is the common JSON shape describing a verified bundle.
// partyJSON is a party (a sender, a recipient) in --json output. "org" is
// always there, "" for a card without one: the signed manifest leaves it
// out then, and a script should not have to tell the two apart.
type partyJSON struct {
	Fingerprint string `json:"fingerprint"`
	Name        string `json:"name"`
	Org         string `json:"org"`
}

func jsonParty(p manifest.Party) partyJSON {
	return partyJSON{Fingerprint: p.Fingerprint, Name: p.Name, Org: p.Org}
}

func jsonParties(ps []manifest.Party) []partyJSON {
	out := make([]partyJSON, len(ps))
	for i, p := range ps {
		out[i] = jsonParty(p)
	}
	return out
}

func bundleJSON(res *bundle.Result, extra map[string]any) map[string]any {
	pre := res.Preamble
	out := map[string]any{
		"bundle_id":        pre.BundleID,
		"format_version":   pre.Version,
		"created":          pre.Created,
		"sender":           jsonParty(manifest.PartyOf(pre.Sender)),
		"sender_confirmed": res.SenderConfirmed,
		"recipients":       jsonParties(pre.Recipients),
		"case":             pre.Case,
		"file_count":       res.FileCount,
		"bytes":            pre.TotalSize,
		"categories":       res.Categories,
		// Recipients the bundle is encrypted to beyond the signed list,
		// and named in it beyond those encrypted to (0 for a bundle
		// dossier packs).
		"unlisted_recipients":    res.UnlistedRecipients,
		"unreachable_recipients": res.UnreachableRecipients,
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// warnRecipients says when a bundle is encrypted to more recipients than
// its signed list names (someone not named can decrypt it) or to fewer
// (someone named cannot), which only its sender can have arranged (the
// encryption header is signed).
func (g *globalOptions) warnRecipients(res *bundle.Result) {
	if n := res.UnlistedRecipients; n > 0 {
		g.warn("the bundle is encrypted to %s than the %s its sender signed for: someone not named in it can decrypt it too; ask the sender who, and report it if the transfer must stay between the parties named\n",
			plural(n, "more recipient"), plural(len(res.Preamble.Recipients), "recipient"))
	}
	if n := res.UnreachableRecipients; n > 0 {
		listed := len(res.Preamble.Recipients)
		g.warn("the bundle names %s but is encrypted to only %d: at least %d of them cannot decrypt it; do not count on every party listed having a copy, and ask the sender to pack it again for them\n",
			plural(listed, "recipient"), listed-n, n)
	}
}

func senderLine(c *card.Card, confirmed bool) string {
	if confirmed {
		return oneLine(c.Label()) + " (signature verified against --from)"
	}
	// The warning comes first: what the card says after it is the
	// stranger's, who may make it read like the line above.
	return "UNCONFIRMED (pass --from CARD to check who sent it): " + oneLine(c.Label())
}

// printCase prints the case metadata, escaped for the terminal.
func printCase(w io.Writer, c *manifest.Case) {
	row := func(label, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-22s %s\n", label+":", oneLine(v))
		}
	}
	row("case", c.Reference)
	row("requesting authority", c.RequestingAuthority)
	row("requested authority", c.RequestedAuthority)
	row("legal basis", c.LegalBasis)
	row("purpose", c.Purpose)
	for _, r := range c.Restrictions {
		row("handling restriction", r)
	}
	row("retain until", c.RetainUntil)
	row("policy override", c.PolicyOverride)
}
