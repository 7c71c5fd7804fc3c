package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/seal"
	"github.com/dossier-evidence/dossier/pkg/volume"
)

type packOptions struct {
	// specReplaced says which of the spec's lists a flag replaced.
	specReplaced []string

	IdentityPath        string
	Recipients          []string
	Output              string
	Force               bool
	Case                string
	Purpose             string
	LegalBasis          string
	RequestingAuthority string
	RequestedAuthority  string
	Restrictions        []string
	RetainUntil         string
	Categories          []string
	DefaultCategory     string
	Split               string
	Armor               bool
	SealPath            string
	Exclude             []string
	OverridePolicy      string
	DryRun              bool
	Format              int
	Spec                string
}

// olderFormats names the bundle formats pack writes for receivers whose
// dossier predates the current one.
const olderFormats = "2 or 1"

func newPackCommand(g *globalOptions) *cobra.Command {
	o := &packOptions{}
	cmd := &cobra.Command{
		Use:   "pack -i ID_FILE -r CARD [-r CARD]... -o OUT|- [flags] PATH...",
		Short: "Pack files into a signed, encrypted bundle",
		Long: `pack signs, compresses and encrypts files for one or more recipients.

A folder is stored under its own base name, as tar does. Every file needs at
least one data category: --category CAT=GLOB labels the files whose stored
path matches GLOB ('*' within a folder, '**' across folders); a file gets every
category whose glob matches, and --default-category labels the rest.
--exclude GLOB leaves out the files and folders it matches.
Categories: ` + strings.Join(categoryIDs(), ", ") + `.

A recipient whose card lists the categories it accepts does not get files of
other categories: pack refuses, naming file, category and recipient, unless
--override-policy REASON is given; the reason is then recorded in the signed
manifest. A CARD may be a contact's name (see 'dossier contacts').

--spec FILE reads all of this from a TOML transfer spec; flags given on the
command line win over the spec. --dry-run (or 'dossier plan') shows what
would be sent, per category, and writes nothing.

The bundle is written under a temporary name and renamed to OUT only when it
is complete; OUT is never overwritten unless --force is given. With -o - the
bundle is written to standard output.`,
		Example: `  dossier pack -i alice.id -r bob.card -o case.dossier --case MLA-2026-077 \
      --purpose "Asset recovery" --legal-basis "UNCAC Art. 46" \
      --category 'personal=case/interviews/**' --default-category law-enforcement case
  dossier pack --spec case.toml --dry-run
  dossier pack --spec case.toml -o case.dossier`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Where JSON and warnings go is known before the spec is read
			// (its errors and warnings must not reach a bundle stream or
			// the JSON on stderr), and again after (it may set output).
			g.stdoutIsData = o.Output == "-" && !o.DryRun
			err := o.complete(cmd.Flags().Changed, &args)
			g.stdoutIsData = o.Output == "-" && !o.DryRun
			if err != nil {
				return err
			}
			for _, r := range o.specReplaced {
				g.warn("%s\n", r)
			}
			return runPack(cmd.Context(), g, o, args)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.DryRun, "dry-run", "n", false, "show what would be sent (as 'dossier plan' does) and write nothing")
	return cmd
}

