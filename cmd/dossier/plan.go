package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/volume"
)

func newPlanCommand(g *globalOptions) *cobra.Command {
	o := &packOptions{}
	cmd := &cobra.Command{
		Use:   "plan [pack's flags] PATH...",
		Short: "Show what pack would send, per category, without writing anything",
		Long: `plan takes pack's arguments and shows what pack would send: the recipients
and the categories they accept, the case metadata, files and bytes per
category, every file with its categories, the files --exclude leaves out,
files no rule labels, and files a recipient's card does not accept. It
needs no identity and writes nothing; 'dossier pack --dry-run' is the same.

plan exits 0 when it could make the plan, whatever it found: the last line
(and "ready" in --json) says whether pack would go ahead.`,
		Example: `  dossier plan -r bob.card --category 'personal=case/interviews/**' \
      --default-category law-enforcement --exclude '**/*.tmp' case
  dossier plan --spec case.toml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(cmd.Flags().Changed, &args); err != nil {
				return err
			}
			for _, r := range o.specReplaced {
				g.warn("%s\n", r)
			}
			o.DryRun = true
			return runPack(cmd.Context(), g, o, args)
		},
	}
	o.addFlags(cmd)
	// Accepted so that plan takes pack's command line unchanged.
	cmd.Flags().BoolVarP(&o.DryRun, "dry-run", "n", true, "always true for plan")
	cmd.Flags().MarkHidden("dry-run")
	return cmd
}

// violation is a file a recipient's card does not accept.
type violation struct {
	Path      string
	Category  category.ID
	Recipient *card.Card
}

// policyFindings is what the recipients do not accept among a plan's
// files.
type policyFindings struct {
	// shown are the violations kept: every one, or the first few (see
	// findViolations).
	shown []violation
	// count is the number of violations, files the number of files with
	// one or more.
	count, files int
}

// policyShown is how many violations pack's refusal names.
const policyShown = 3

// findViolations finds, for every file of the plan, each category that a
// recipient does not accept, keeping the first keep of them, or all if
// keep is negative: pack, which names a few, holds no list of a plan of
// many files that all go to someone who does not accept them.
func findViolations(ctx context.Context, plan *bundle.Plan, recipients []*card.Card, keep int) (policyFindings, error) {
	var out policyFindings
	err := plan.Each(ctx, func(f *bundle.Input) error {
		before := out.count
		for cat := range f.File.Categories.All() {
			for _, r := range recipients {
				if !r.Accepting(cat) {
					if keep < 0 || len(out.shown) < keep {
						out.shown = append(out.shown, violation{Path: f.File.Path, Category: cat, Recipient: r})
					}
					out.count++
				}
			}
		}
		if out.count > before {
			out.files++
		}
		return nil
	})
	return out, err
}

func (v violation) String() string {
	return fmt.Sprintf("%q is %s, which %s does not accept", v.Path, v.Category, v.Recipient.Label())
}

// policyError is pack's refusal to send files a recipient does not accept.
type policyError struct {
	found policyFindings
}

func (e *policyError) Error() string {
	var parts []string
	for i, v := range e.found.shown {
		if i == policyShown {
			break
		}
		parts = append(parts, v.String())
	}
	if more := e.found.count - len(parts); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return fmt.Sprintf("refusing to send what a recipient's card does not accept: %s; relabel those files, leave them out with --exclude GLOB, or send anyway with --override-policy REASON (see 'dossier plan')",
		strings.Join(parts, "; "))
}

// reportPlan prints what pack would send. plan may hold unlabelled files.
func (g *globalOptions) reportPlan(ctx context.Context, o *packOptions, plan *bundle.Plan, in *packInputs) error {
	found, err := findViolations(ctx, plan, in.recipients, -1)
	if err != nil {
		return err
	}
	violations := found.shown
	var problems []string
	if len(in.recipients) == 0 {
		problems = append(problems, "no recipients: pass -r CARD (a card file or contact name)")
	}
	if n := len(plan.Unlabelled); n > 0 {
		problems = append(problems, fmt.Sprintf("%s without a category: label them with --category CAT=GLOB or give --default-category CAT", plural(n, "file")))
	}
	if len(violations) > 0 && o.OverridePolicy == "" {
		problems = append(problems, fmt.Sprintf("%s a recipient does not accept: relabel or exclude them, or pass --override-policy REASON", plural(found.files, "file")))
	}
	if len(plan.Files) == 0 && len(plan.Excluded) > 0 {
		problems = append(problems, "--exclude left out every file")
	}
	if err := plan.CheckPreambleSize(); err != nil {
		problems = append(problems, oneLine(err.Error()))
	}
	p, notes := unusedGlobs(ctx, plan)
	if err := ctx.Err(); err != nil {
		return err // before anything is printed
	}
	for _, n := range notes {
		g.warn("%s\n", n)
	}
	if p != "" {
		problems = append(problems, p)
	}
	// What pack would refuse about the output before packing.
	if o.Output != "" && o.Output != "-" {
		if err := checkOutputFolder(o.Output); err != nil {
			problems = append(problems, oneLine(err.Error()))
		} else if w, err := volume.NewWriter(o.Output, in.split, o.Force); err != nil {
			// The names pack would write, and the volumes it would hide
			// or leave beside them, checked as pack checks them (a writer
			// makes no file until the first write).
			problems = append(problems, oneLine(err.Error()))
		} else {
			w.Abort()
		}
	}
	mcase := in.mcase
	if len(violations) > 0 {
		mcase.PolicyOverride = o.OverridePolicy
	}
	if g.JSON {
		return g.printJSON(planJSON(o, plan, in, mcase, violations, problems))
	}
	if g.Quiet {
		// Only what stops the pack, as errors are.
		for _, p := range problems {
			fmt.Fprint(g.stderr, shownLine("dossier: not ready: %s\n", p))
		}
		return nil
	}
	w := g.stdout
	fmt.Fprintln(w, "plan (nothing is written):")
	if len(in.recipients) == 0 {
		fmt.Fprintln(w, "recipients:  none yet")
	}
	for _, r := range in.recipients {
		fmt.Fprintf(w, "recipient:   %s, accepts %s\n", oneLine(r.Label()), acceptsText(r))
	}
	printCase(w, &mcase)
	labelled := plan.Files[:0:0]
	for _, f := range plan.Files {
		if f.File.Categories.Len() > 0 {
			labelled = append(labelled, f)
		}
	}
	fmt.Fprintf(w, "would send:  %s (%s)\n", plural(len(plan.Files), "file"), humanBytes(plan.TotalSize))
	printSummary(w, plan.Summary())
	if len(labelled) > 0 {
		fmt.Fprintln(w, "files:")
		for _, f := range labelled {
			fmt.Fprintf(w, "  %10s  %-40s %s\n", humanBytes(f.File.Size), oneLine(f.File.Path), f.File.Categories)
		}
	}
	listPaths(w, fmt.Sprintf("without a category (%d; pack refuses them):", len(plan.Unlabelled)), plan.Unlabelled, nil)
	if len(plan.Excluded) > 0 {
		var total int64
		paths := make([]string, len(plan.Excluded))
		sizes := make([]int64, len(plan.Excluded))
		for i, x := range plan.Excluded {
			paths[i], sizes[i] = x.File.Path, x.File.Size
			total += x.File.Size
		}
		listPaths(w, fmt.Sprintf("excluded by --exclude (%s, %s):", plural(len(paths), "file"), humanBytes(total)), paths, sizes)
	}
	if len(violations) > 0 {
		if o.OverridePolicy == "" {
			fmt.Fprintln(w, "not accepted by a recipient (pack refuses them without --override-policy REASON):")
		} else {
			fmt.Fprintln(w, "not accepted by a recipient (sent anyway: --override-policy, recorded in the manifest):")
		}
		for _, v := range violations {
			fmt.Fprintf(w, "  %s\n", oneLine(v.String()))
		}
	}
	if len(problems) == 0 {
		fmt.Fprintln(w, "ready: pack would send this")
	} else {
		fmt.Fprintf(w, "not ready: %s\n", oneLine(strings.Join(problems, "; ")))
	}
	return nil
}

func listPaths(w io.Writer, title string, paths []string, sizes []int64) {
	if len(paths) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	for i, p := range paths {
		if sizes != nil {
			fmt.Fprintf(w, "  %10s  %s\n", humanBytes(sizes[i]), oneLine(p))
		} else {
			fmt.Fprintf(w, "  %s\n", oneLine(p))
		}
	}
}

// planJSON is the JSON document of plan and pack --dry-run.
func planJSON(o *packOptions, plan *bundle.Plan, in *packInputs, mcase manifest.Case, violations []violation, problems []string) map[string]any {
	recipients := make([]map[string]any, len(in.recipients))
	for i, r := range in.recipients {
		p := manifest.PartyOf(r)
		recipients[i] = map[string]any{"fingerprint": p.Fingerprint, "name": p.Name, "org": p.Org, "accepts": accepted(r)}
	}
	files := make([]manifest.File, len(plan.Files))
	for i, f := range plan.Files {
		files[i] = f.Planned()
	}
	excluded := make([]map[string]any, len(plan.Excluded))
	for i, x := range plan.Excluded {
		excluded[i] = map[string]any{"path": x.File.Path, "size": x.File.Size}
	}
	policy := make([]map[string]any, len(violations))
	for i, v := range violations {
		policy[i] = map[string]any{"path": v.Path, "category": v.Category, "recipient": jsonParty(manifest.PartyOf(v.Recipient))}
	}
	unlabelled := plan.Unlabelled
	if unlabelled == nil {
		unlabelled = []string{}
	}
	if problems == nil {
		problems = []string{}
	}
	return map[string]any{
		"dry_run":    true,
		"ready":      len(problems) == 0,
		"problems":   problems,
		"output":     o.Output,
		"recipients": recipients,
		"case":       mcase,
		"file_count": len(plan.Files),
		"bytes":      plan.TotalSize,
		"categories": plan.Summary(),
		"files":      files,
		"unlabelled": unlabelled,
		"excluded":   excluded,
		"policy":     policy,
	}
}

// unusedGlobs sorts the category rules and exclude globs of plan that
// matched nothing. One that would match read another, likely way (brackets
// literally, the folder's name in front, another case: see
// bundle.Plan.SuggestGlob) is a mistake whose files went to the default
// category, or were sent: problem says so, and pack refuses it. One that
// would match nothing anyway is a safety net with nothing to catch in
// this case (a spec's exclude = ["**/*.tmp"]): notes says so, as a
// warning.
//
// Each glob is tried against every path, up to a second at 150,000
// files: once ctx is done the rest are left out, and the caller returns
// ctx's error.
func unusedGlobs(ctx context.Context, plan *bundle.Plan) (problem string, notes []string) {
	var mistakes []string
	check := func(what, glob string, folders bool) {
		if ctx.Err() != nil {
			return
		}
		if s, why := plan.SuggestGlob(glob, folders); s != "" {
			mistakes = append(mistakes, fmt.Sprintf("%s matched no file, but %s would (%s)", what, s, why))
		} else {
			notes = append(notes, what+" matched no file")
		}
	}
	for _, r := range plan.UnusedRules {
		check("the category rule "+r.String(), r.Glob, false)
	}
	for _, g := range plan.UnusedExcludes {
		check("the exclude glob "+g, g, true)
	}
	if len(mistakes) > 0 {
		problem = strings.Join(mistakes, "; ") + ": fix the glob, check with 'dossier plan'"
	}
	return problem, notes
}
