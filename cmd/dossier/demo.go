package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/bundle"
)

//go:embed sample
var sampleFS embed.FS

func newDemoCommand(g *globalOptions) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR]",
		Short: "Run a complete transfer on a built-in sample case",
		Long: `demo plays both sides of a transfer in a new folder: it makes keys for a
sender (Alice, Lyon) and a recipient (Bob, Valletta), packs the built-in
fictitious sample case with data categories, inspects and verifies the bundle
as Bob, opens it into a BagIt folder and re-verifies that folder. Each step is
printed as the dossier command that does it, followed by its output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), g, dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "work in `DIR` (must not exist; default: a new temporary folder)")
	return cmd
}

func runDemo(ctx context.Context, g *globalOptions, dir string) error {
	if g.JSON {
		return usagef("demo prints a narrative; it has no --json output")
	}
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "dossier-demo-"); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	} else if err := checkOutputFolder(dir); err != nil {
		return err
	} else if err := os.Mkdir(dir, 0o700); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: demo: %s exists (choose a folder that does not exist)", bundle.ErrTargetExists, dir)
	} else if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	if err := writeSample(p("case")); err != nil {
		return err
	}
	step := func(title, line string) {
		fmt.Fprintf(g.stdout, "\n== %s\n$ dossier %s\n", title, line)
	}
	// The demo's keys are not passphrase-protected so that it runs
	// unattended; real keys should be.
	sub := *g
	sub.Quiet, sub.JSON = false, false

	fmt.Fprint(g.stdout, shownLine("dossier demo: working in %s\n", dir))
	step("1. Alice (sender) makes her keys", "keygen --name 'Alice Martin' --org \"Prosecutor's Office, Lyon\" --identity alice.id --card alice.card --no-passphrase")
	if err := runKeygen(ctx, &sub, &keygenOptions{Name: "Alice Martin", Org: "Prosecutor's Office, Lyon", IdentityPath: p("alice.id"), CardPath: p("alice.card"), NoPassphrase: true}); err != nil {
		return err
	}
	step("2. Bob (recipient) makes his keys", "keygen --name 'Bob Camilleri' --org 'Office of the Attorney General, Valletta' --identity bob.id --card bob.card --no-passphrase")
	if err := runKeygen(ctx, &sub, &keygenOptions{Name: "Bob Camilleri", Org: "Office of the Attorney General, Valletta", IdentityPath: p("bob.id"), CardPath: p("bob.card"), NoPassphrase: true}); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, "(They exchange cards and read the fingerprints to each other over the phone.)")

	step("3. Alice packs the case for Bob", "pack -i alice.id -r bob.card -o case.dossier --case MLA-2026-077 --purpose 'Asset recovery' --legal-basis 'UNCAC Art. 46' --requesting-authority \"Prosecutor's Office, Lyon (FR)\" --requested-authority 'Office of the Attorney General, Valletta (MT)' --restriction 'no onward transfer without the consent of the requesting authority' --retain-until 2031-12-31 --category 'personal=case/interviews/**' --category 'special-category=case/medical/**' --category 'trade-secret=case/finance/supplier-*' --default-category law-enforcement case")
	po := &packOptions{
		IdentityPath: p("alice.id"), Recipients: []string{p("bob.card")}, Output: p("case.dossier"),
		Case: "MLA-2026-077", Purpose: "Asset recovery", LegalBasis: "UNCAC Art. 46",
		RequestingAuthority: "Prosecutor's Office, Lyon (FR)", RequestedAuthority: "Office of the Attorney General, Valletta (MT)",
		Restrictions: []string{"no onward transfer without the consent of the requesting authority"},
		RetainUntil:  "2031-12-31",
		Categories: []string{"personal=case/interviews/**", "special-category=case/medical/**",
			"trade-secret=case/finance/supplier-*"},
		DefaultCategory: "law-enforcement",
	}
	if err := runPack(ctx, &sub, po, []string{p("case")}); err != nil {
		return err
	}

	step("4. Bob inspects what arrived (signed preamble only)", "inspect case.dossier -i bob.id --from alice.card")
	if err := runInspect(ctx, &sub, &readFlags{IdentityPath: p("bob.id"), From: p("alice.card")}, p("case.dossier")); err != nil {
		return err
	}
	step("5. Bob verifies the whole bundle, writing nothing", "verify case.dossier --from alice.card -i bob.id")
	if err := runVerify(ctx, &sub, &readFlags{IdentityPath: p("bob.id"), From: p("alice.card")}, p("case.dossier")); err != nil {
		return err
	}
	step("6. Bob opens it into a new folder", "open case.dossier -i bob.id --from alice.card -o opened")
	if err := runOpen(ctx, &sub, &openOptions{readFlags: readFlags{IdentityPath: p("bob.id"), From: p("alice.card")}, Output: p("opened"), skipReopenCheck: true}, p("case.dossier")); err != nil {
		return err
	}
	step("7. Years later, the registry re-checks the opened folder (no key needed)", "verify opened --from alice.card")
	if err := runVerify(ctx, &sub, &readFlags{From: p("alice.card")}, p("opened")); err != nil {
		return err
	}
	fmt.Fprint(g.stdout, "\n"+shownLine("Everything is in %s:\n", dir))
	for _, name := range []string{"alice.id", "alice.card", "bob.id", "bob.card", "case", "case.dossier", "opened"} {
		fmt.Fprint(g.stdout, shownLine("  %s\n", p(name)))
	}
	fmt.Fprint(g.stdout, shownLine("Delete it when you are done: rm -rf %s\n", shellQuote(dir)))
	return nil
}

// writeSample copies the embedded sample case to dst.
func writeSample(dst string) error {
	return fs.WalkDir(sampleFS, "sample/case", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(path, "sample/case"), "/")
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := sampleFS.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
