package main

import (
	"github.com/dossier-evidence/dossier/pkg/custody"
)

// previousOpen returns the custody log's first entry recording an open of
// bundle id on this machine (under DOSSIER_HOME) that published its
// documents, or nil if there is none. Such an entry's outcome is "ok", or
// an error that came after publishing (the receipt could not be written):
// only an open that published has the bundle's hash. With no home folder
// there is no log, so nothing to find.
func previousOpen(id string) (*custody.Entry, error) {
	return findInLog(func(e *custody.Entry) bool {
		return e.Action == "open" && e.BundleID == id && (e.Outcome == "ok" || e.BundleHash != "")
	})
}

// findInLog returns the first entry of this machine's custody log (under
// DOSSIER_HOME) that match accepts, or nil if there is none. With no home
// folder there is no log, so nothing to find.
func findInLog(match func(*custody.Entry) bool) (*custody.Entry, error) {
	home, err := custody.DefaultHome()
	if err != nil {
		return nil, nil
	}
	l, err := custody.Open(home)
	if err != nil {
		return nil, err
	}
	return l.Find(match)
}