// addFlags registers pack's flags, which plan shares.
func (o *packOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.IdentityPath, "identity", "i", "", "your identity `FILE` (signs the bundle)")
	f.StringArrayVarP(&o.Recipients, "recipient", "r", nil, "a recipient's `CARD` file or contact name (repeatable)")
	f.StringVarP(&o.Output, "output", "o", "", "write the bundle to `OUT` (- for standard output)")
	f.BoolVar(&o.Force, "force", false, "replace OUT if it exists")
	f.StringVar(&o.Case, "case", "", "case `REF`erence")
	f.StringVar(&o.Purpose, "purpose", "", "purpose of the transfer")
	f.StringVar(&o.LegalBasis, "legal-basis", "", "legal basis of the transfer")
	f.StringVar(&o.RequestingAuthority, "requesting-authority", "", "the authority that asked for the evidence")
	f.StringVar(&o.RequestedAuthority, "requested-authority", "", "the authority that provides it")
	f.StringArrayVar(&o.Restrictions, "restriction", nil, "a handling restriction, e.g. \"no onward transfer without consent\" (repeatable)")
	f.StringVar(&o.RetainUntil, "retain-until", "", "retain-until `DATE` (YYYY-MM-DD)")
	f.StringArrayVar(&o.Categories, "category", nil, "label files: `CAT=GLOB` (repeatable)")
	f.StringVar(&o.DefaultCategory, "default-category", "", "category `CAT` for files no --category matches (comma-separated for several)")
	f.StringArrayVar(&o.Exclude, "exclude", nil, "leave out the files and folders whose stored path matches `GLOB` (repeatable)")
	f.StringVar(&o.OverridePolicy, "override-policy", "", "send files a recipient's card does not accept, recording `REASON` in the signed manifest")
	f.StringVar(&o.Split, "split", "", "cut the bundle into volumes of `SIZE` (e.g. 4G, 700M, 2GiB) named OUT.001, OUT.002, …")
	f.BoolVar(&o.Armor, "armor", false, "write age's ASCII armor, for text-only channels")
	f.StringVar(&o.SealPath, "seal", "", "with -o -, write the seal to `FILE` (a file bundle's seal is always OUT.minisig)")
	f.StringVar(&o.Spec, "spec", "", "read the transfer from the TOML spec `FILE`; flags given explicitly win")
	f.IntVar(&o.Format, "format", manifest.FormatVersion, fmt.Sprintf("bundle format `N` to write: %d, or %s for a receiver whose dossier predates it", manifest.FormatVersion, olderFormats))
}

// complete applies the spec file, if any, under the flags that were given
// explicitly, and checks what flag parsing cannot.
func (o *packOptions) complete(changed func(flag string) bool, args *[]string) error {
	if changed("override-policy") && strings.TrimSpace(o.OverridePolicy) == "" {
		return usagef("--override-policy needs a reason, recorded in the signed manifest (e.g. --override-policy \"court order 2026/114\")")
	}
	if changed("format") && !manifest.Supported(o.Format) {
		return usagef("--format %d: dossier writes format %d, or %s for a receiver whose dossier predates it", o.Format, manifest.FormatVersion, olderFormats)
	}
	if o.Spec == "" {
		return nil
	}
	s, err := loadSpec(o.Spec)
	if err != nil {
		return err
	}
	return s.apply(o, changed, args)
}

func categoryIDs() []string {
	var out []string
	for _, id := range category.All() {
		out = append(out, string(id))
	}
	return out
}

// packInputs is what pack and plan make of the options.
type packInputs struct {
	rules      category.Rules
	defaults   []category.ID
	mcase      manifest.Case
	recipients []*card.Card
	split      int64
}

// prepare checks the options that pack and plan share and loads the
// recipients' cards.
func prepare(o *packOptions) (*packInputs, error) {
	in := &packInputs{}
	for _, s := range o.Categories {
		r, err := category.ParseRule(s)
		if err != nil {
			return nil, err
		}
		in.rules = append(in.rules, r)
	}
	if o.DefaultCategory != "" {
		var err error
		if in.defaults, err = category.ParseList(o.DefaultCategory); err != nil {
			return nil, err
		}
	}
	for _, x := range o.Exclude {
		if !validExclude(x) {
			return nil, usagef("--exclude %q is not a glob like 'case/drafts/**' or '**/*.tmp'", x)
		}
	}
	in.mcase = manifest.Case{
		Reference:           o.Case,
		RequestingAuthority: o.RequestingAuthority,
		RequestedAuthority:  o.RequestedAuthority,
		LegalBasis:          o.LegalBasis,
		Purpose:             o.Purpose,
		Restrictions:        o.Restrictions,
		RetainUntil:         o.RetainUntil,
	}
	if o.RetainUntil != "" {
		if _, err := time.Parse("2006-01-02", o.RetainUntil); err != nil {
			return nil, usagef("--retain-until %q is not a date like 2031-12-31", o.RetainUntil)
		}
	}
	probe := in.mcase
	probe.PolicyOverride = o.OverridePolicy
	if err := probe.Check(); err != nil {
		return nil, &usageError{err}
	}
	for _, r := range o.Recipients {
		c, err := loadCard(r)
		if err != nil {
			return nil, err
		}
		in.recipients = append(in.recipients, c)
	}
	if o.Split != "" {
		var err error
		if in.split, err = parseSize(o.Split); err != nil {
			return nil, err
		}
		if in.split < bundle.MinVolumeSize {
			return nil, usagef("--split %s is too small: volumes must be at least %d bytes", o.Split, bundle.MinVolumeSize)
		}
	}
	return in, nil
}

