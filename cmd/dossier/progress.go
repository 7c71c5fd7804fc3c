package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a bar on a terminal's stderr, and is a no-op otherwise.
type progress struct {
	bar *progressbar.ProgressBar
	out *os.File
	g   *globalOptions
	// mu keeps a message (tellStderr) from being written while the bar is
	// drawn: updates may come from another goroutine.
	mu sync.Mutex
}

// newProgress returns a bar for total bytes when stderr is a terminal and
// neither --quiet, --json nor --no-progress was given.
func (g *globalOptions) newProgress(what string, total int64) *progress {
	f, ok := g.stderr.(*os.File)
	if g.Quiet || g.JSON || g.NoProgress || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	p := &progress{bar: progressbar.NewOptions64(total, barOptions(f, what)...), out: f, g: g}
	g.bar = p
	return p
}

// tellStderr writes msg to stderr. With a bar on screen it first blanks the
// bar's line, so that the message starts at the line's beginning instead
// of after the bar; the bar is drawn again below it at its next update.
func (g *globalOptions) tellStderr(msg string) {
	p := g.bar
	if p == nil {
		fmt.Fprint(g.stderr, msg)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blankLine()
	fmt.Fprint(g.stderr, msg)
}

// blankLine overwrites the terminal's current line with spaces and
// returns the cursor to its start (only returns it on a terminal of
// unknown width).
func (p *progress) blankLine() {
	blank := "\r"
	if width, _, err := term.GetSize(int(p.out.Fd())); err == nil && width > 1 {
		blank += strings.Repeat(" ", width-1) + "\r"
	}
	fmt.Fprint(p.out, blank)
}

// barOptions configures the bar: plain text redrawn with carriage
// returns, no colours and no ANSI escape sequences, so that it shows the
// same on every terminal, old Windows consoles included.
func barOptions(w io.Writer, what string) []progressbar.Option {
	return []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionEnableColorCodes(false),
		progressbar.OptionUseANSICodes(false),
	}
}

// progressHook, if set, sees every progress update. Only tests set it, to
// pause a child process at a known point of its work (faults_test.go).
var progressHook func(done, total int64)

func (p *progress) update(done, total int64) {
	if progressHook != nil {
		progressHook(done, total)
	}
	if p.bar != nil {
		p.mu.Lock()
		p.bar.Set64(done)
		p.mu.Unlock()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		if p.g.bar == p {
			p.g.bar = nil
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.bar.Finish()
		if runtime.GOOS == "windows" {
			// The bar clears itself with spaces elsewhere but only
			// returns the cursor on Windows; blank the line so that
			// what is printed next does not end in the bar's tail.
			p.blankLine()
		}
	}
}
