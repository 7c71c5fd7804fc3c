package main

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/category"
)

// finishCommands completes the command tree once every command is added:
// shell completion for category ids and contact names, argument errors
// that are usage errors (exit 2, with the usage line), a --json-aware
// answer for commands that only group subcommands, and cobra's
// 'completion' command, which prints a shell script and so has no JSON
// output.
func finishCommands(g *globalOptions, root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		registerFlagCompletions(c)
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				err := args(cmd, a)
				var ue *usageError
				if err != nil && !errors.As(err, &ue) {
					return &usageError{fmt.Errorf("%s %w", commandName(cmd), err)}
				}
				return err
			}
		}
		if c.Name() == "completion" && c.Parent() == root {
			c.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
				if g.JSON {
					return usagef("completion prints a shell script; it has no --json output")
				}
				return nil
			}
		}
		if c.HasSubCommands() {
			c.SuggestionsMinimumDistance = 2
		}
		if p := c.CommandPath(); (p == "dossier key fingerprint" || p == "dossier key minisign") && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = completeContactNames
		}
		if !c.Runnable() && c.HasSubCommands() {
			c.Args = noArgs()
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if g.JSON {
					return usagef("%s needs a subcommand: %s", cmd.CommandPath(), strings.Join(subcommandNames(cmd), ", "))
				}
				return cmd.Help()
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func subcommandNames(c *cobra.Command) []string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return names
}

// registerFlagCompletions completes the values of c's flags that take a
// category (--category, --default-category, --accepts) or a card
// (--recipient/-r, --from: contact names, then files).
func registerFlagCompletions(c *cobra.Command) {
	reg := func(name string, f cobra.CompletionFunc) {
		if c.Flags().Lookup(name) != nil {
			if _, exists := c.GetFlagCompletionFunc(name); !exists {
				c.RegisterFlagCompletionFunc(name, f)
			}
		}
	}
	reg("category", completeCategoryRule)
	reg("default-category", completeCategoryList)
	reg("accepts", completeCategoryList)
	reg("recipient", completeContactNames)
	reg("from", completeContactNames)
}

// completeCategoryRule completes the CAT= part of CAT=GLOB.
func completeCategoryRule(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if strings.Contains(toComplete, "=") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, id := range category.All() {
		if strings.HasPrefix(string(id), toComplete) {
			out = append(out, cobra.CompletionWithDesc(string(id)+"=", id.Description()))
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// completeCategoryList completes the last id of a comma-separated list.
func completeCategoryList(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []cobra.Completion
	for _, id := range category.All() {
		if strings.HasPrefix(string(id), last) && !strings.Contains(","+done, ","+string(id)+",") {
			out = append(out, cobra.CompletionWithDesc(done+string(id), id.Description()))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeContactNames offers the contacts' names; when none matches, the
// shell completes file names (a CARD may be a file).
func completeContactNames(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	book, err := openContacts()
	if err != nil {
		return nil, cobra.ShellCompDirectiveDefault
	}
	var out []cobra.Completion
	for _, n := range book.Names() {
		if strings.HasPrefix(strings.ToLower(n), strings.ToLower(toComplete)) {
			out = append(out, cobra.CompletionWithDesc(n, "contact"))
		}
	}
	if len(out) == 0 {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// exactArgs requires n arguments, saying what to pass when they are not.
func exactArgs(n int, hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s, got %d: %s", commandName(cmd), plural(n, "argument"), len(args), hint)
		}
		return nil
	}
}

// noArgs refuses arguments, naming the first one.
func noArgs() cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			if cmd.HasSubCommands() {
				hint := ""
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					hint = fmt.Sprintf("; did you mean %q?", s[0])
				}
				return usagef("unknown command %q for %q%s (see '%s --help')", args[0], cmd.CommandPath(), hint, cmd.CommandPath())
			}
			return usagef("%s takes no arguments, got %q", commandName(cmd), args[0])
		}
		return nil
	}
}

// jsonRequested reports whether the command line asks for --json, for
// errors met before the flag was parsed (such as an unknown flag before
// it).
func jsonRequested(args []string) bool {
	if i := slices.Index(args, "--"); i >= 0 {
		args = args[:i]
	}
	return slices.Contains(args, "--json") || slices.Contains(args, "--json=true")
}

// commandName is the command's path without the program name: "verify",
// "receipt verify".
func commandName(c *cobra.Command) string {
	if !c.HasParent() {
		return c.Name()
	}
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// withHint is err's message, with a hint added when err says what failed
// but not what to do: files that are missing or may not be read.
func withHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "(see ") || strings.Contains(msg, "(check "):
	case errors.Is(err, fs.ErrNotExist):
		return msg + " (check the file name and folder)"
	case errors.Is(err, fs.ErrPermission):
		return msg + " (check the permissions, or run as the user who owns the file)"
	}
	if hint := storageHint(err); hint != "" {
		return msg + " (" + hint + ")"
	}
	return msg
}
