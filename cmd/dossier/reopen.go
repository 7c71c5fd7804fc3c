package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dossier-evidence/dossier/pkg/custody"
)

// previousOpen returns the custody log's first entry recording an open of
// bundle id on this machine (under DOSSIER_HOME) that published its
// documents, or nil if there is none. The log's chain is checked as it is
// read (custody's FindChained): an entry deleted or edited by hand, which
// could hide an earlier open, is an altered log. Such an entry's outcome is "ok", or
// an error that came after publishing (the receipt could not be written):
// only an open that published has the bundle's hash. With no home folder
// there is no log, so nothing to find.
func previousOpen(ctx context.Context, id string) (*custody.Entry, error) {
	return findInLog(ctx, false, func(e *custody.Entry) bool {
		return e.Action == "open" && e.BundleID == id && (e.Outcome == "ok" || e.BundleHash != "")
	})
}

// findInLog returns the first entry of this machine's custody log (under
// DOSSIER_HOME) that match accepts, or nil if there is none, once the log
// has been checked: its chain (custody's FindChained), or with signatures
// its whole (FindVerified). With no home folder there is no log, so
// nothing to find.
func findInLog(ctx context.Context, signatures bool, match func(*custody.Entry) bool) (*custody.Entry, error) {
	home, err := custody.DefaultHome()
	if err != nil {
		return nil, nil
	}
	l, err := custody.Open(home)
	if err != nil {
		return nil, err
	}
	if signatures {
		return l.FindVerified(ctx, match)
	}
	return l.FindChained(ctx, match)
}

// reopenWaitNotice is how long an open waits for another open of the same
// bundle before it says why it is waiting.
const reopenWaitNotice = time.Second

// reserveOpen takes this machine's lock on bundle id (custody's
// LockBundle) and holds it until the open's outcome is in the custody log,
// so that two opens of one bundle at the same time cannot both pass the
// replay check: the second waits for the first to end, then finds it in
// the log. A lock that cannot be taken is a warning, as a log that cannot
// be read is (and a log that cannot be opened is left to the check to
// report); an interrupt while waiting ends the open.
func (g *globalOptions) reserveOpen(ctx context.Context, id string) error {
	home, err := custody.DefaultHome()
	if err != nil {
		return nil // no home folder, no log: nothing to check against
	}
	l, err := custody.Open(home)
	if err != nil {
		return nil // previousOpen meets the same error and reports it
	}
	quiet := g.Quiet || g.JSON
	said := make(chan struct{})
	notice := time.AfterFunc(reopenWaitNotice, func() {
		defer close(said)
		if !quiet {
			g.tellStderr(fmt.Sprintf("dossier: waiting for another open on this machine to end: it holds the lock that bundle %s needs\n", id))
		}
	})
	release, err := l.LockBundle(ctx, id)
	if !notice.Stop() {
		<-said // nothing is written to stderr beside it
	}
	switch {
	case err == nil:
		g.holdUntilLogged(release)
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	g.warn("could not lock bundle %s against another open at the same time: %s\n", id, oneLine(err.Error()))
	return nil
}
