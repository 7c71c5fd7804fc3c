package main

import (
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a bar on a terminal's stderr, and is a no-op otherwise.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a bar for total bytes when stderr is a terminal and
// neither --quiet, --json nor --no-progress was given.
func (g *globalOptions) newProgress(what string, total int64) *progress {
	f, ok := g.stderr.(*os.File)
	if g.Quiet || g.JSON || g.NoProgress || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)}
}

// progressHook, if set, sees every progress update. Only tests set it, to
// pause a child process at a known point of its work (faults_test.go).
var progressHook func(done, total int64)

func (p *progress) update(done, total int64) {
	if progressHook != nil {
		progressHook(done, total)
	}
	if p.bar != nil {
		p.bar.Set64(done)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