func runPack(ctx context.Context, g *globalOptions, o *packOptions, paths []string) error {
	// With -o - the bundle owns standard output: reports and errors go to
	// standard error.
	g.stdoutIsData = o.Output == "-" && !o.DryRun
	switch {
	case len(paths) == 0:
		return usagef("name at least one file or folder to pack (or 'paths' in the --spec file)")
	case o.Format != 0 && !manifest.Supported(o.Format):
		return usagef("bundle format %d (--format, or format in a spec): dossier writes format %d, or %s for a receiver whose dossier predates it", o.Format, manifest.FormatVersion, olderFormats)
	case o.DryRun:
	case o.IdentityPath == "":
		return usagef("no identity given: pass -i ID_FILE (made by 'dossier keygen')")
	case len(o.Recipients) == 0:
		return usagef("no recipients: pass -r CARD (a card file or contact name) for each recipient")
	case o.Output == "":
		return usagef("no output: pass -o OUT (or -o - for standard output)")
	}
	in, err := prepare(o)
	if err != nil {
		return err
	}
	toStdout := o.Output == "-"
	if toStdout && in.split > 0 {
		return usagef("--split needs a file name: it writes OUT.001, OUT.002, …; it cannot split standard output")
	}
	if toStdout && o.SealPath != "" {
		if _, err := os.Lstat(o.SealPath); err == nil {
			return fmt.Errorf("%w: the seal file %s (choose another name; nothing was replaced)", bundle.ErrTargetExists, o.SealPath)
		}
	}
	if !toStdout && o.SealPath != "" {
		return usagef("--seal is for -o -: a file bundle's seal is always written beside it as OUT.minisig")
	}
	if o.Output != "" && !toStdout && bundle.Within(o.Output, paths) {
		return usagef("the output %s is inside the files being packed; write it elsewhere", o.Output)
	}
	outputs := []string{o.Output, o.SealPath}
	if !toStdout {
		outputs = append(outputs, o.Output+seal.Ext)
		outputs = append(outputs, volume.ExistingVolumes(o.Output)...)
	}
	if err := refuseReplacingInputs(outputs, append([]string{o.IdentityPath, o.Spec, g.PassphraseFile}, o.Recipients...)...); err != nil {
		return err
	}
	// A folder that is not there fails now, not after the plan and the
	// passphrase.
	for _, out := range []string{o.Output, o.SealPath} {
		if out == "" || out == "-" || o.DryRun {
			continue
		}
		if err := checkOutputFolder(out); err != nil {
			return err
		}
	}
	liftMemoryLimit()
	if o.DryRun {
		plan, err := bundle.MakePlanContext(ctx, paths, in.rules, in.defaults, o.Exclude...)
		var unlabelled *bundle.UnlabelledError
		if err != nil && !errors.As(err, &unlabelled) {
			return err
		}
		return g.reportPlan(ctx, o, plan, in)
	}
	if toStdout {
		if f, ok := g.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return usagef("refusing to write a binary bundle to a terminal: redirect standard output or use -o FILE")
		}
	}
	// Logged from here on, a refused input too: only usage errors are not.
	ev := g.begin("pack")
	ev.Counterparts = counterparts(in.recipients...)
	// The plan's list is kept on disk, encrypted, not in memory (some 165
	// bytes a file): beside the bundle, on the disk that must hold it
	// anyway, or in the temporary folder for standard output.
	spoolDir := ""
	if !toStdout {
		spoolDir = filepath.Dir(o.Output)
	}
	plan, err := bundle.SpoolPlan(ctx, spoolDir, paths, in.rules, in.defaults, o.Exclude...)
	if plan != nil {
		defer plan.Close()
	}
	var unlabelled *bundle.UnlabelledError
	if plan != nil && (err == nil || errors.As(err, &unlabelled)) {
		// Said first: such a rule may be why files have no category.
		p, notes := unusedGlobs(ctx, plan)
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, n := range notes {
			g.warn("%s\n", n)
		}
		if p != "" {
			return usagef("%s", p)
		}
	}
	if err != nil {
		return err
	}
	held := int64(0)
	if o.Format != 0 && o.Format < manifest.Version3 {
		// Formats 1 and 2 hold the preamble to sign it, and format 1
		// the manifest.
		held = int64(plan.Len()) * legacyHeldPerFile
	}
	setPackLimit(held)
	if err := plan.CheckPreambleSize(); err != nil {
		return err // before the key and its passphrase, as plan says
	}
	if plan.Len() == 0 && len(plan.Excluded) > 0 {
		return usagef("nothing left to pack: --exclude left out all %s; check the globs with 'dossier plan'", plural(len(plan.Excluded), "file"))
	}
	if plan.Len() == 0 {
		what := "the paths given hold"
		if len(paths) == 1 {
			what = "the path given holds"
		}
		g.warn("%s no file: the bundle carries the case's metadata alone; check the paths if you meant to send documents\n", what)
	}
	mcase := in.mcase
	found, err := findViolations(ctx, plan, in.recipients, policyShown)
	if err != nil {
		return err
	}
	if found.count > 0 {
		if o.OverridePolicy == "" {
			return &policyError{found}
		}
		mcase.PolicyOverride = o.OverridePolicy
		g.warn("sending %s that a recipient does not accept (--override-policy); the reason is recorded in the signed manifest\n", plural(found.files, "file"))
	} else if o.OverridePolicy != "" {
		g.warn("every recipient accepts every category being sent: --override-policy was not needed and is not recorded\n")
	}
	if !toStdout {
		g.reportPackLeftovers(o.Output)
	} else if o.SealPath != "" {
		g.reportLeftovers(o.SealPath)
	}
	recipients := in.recipients
	sender, err := g.loadIdentity(o.IdentityPath)
	if err != nil {
		return err
	}
	g.setActor(sender)
	bar := g.newProgress("packing", plan.TotalSize)
	opts := bundle.PackOptions{
		Sender:     sender,
		Recipients: recipients,
		Case:       mcase,
		Now:        g.now,
		Progress:   bar.update,
	}
	opts.Armor = o.Armor
	opts.FormatVersion = o.Format
	var res *bundle.FileResult
	if toStdout {
		res, err = g.packToStdout(ctx, o, plan, opts)
	} else {
		res, err = bundle.PackFile(ctx, o.Output, bundle.FileOptions{Overwrite: o.Force, Split: in.split}, plan, opts)
	}
	bar.finish()
	if res != nil {
		// Complete, if not sealed: the log keeps what went out.
		ev.BundleID, ev.BundleHash = res.Manifest.BundleID, hexDigest(res.Digest)
	}
	if err != nil {
		return err
	}
	return g.reportPack(o, res, plan, recipients)
}

