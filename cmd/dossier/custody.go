package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/custody"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/printable"
)

// pending is the custody event a command fills in as it works; run()
// records it once the command's outcome is known.
type pending struct {
	event custody.Event
	actor *identity.Identity
	// held are released once the event is logged: locks that must cover
	// the command's outcome reaching the log (see reserveOpen).
	held []func()
}

// holdUntilLogged keeps release to be called once the running command's
// outcome is in the custody log (or the command ends without logging).
func (g *globalOptions) holdUntilLogged(release func()) {
	if g.pending == nil {
		release()
		return
	}
	g.pending.held = append(g.pending.held, release)
}

// releaseHeld releases what holdUntilLogged kept, once.
func (g *globalOptions) releaseHeld() {
	if g.pending == nil {
		return
	}
	for _, release := range g.pending.held {
		release()
	}
	g.pending.held = nil
}

// begin starts the custody event for a command.
func (g *globalOptions) begin(action string) *custody.Event {
	g.pending = &pending{event: custody.Event{Action: action}}
	return &g.pending.event
}

// setActor records whose key acted (and signs the entry).
func (g *globalOptions) setActor(id *identity.Identity) {
	if g.pending != nil {
		g.pending.actor = id
	}
}

// counterparts lists cards' fingerprints for the log.
func counterparts(cards ...*card.Card) []string {
	var out []string
	for _, c := range cards {
		if c != nil {
			out = append(out, c.Fingerprint().Hex())
		}
	}
	return out
}

// interruptedLogPatience is how long an interrupted command waits for the
// custody log's lock to log itself.
const interruptedLogPatience = 2 * time.Second

// record appends the pending event with the command's outcome. A failure to
// log is reported but does not change the command's exit code.
func (g *globalOptions) record(outcome, detail string) {
	if g.pending == nil {
		return
	}
	ev := g.pending.event
	ev.Outcome = outcome
	if detail != "" {
		ev.Detail = detail
	}
	ev.Time = g.now()
	// An interrupted command is logged too, but does not wait long for a
	// lock another process holds on the log (found by review: after
	// Ctrl-C, open and receipt verify waited for it, printing nothing).
	ctx := context.Background()
	if g.ctx != nil && g.ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, interruptedLogPatience)
		defer cancel()
	}
	home, err := custody.DefaultHome()
	if err == nil {
		var l *custody.Log
		if l, err = custody.Open(home); err == nil {
			_, err = l.AppendContext(ctx, ev, g.pending.actor)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.New("another process holds its lock, and this command was interrupted: it is not logged")
	}
	if err != nil {
		msg := oneLine(err.Error())
		// Every later append stops here too: say how to go on without
		// destroying what the damaged file shows.
		switch {
		case errors.Is(err, custody.ErrDamagedCard):
			msg += "; nothing more is logged until this is resolved: keep the damaged card as evidence (move it out of the cards folder, and report it to whoever audits custody), and dossier stores the card again"
		case errors.Is(err, custody.ErrBroken):
			msg += fmt.Sprintf("; nothing more is logged until this is resolved: keep the broken log as evidence (move %s and %s out of %s, and report it to whoever audits custody), and dossier starts a new log",
				custody.LogName, custody.HeadName, home)
		}
		g.tellStderr(shownLine("dossier: warning: the custody log could not be updated: %s\n", msg))
	}
	g.releaseHeld()
}

func hexDigest(b []byte) string { return hex.EncodeToString(b) }

func newLogCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the local custody log (every pack, verify, open, extract, inspect, receipt)",
		Long: `log shows the custody log kept under DOSSIER_HOME (by default the user's
data folder): one entry per pack, verify, open, extract, inspect and
receipt check, with the time,
action, bundle id and hash, the acting key, the counterparts and the
outcome. Each entry carries the hash of the previous one and is signed by
the actor's key when one was unlocked; 'dossier log verify' checks them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := openLog()
			if err != nil {
				return err
			}
			// The log only grows (an entry is about 5 KB), so it is read
			// twice rather than held: once to check that every line
			// parses, so that a broken log prints nothing but the error,
			// then to print it an entry at a time.
			// Each line is a check of the context: a log of many thousand
			// entries takes seconds to read (found by an audit: Ctrl-C
			// was heard only at the end, with exit 0).
			ctx := cmd.Context()
			n := 0
			if err := l.Each(ctx, func(*custody.Entry) error { n++; return ctx.Err() }); err != nil {
				return err
			}
			if g.JSON {
				return g.printLogJSON(ctx, l)
			}
			if n == 0 {
				g.say("the custody log %s is empty\n", l.Path())
				return nil
			}
			return l.Each(ctx, func(e *custody.Entry) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				actor := "-"
				if e.Actor != "" {
					fp, _ := card.ParseFingerprintHex(e.Actor)
					actor = fp.String()
				}
				id := e.BundleID
				if id == "" {
					id = "-"
				}
				line := fmt.Sprintf("%4d  %s  %-14s %-32s %-24s %s", e.Seq, e.Time, e.Action, id, actor, e.Outcome)
				if e.Detail != "" {
					line += "  " + e.Detail
				}
				_, err := fmt.Fprintln(g.stdout, printable.String(line))
				return err
			})
		},
	}
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the custody log's hash chain and signatures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := openLog()
			if err != nil {
				return err
			}
			rep, err := l.Verify(cmd.Context())
			if err != nil {
				return err
			}
			if g.JSON {
				return g.printJSON(map[string]any{"ok": true, "log": l.Path(), "entries": rep.Entries, "signed": rep.Signed, "unsigned": rep.Unsigned,
					"head_behind": rep.HeadBehind, "last_sha256": rep.LastSHA256, "signers": rep.Signers})
			}
			if rep.HeadBehind {
				g.warn("the last append was interrupted before custody.head was updated; the next entry repairs it\n")
			}
			g.say("OK: %s: %s, %d signed, %d unsigned; chain and signatures intact\n", l.Path(), plural(rep.Entries, "entry"), rep.Signed, rep.Unsigned)
			if rep.Entries > 0 {
				// What to keep elsewhere: a log cut back and written on
				// from there can reach the same count again, not this hash.
				g.say("    entry %d is SHA-256 %s\n", rep.Entries, rep.LastSHA256)
				fps := slices.Sorted(maps.Keys(rep.Signers))
				for _, fp := range fps {
					short := fp
					if f, err := card.ParseFingerprintHex(fp); err == nil {
						short = f.String()
					}
					g.say("    signed by %s: %s\n", short, plural(rep.Signers[fp], "entry"))
				}
			}
			return nil
		},
	}
	cmd.AddCommand(verify)
	return cmd
}

// printLogJSON prints {"entries": [...], "log": PATH} exactly as
// printJSON would, an entry at a time.
func (g *globalOptions) printLogJSON(ctx context.Context, l *custody.Log) error {
	out := bufio.NewWriter(g.stdout)
	var entry bytes.Buffer
	enc := json.NewEncoder(&entry)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	out.WriteString("{\n  \"entries\": [")
	i := 0
	err := l.Each(ctx, func(e *custody.Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		entry.Reset()
		if err := enc.Encode(e); err != nil {
			return err
		}
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString("\n    ")
		out.Write(bytes.TrimSuffix(entry.Bytes(), []byte("\n")))
		i++
		return nil
	})
	if err != nil {
		return err
	}
	if i > 0 {
		out.WriteString("\n  ")
	}
	entry.Reset()
	if err := enc.Encode(l.Path()); err != nil {
		return err
	}
	out.WriteString("],\n  \"log\": ")
	out.Write(bytes.TrimSuffix(entry.Bytes(), []byte("\n")))
	out.WriteString("\n}\n")
	return out.Flush()
}

func openLog() (*custody.Log, error) {
	home, err := custody.DefaultHome()
	if err != nil {
		return nil, err
	}
	return custody.Open(home)
}
