package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/seal"
)

type packOptions struct {
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
}

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
Categories: ` + strings.Join(categoryIDs(), ", ") + `.

The bundle is written under a temporary name and renamed to OUT only when it
is complete; OUT is never overwritten unless --force is given. With -o - the
bundle is written to standard output.`,
		Example: `  dossier pack -i alice.id -r bob.card -o case.dossier --case MLA-2026-077 \
      --purpose "Asset recovery" --legal-basis "UNCAC Art. 46" \
      --category 'personal=case/interviews/**' --default-category law-enforcement case`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPack(cmd.Context(), g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.IdentityPath, "identity", "i", "", "your identity `FILE` (signs the bundle)")
	f.StringArrayVarP(&o.Recipients, "recipient", "r", nil, "a recipient's card `FILE` (repeatable)")
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
	f.StringVar(&o.Split, "split", "", "cut the bundle into volumes of `SIZE` (e.g. 4G, 700M, 2GiB) named OUT.001, OUT.002, …")
	f.BoolVar(&o.Armor, "armor", false, "write age's ASCII armor, for text-only channels")
	f.StringVar(&o.SealPath, "seal", "", "with -o -, write the seal to `FILE` (a file bundle's seal is always OUT.minisig)")
	return cmd
}

func categoryIDs() []string {
	var out []string
	for _, id := range category.All() {
		out = append(out, string(id))
	}
	return out
}

func runPack(ctx context.Context, g *globalOptions, o *packOptions, paths []string) error {
	switch {
	case len(paths) == 0:
		return usagef("name at least one file or folder to pack")
	case o.IdentityPath == "":
		return usagef("no identity given: pass -i ID_FILE (made by 'dossier keygen')")
	case len(o.Recipients) == 0:
		return usagef("no recipients: pass -r CARD for each recipient")
	case o.Output == "":
		return usagef("no output: pass -o OUT (or -o - for standard output)")
	}
	var rules category.Rules
	for _, s := range o.Categories {
		r, err := category.ParseRule(s)
		if err != nil {
			return err
		}
		rules = append(rules, r)
	}
	var defaults []category.ID
	if o.DefaultCategory != "" {
		var err error
		if defaults, err = category.ParseList(o.DefaultCategory); err != nil {
			return err
		}
	}
	mcase := manifest.Case{
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
			return usagef("--retain-until %q is not a date like 2031-12-31", o.RetainUntil)
		}
	}
	if err := mcase.Check(); err != nil {
		return &usageError{err}
	}
	var recipients []*card.Card
	for _, r := range o.Recipients {
		c, err := loadCard(r)
		if err != nil {
			return err
		}
		recipients = append(recipients, c)
	}
	var split int64
	if o.Split != "" {
		var err error
		if split, err = parseSize(o.Split); err != nil {
			return err
		}
		if split < bundle.MinVolumeSize {
			return usagef("--split %s is too small: volumes must be at least %d bytes", o.Split, bundle.MinVolumeSize)
		}
	}
	toStdout := o.Output == "-"
	g.stdoutIsData = toStdout
	if toStdout && split > 0 {
		return usagef("--split needs a file name: it writes OUT.001, OUT.002, …; it cannot split standard output")
	}
	if !toStdout && o.SealPath != "" {
		return usagef("--seal is for -o -: a file bundle's seal is always written beside it as OUT.minisig")
	}
	if toStdout {
		if f, ok := g.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return usagef("refusing to write a binary bundle to a terminal: redirect standard output or use -o FILE")
		}
	} else if bundle.Within(o.Output, paths) {
		return usagef("the output %s is inside the files being packed; write it elsewhere", o.Output)
	}
	plan, err := bundle.MakePlan(paths, rules, defaults)
	if err != nil {
		return err
	}
	ev := g.begin("pack")
	ev.Counterparts = counterparts(recipients...)
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
	var res *bundle.FileResult
	if toStdout {
		res, err = g.packToStdout(ctx, o, plan, opts)
	} else {
		res, err = bundle.PackFile(ctx, o.Output, bundle.FileOptions{Overwrite: o.Force, Split: split}, plan, opts)
	}
	bar.finish()
	if err != nil {
		return err
	}
	ev.BundleID, ev.BundleHash = res.Manifest.BundleID, hexDigest(res.Digest)
	return g.reportPack(o, res, recipients)
}

// packToStdout streams the bundle to standard output, hashing it on the
// way so that a seal can be written to --seal FILE.
func (g *globalOptions) packToStdout(ctx context.Context, o *packOptions, plan *bundle.Plan, opts bundle.PackOptions) (*bundle.FileResult, error) {
	h := seal.NewHasher()
	man, err := bundle.Pack(ctx, io.MultiWriter(g.stdout, h), plan, opts)
	if err != nil {
		return nil, err
	}
	res := &bundle.FileResult{Manifest: man, Paths: []string{"-"}, Digest: h.Sum(nil)}
	if o.SealPath == "" {
		return res, nil
	}
	data, err := seal.Sign(opts.Sender.Key, opts.Sender.Card, h.Sum(nil), seal.Info{BundleID: man.BundleID})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(o.SealPath, data, 0o644); err != nil {
		return nil, fmt.Errorf("write seal: %w", err)
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

func (g *globalOptions) reportPack(o *packOptions, res *bundle.FileResult, recipients []*card.Card) error {
	man := res.Manifest
	sum := manifest.Summary(man.Files)
	var seals []string
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
			"bundle":     o.Output,
			"files":      res.Paths,
			"seals":      seals,
			"bundle_id":  man.BundleID,
			"created":    man.Created,
			"sender":     man.Sender,
			"recipients": man.Recipients,
			"case":       man.Case,
			"file_count": len(man.Files),
			"bytes":      man.TotalSize,
			"categories": sum,
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
	fmt.Fprintf(w, "packed %s (%s) into %s\n", plural(len(man.Files), "file"), humanBytes(man.TotalSize), o.Output)
	if len(res.Paths) > 1 {
		fmt.Fprintf(w, "volumes: %s … %s (%d; join them with cat to get the single-file bundle)\n", res.Paths[0], res.Paths[len(res.Paths)-1], len(res.Paths))
	}
	switch {
	case len(seals) == 1:
		fmt.Fprintf(w, "seal: %s (check it with: dossier verify %s --from %s's card)\n", seals[0], o.Output, oneLine(man.Sender.Name))
	case len(seals) > 1:
		fmt.Fprintf(w, "seals: one per volume, %s … %s\n", seals[0], seals[len(seals)-1])
	default:
		fmt.Fprintln(w, "seal: none was written for standard output; pass --seal FILE for one")
	}
	fmt.Fprintf(w, "bundle id: %s\n", man.BundleID)
	if man.Case.Reference != "" {
		fmt.Fprintf(w, "case: %s\n", oneLine(man.Case.Reference))
	}
	printSummary(w, sum)
	for _, r := range recipients {
		fmt.Fprintf(w, "recipient: %s\n", oneLine(r.Label()))
	}
	return nil
}