// packToStdout streams the bundle to standard output, hashing it on the
// way so that a seal can be written to --seal FILE.
func (g *globalOptions) packToStdout(ctx context.Context, o *packOptions, plan *bundle.Plan, opts bundle.PackOptions) (*bundle.FileResult, error) {
	// A reader that stops early (| head) must not kill pack with SIGPIPE,
	// silently and unlogged: the write fails instead, and pack says so.
	signal.Ignore(syscall.SIGPIPE)
	// The seal's file is made first: once the bundle has gone out, a
	// seal that cannot be written cannot be had without packing again.
	var pending *seal.Pending
	if o.SealPath != "" {
		var err error
		if pending, err = seal.Reserve(o.SealPath); err != nil {
			return nil, err
		}
		defer pending.Abort()
	}
	h := seal.NewHasher()
	out := &countingWriter{w: g.stdout}
	man, err := bundle.Pack(ctx, io.MultiWriter(out, h), plan, opts)
	if brokenPipe(err) {
		return nil, fmt.Errorf("the program reading standard output stopped before the bundle was complete, so what it got is unusable; pack again into a file with -o FILE, or to a reader that takes it all: %w", err)
	}
	if err != nil && out.n > 0 {
		// A file the shell made of standard output is not removed by
		// pack, and looks like a bundle.
		return nil, &partialOutputError{err: err, n: out.n}
	}
	if err != nil {
		return nil, err
	}
	res := &bundle.FileResult{Manifest: man, Paths: []string{"-"}, Digest: h.Sum(nil)}
	if o.SealPath == "" {
		return res, nil
	}
	data, err := seal.Sign(opts.Sender.Key, opts.Sender.Card, h.Sum(nil), seal.Info{BundleID: man.BundleID})
	if err != nil {
		return res, fmt.Errorf("the bundle on standard output is complete (bundle %s, %s) and can be verified and opened, but its seal was not made: %w", man.BundleID, humanBytes(out.n), err)
	}
	if err := pending.Write(data); err != nil {
		return res, fmt.Errorf("the bundle on standard output is complete (bundle %s, %s) and can be verified and opened, but its seal was not written: %w", man.BundleID, humanBytes(out.n), err)
	}
	return res, nil
}

