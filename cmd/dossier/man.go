//go:build man

package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCommands is the hidden '__man DIR', which writes a man page for every
// command into DIR. The pages are made from the command tree itself, so
// the command lives in this package, but only in a build with the tag
// "man" (scripts/man.sh builds one): cobra's doc generator brings a
// Markdown renderer and a YAML encoder whose package initialisation cost
// every dossier run 2 to 5 ms (`dossier version`: 32.6 against 30.2 ms,
// alternated), and 0.5 MB of binary.
func manCommands(g *globalOptions) []*cobra.Command {
	return []*cobra.Command{newManCommand(g)}
}

func newManCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "__man DIR",
		Short:  "Write a man page for every command into DIR",
		Hidden: true,
		Args:   exactArgs(1, "the folder to write the man pages into"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			root := cmd.Root()
			// No "Auto generated" history section; the date in the header
			// is SOURCE_DATE_EPOCH's if set, for reproducible pages.
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{
				Section: "1",
				Source:  "dossier " + version,
				Manual:  "dossier manual",
			}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			if g.JSON {
				return g.printJSON(map[string]any{"ok": true, "output": dir})
			}
			g.say("wrote the man pages into %s\n", dir)
			return nil
		},
	}
}
