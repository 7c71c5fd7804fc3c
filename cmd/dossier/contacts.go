package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/contacts"
	"github.com/dossier-evidence/dossier/pkg/custody"
)

func newContactsCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contacts",
		Short: "Keep counterparts' cards under a name, usable wherever a CARD is asked for",
		Long: `contacts keeps the cards of the counterparts you trust under DOSSIER_HOME
(by default the user's data folder), so that '-r NAME' and '--from NAME'
work wherever a card file is asked for. A contact's name is the name on
its card unless 'contacts add --as NAME' gives another; names are unique,
without regard to case. A bare name that is both a file here and a contact
is refused as ambiguous (exit 2): write ./NAME for the file.`,
	}
	cmd.AddCommand(newContactsAddCommand(g), newContactsListCommand(g), newContactsRemoveCommand(g))
	return cmd
}

type contactsAddOptions struct {
	As  string
	Yes bool
}

func newContactsAddCommand(g *globalOptions) *cobra.Command {
	o := &contactsAddOptions{}
	cmd := &cobra.Command{
		Use:   "add CARD [--as NAME] [--yes]",
		Short: "Add a counterpart's card to your contacts, after checking its fingerprint",
		Long: `add shows the card's name, organisation, accepted categories and fingerprint,
and asks on the terminal whether to add it: compare the fingerprint with its
holder (by phone or in person) before you answer. Scripts that have checked
the fingerprint otherwise pass --yes; without a terminal and without --yes,
add refuses (exit 2).

A card whose name is already the name of a contact with a different key is
refused (exit 3): it may be an impersonation. If two people really share a
name, add the second one under another name with --as. A newer card of a
contact's own key (for example with other accepted categories) replaces the
stored one.`,
		Example: `  dossier contacts add bob.card
  dossier contacts add bob.card --as "Bob (Valletta)" --yes`,
		Args: exactArgs(1, "name the card file to add"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContactsAdd(g, o, args[0])
		},
	}
	cmd.Flags().StringVar(&o.As, "as", "", "store the card under `NAME` instead of the name on the card")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "add without asking (you have compared the fingerprint)")
	return cmd
}

func runContactsAdd(g *globalOptions, o *contactsAddOptions, path string) error {
	c, err := loadCardFile(path)
	if err != nil {
		return err
	}
	name := o.As
	if name == "" {
		name = c.Name
	}
	if err := contacts.CheckName(name); err != nil {
		return &usageError{fmt.Errorf("%w; choose another with --as NAME", err)}
	}
	book, err := openContacts()
	if err != nil {
		return err
	}
	status, err := book.Check(name, c)
	if err != nil {
		return explainContactError(err)
	}
	fp := c.Fingerprint()
	if status == contacts.Updated {
		// Readers require a bundle's card to name its sender as the
		// contact's card does: bundles sent with the earlier card would be
		// refused with this one.
		if prev, err := book.Get(name); err == nil && (prev.Card.Name != c.Name || prev.Card.Org != c.Org) {
			g.warn("%s\n", oneLine(fmt.Sprintf("this card names %s where the stored one names %s: bundles sent with the earlier card will be refused as from the wrong sender when checked with the contact %q; keep the earlier card (or the opened folder's dossier-sender.card) to check those with --from FILE", cardLabel(c), cardLabel(prev.Card), name)))
		}
	}
	if status != contacts.Unchanged && !g.JSON && !g.Quiet {
		fmt.Fprintf(g.stdout, "card:        %s\n", oneLine(cardLabel(c)))
		fmt.Fprintf(g.stdout, "fingerprint: %s\n", fp)
		fmt.Fprintf(g.stdout, "accepts:     %s\n", acceptsText(c))
	}
	if status != contacts.Unchanged && !o.Yes {
		question := fmt.Sprintf("Compare the fingerprint %s with %s by phone or in person.\nAdd this card as the contact %q? [y/N] ", fp, oneLine(c.Name), oneLine(name))
		if status == contacts.Updated {
			question = fmt.Sprintf("The contact %q has this key already; replace its stored card by this newer one? [y/N] ", oneLine(name))
		}
		ok, err := confirm(g.context(), question)
		if errors.Is(err, errNoTerminal) {
			return usagef("contacts add asks for confirmation and there is no terminal to ask on: compare the fingerprint %s with its holder, then pass --yes", fp)
		}
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("nothing was added: you did not confirm the fingerprint %s", fp)
		}
	}
	if status, err = book.Add(g.context(), name, c, g.now()); err != nil {
		return explainContactError(err)
	}
	if g.JSON {
		ct, err := book.Get(name)
		if err != nil {
			return err
		}
		return g.printJSON(map[string]any{"status": status.String(), "contact": contactJSON(ct), "contacts": book.Path()})
	}
	switch status {
	case contacts.Unchanged:
		g.say("%q is already a contact with this very card [%s]; nothing changed\n", oneLine(name), fp)
	case contacts.Updated:
		g.say("updated the card of contact %q [%s]\n", oneLine(name), fp)
	default:
		g.say("added contact %q [%s]: use it as -r %s or --from %s\n", oneLine(name), fp, shellQuote(name), shellQuote(name))
	}
	return nil
}

func newContactsListCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List your contacts with their fingerprints",
		Args:    noArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			book, err := openContacts()
			if err != nil {
				return err
			}
			list, err := book.List()
			if err != nil {
				return explainContactError(err)
			}
			if g.JSON {
				out := make([]map[string]any, len(list))
				for i := range list {
					out[i] = contactJSON(&list[i])
				}
				return g.printJSON(map[string]any{"contacts": out, "path": book.Path()})
			}
			if len(list) == 0 {
				g.say("no contacts yet (add one with: dossier contacts add CARD)\n")
				return nil
			}
			for _, ct := range list {
				label := cardLabel(ct.Card)
				if ct.Name == ct.Card.Name {
					label = ct.Card.Org
				}
				if label != "" {
					label = "  " + label + ";"
				} else {
					label = ";"
				}
				fmt.Fprintln(g.stdout, oneLine(fmt.Sprintf("%-20s %s%s accepts %s; added %s",
					ct.Name, ct.Card.Fingerprint(), label, acceptsText(ct.Card), ct.Added)))
			}
			return nil
		},
	}
}

func newContactsRemoveCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:               "remove NAME",
		Aliases:           []string{"rm"},
		Short:             "Remove a contact",
		Args:              exactArgs(1, "name the contact to remove (see 'dossier contacts list')"),
		ValidArgsFunction: completeContactNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			book, err := openContacts()
			if err != nil {
				return err
			}
			e, err := book.Remove(cmd.Context(), args[0])
			if err != nil {
				return explainContactError(err)
			}
			fp, _ := card.ParseFingerprintHex(e.Fingerprint)
			if g.JSON {
				return g.printJSON(map[string]any{"removed": map[string]any{
					"name": e.Name, "fingerprint": e.Fingerprint, "short_fingerprint": fp.String(), "added": e.Added,
				}})
			}
			g.say("removed contact %q [%s]\n", oneLine(e.Name), fp)
			return nil
		},
	}
}

// openContacts opens the contact list under DOSSIER_HOME.
func openContacts() (*contacts.Book, error) {
	home, err := custody.DefaultHome()
	if err != nil {
		return nil, err
	}
	return contacts.Open(home)
}

// loadContactCard returns the card of the contact called name. fileErr is
// why name could not be read as a file, for the message when it is not a
// contact either.
func loadContactCard(name string, fileErr error) (*card.Card, error) {
	book, err := openContacts()
	if err == nil {
		var ct *contacts.Contact
		if ct, err = book.Get(name); err == nil {
			return ct.Card, nil
		}
		if !errors.Is(err, contacts.ErrNotFound) {
			return nil, explainContactError(err)
		}
	}
	if !errors.Is(fileErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("read card: %w", fileErr)
	}
	if looksLikeFile(name) {
		return nil, fmt.Errorf("read card: %s: %w", name, fs.ErrNotExist)
	}
	return nil, fmt.Errorf("read card: %s: %w, and no contact is called %q (see 'dossier contacts list')", name, fs.ErrNotExist, name)
}

// looksLikeFile reports whether a CARD argument is evidently a file name
// (it names a folder or ends in .card) rather than a contact's name.
func looksLikeFile(name string) bool {
	return strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, ".card")
}

// explainContactError adds what to do to the contact list's errors.
func explainContactError(err error) error {
	switch {
	case errors.Is(err, contacts.ErrConflict):
		return fmt.Errorf("%w: this may be an impersonation; compare fingerprints with the holder, and if both are genuine add this card under another name with --as NAME", err)
	case errors.Is(err, contacts.ErrBroken):
		return fmt.Errorf("%w; repair or remove the damaged entry ('dossier contacts remove NAME') and add the card again", err)
	case errors.Is(err, contacts.ErrNotFound):
		return fmt.Errorf("%w (see 'dossier contacts list')", err)
	}
	return err
}

// contactJSON is a contact's JSON shape.
func contactJSON(ct *contacts.Contact) map[string]any {
	return map[string]any{
		"name":              ct.Name,
		"fingerprint":       ct.Fingerprint,
		"short_fingerprint": ct.Card.Fingerprint().String(),
		"card_name":         ct.Card.Name,
		"org":               ct.Card.Org,
		"accepts":           accepted(ct.Card),
		"added":             ct.Added,
	}
}

// accepted lists the categories a card's holder accepts (all when the card
// declares none).
func accepted(c *card.Card) []category.ID {
	if len(c.Accepts) == 0 {
		return category.All()
	}
	return c.Accepts
}

func acceptsText(c *card.Card) string {
	if len(c.Accepts) == 0 {
		return "all categories"
	}
	s := make([]string, len(c.Accepts))
	for i, a := range c.Accepts {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// cardLabel is "Name (Org)".
func cardLabel(c *card.Card) string {
	if c.Org != "" {
		return c.Name + " (" + c.Org + ")"
	}
	return c.Name
}

// shellQuote quotes s for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,/@+=:", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// confirm asks a yes/no question on the terminal; only "y" or "yes" is
// yes. Ctrl-C (ctx done) ends it with ctx's error.
func confirm(ctx context.Context, question string) (bool, error) {
	tty, err := openTerminal()
	if err != nil {
		return false, err
	}
	defer tty.Close()
	fmt.Fprint(tty.out, question)
	line, err := tty.readLine(ctx)
	if ctx.Err() != nil {
		fmt.Fprintln(tty.out) // the message goes on a line of its own
		return false, ctx.Err()
	}
	if err != nil && line == "" {
		return false, fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