// parseSize reads a volume size: a number of bytes with an optional unit,
// K/M/G/T in powers of 1000 (so 4G fits a FAT32 stick) or KiB/MiB/GiB/TiB
// in powers of 1024.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1},
	}
	num, mult := s, int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, usagef("--split %q is not a size like 4G, 700M or 2GiB", s)
	}
	return n * mult, nil
}

func (g *globalOptions) reportPack(o *packOptions, res *bundle.FileResult, plan *bundle.Plan, recipients []*card.Card) error {
	man := res.Manifest
	sum := plan.Summary() // the manifest's list was never held
	seals := []string{}   // a list in --json, even when empty
	for _, p := range res.Paths {
		if p != "-" {
			seals = append(seals, p+seal.Ext)
		}
	}
	if o.Output == "-" && o.SealPath != "" {
		seals = []string{o.SealPath}
	}
	if g.JSON {
		return g.printJSON(map[string]any{
			"bundle":         o.Output,
			"files":          res.Paths,
			"seals":          seals,
			"bundle_id":      man.BundleID,
			"format_version": man.Version,
			"created":        man.Created,
			"sender":         jsonParty(man.Sender),
			"recipients":     jsonParties(man.Recipients),
			"case":           man.Case,
			"file_count":     plan.Len(),
			"bytes":          man.TotalSize,
			"categories":     sum,
		})
	}
	w := g.stderr
	if o.Output != "-" {
		w = g.stdout
	}
	if g.Quiet {
		if o.Output == "-" && o.SealPath == "" {
			fmt.Fprintln(g.stderr, "dossier: note: no seal was written for standard output; pass --seal FILE for one")
		}
		return nil
	}
	fmt.Fprint(w, shownLine("packed %s (%s) into %s\n", plural(plan.Len(), "file"), humanBytes(man.TotalSize), o.Output))
	if len(res.Paths) > 1 {
		fmt.Fprint(w, shownLine("volumes: %s … %s (%d; join them with cat to get the single-file bundle)\n", res.Paths[0], res.Paths[len(res.Paths)-1], len(res.Paths)))
	} else if len(res.Paths) == 1 && res.Paths[0] != o.Output && o.Output != "-" {
		fmt.Fprint(w, shownLine("volume: %s (the bundle fits in one)\n", res.Paths[0]))
	}
	switch {
	case len(seals) == 1:
		target := res.Paths[0] // OUT, or OUT.001 for a split into one volume
		if o.Output == "-" {
			target = "BUNDLE --seal " + seals[0]
		}
		fmt.Fprint(w, shownLine("seal: %s (a courier checks it with: dossier verify %s --from SENDER_CARD)\n", seals[0], target))
	case len(seals) > 1:
		fmt.Fprint(w, shownLine("seals: one per volume, %s … %s\n", seals[0], seals[len(seals)-1]))
	default:
		fmt.Fprintln(w, "seal: none was written for standard output; pass --seal FILE for one")
	}
	fmt.Fprint(w, shownLine("bundle id: %s\n", man.BundleID))
	if man.Case.Reference != "" {
		fmt.Fprint(w, shownLine("case: %s\n", oneLine(man.Case.Reference)))
	}
	if man.Case.PolicyOverride != "" {
		fmt.Fprintf(w, "policy override: %s (recorded in the signed manifest)\n", oneLine(man.Case.PolicyOverride))
	}
	printSummary(w, sum)
	for _, r := range recipients {
		fmt.Fprintf(w, "recipient: %s\n", oneLine(r.Label()))
	}
	return nil
}

