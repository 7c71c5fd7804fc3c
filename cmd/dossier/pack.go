package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
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
	toStdout := o.Output == "-"
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
	sender, err := g.loadIdentity(o.IdentityPath)
	if err != nil {
		return err
	}
	bar := g.newProgress("packing", plan.TotalSize)
	opts := bundle.PackOptions{
		Sender:     sender,
		Recipients: recipients,
		Case:       mcase,
		Now:        g.now,
		Progress:   bar.update,
	}
	var man *manifest.Manifest
	if toStdout {
		man, err = bundle.Pack(ctx, g.stdout, plan, opts)
	} else {
		man, err = bundle.PackFile(ctx, o.Output, o.Force, plan, opts)
	}
	bar.finish()
	if err != nil {
		return err
	}
	return g.reportPack(o.Output, man, recipients)
}

func (g *globalOptions) reportPack(out string, man *manifest.Manifest, recipients []*card.Card) error {
	sum := manifest.Summary(man.Files)
	if g.JSON {
		return g.printJSON(map[string]any{
			"bundle":     out,
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
	if out != "-" {
		w = g.stdout
	}
	if g.Quiet {
		return nil
	}
	fmt.Fprintf(w, "packed %d files (%s) into %s\n", len(man.Files), humanBytes(man.TotalSize), out)
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