// checkOutputFolder fails unless the folder out is to be written in
// exists and is a folder.
func checkOutputFolder(out string) error {
	dir := filepath.Dir(out)
	if dir == "." {
		return nil
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &missingFolderError{dir: dir, out: out}
	case err != nil:
		return fmt.Errorf("the folder for %s: %w", out, err)
	case !st.IsDir():
		return fmt.Errorf("%w: %s, where %s would go, is not a folder", bundle.ErrTargetExists, dir, out)
	}
	return nil
}

// missingFolderError is an output whose folder does not exist. It is
// fs.ErrNotExist to callers that branch on it, without saying so twice
// ("file does not exist: the folder … does not exist").
type missingFolderError struct{ dir, out string }

func (e *missingFolderError) Error() string {
	return fmt.Sprintf("the folder %s for %s does not exist (check the name, or create the folder first)", e.dir, e.out)
}

func (e *missingFolderError) Is(target error) bool { return target == fs.ErrNotExist }

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// validExclude reports whether x is a glob --exclude (or a spec's exclude)
// can use: one category.Match accepts, once normalized as MakePlan does,
// and not blank.
func validExclude(x string) bool {
	_, err := category.Match(category.NormalizeGlob(x), "x")
	return err == nil && strings.TrimSpace(x) != ""
}

// brokenPipe reports whether err is a write to a pipe whose reader has
// gone: EPIPE, or on Windows ERROR_BROKEN_PIPE and ERROR_NO_DATA.
func brokenPipe(err error) bool {
	if errors.Is(err, syscall.EPIPE) {
		return true
	}
	return runtime.GOOS == "windows" && (errors.Is(err, syscall.Errno(109)) || errors.Is(err, syscall.Errno(232)))
}

// partialOutputError is a failure of pack -o - after some of the bundle
// went to standard output. A file the shell made of it is not pack's to
// remove, and looks like a bundle: the message says to discard it, also
// when the failure is an interrupt (see run).
type partialOutputError struct {
	err error
	n   int64
}

func (e *partialOutputError) Error() string { return e.err.Error() + " (" + e.note() + ")" }
func (e *partialOutputError) Unwrap() error { return e.err }

func (e *partialOutputError) note() string {
	return fmt.Sprintf("the %s already written to standard output are an incomplete bundle: discard them", humanBytes(e.n))
}
