package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/dossier-evidence/dossier/pkg/bagit"
	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/contacts"
	"github.com/dossier-evidence/dossier/pkg/custody"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/printable"
	"github.com/dossier-evidence/dossier/pkg/receipt"
	"github.com/dossier-evidence/dossier/pkg/seal"
	"github.com/dossier-evidence/dossier/pkg/volume"
)

// Exit codes: the documented contract.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitIntegrity   = 3
	exitNoIdentity  = 4
	exitInterrupted = 130
)

// globalOptions are the flags every command shares, plus the process's
// streams and clock (replaced in tests).
type globalOptions struct {
	JSON  bool
	Quiet bool
	// What --passphrase-file gave, read once (it may be a pipe).
	passFileRead   bool
	passFileData   []byte
	passFileErr    error
	NoProgress     bool
	PassphraseFile string

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time

	// pending is the custody log event of the running command, if any.
	pending *pending
	// ctx is the running command's context, done on Ctrl-C (see run).
	ctx context.Context
	// stdoutIsData is set when stdout carries a bundle: JSON goes to stderr.
	stdoutIsData bool
	// bar is the progress bar on screen, if any (see tellStderr). It is
	// set and cleared by the command's goroutine, before and after any
	// other goroutine that may print (the wait notice of reserveOpen).
	bar *progress
}

// context is the running command's context (Background outside run).
func (g *globalOptions) context() context.Context {
	if g.ctx == nil {
		return context.Background()
	}
	return g.ctx
}

// nowFunc is the clock; tests fix it.
var nowFunc = time.Now

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "dossier",
		Short: "Move evidence between authorities in signed, encrypted bundles",
		Long: `dossier packs documents into one signed, zstd-compressed, age-encrypted
bundle carrying a manifest of data categories; the receiving authority
verifies and opens it. No server is involved and nothing touches the network.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = false
	f := root.PersistentFlags()
	f.BoolVar(&g.JSON, "json", false, "print one machine-readable JSON document on stdout")
	f.BoolVarP(&g.Quiet, "quiet", "q", false, "no narration: only errors, and the results inspect, log, key, contacts list and version exist to print")
	f.BoolVar(&g.NoProgress, "no-progress", false, "never show a progress bar")
	f.StringVar(&g.PassphraseFile, "passphrase-file", "", "read the identity passphrase from `FILE` (first line)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(
		newKeygenCommand(g),
		newKeyCommand(g),
		newPackCommand(g),
		newVerifyCommand(g),
		newInspectCommand(g),
		newOpenCommand(g),
		newExtractCommand(g),
		newReceiptCommand(g),
		newLogCommand(g),
		newDemoCommand(g),
		newVersionCommand(g),
		newContactsCommand(g),
		newPlanCommand(g),
	)
	root.AddCommand(manCommands(g)...)
	finishCommands(g, root)
	return root
}

// run executes the command line and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr, now: nowFunc}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)

	// A hang-up (an SSH session dropped mid-pack) cleans up as an interrupt
	// does.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	g.ctx = ctx
	go func() {
		// After the first signal, let a second Ctrl-C or SIGTERM kill the
		// process at once, as users expect when cleanup seems stuck. A
		// hang-up often comes twice, and nobody is there to be impatient:
		// it is ignored from then on, so that the clean-up finishes.
		<-ctx.Done()
		stop()
		signal.Ignore(syscall.SIGHUP)
	}()
	// Whatever the outcome, nothing held for the log outlives the command.
	defer g.releaseHeld()
	err := root.ExecuteContext(ctx)
	if err == nil {
		g.record("ok", "")
		return exitOK
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ctx.Err())) {
		var partial *partialOutputError
		if errors.As(err, &partial) {
			err = fmt.Errorf("%w; %s", errInterrupted, partial.note())
		} else {
			err = errInterrupted
		}
	}
	g.JSON = g.JSON || jsonRequested(args)
	code, kind := classify(err)
	msg := capLine(oneLine(withHint(err)))
	if code != exitUsage {
		g.record(kind, msg)
	}
	if g.JSON {
		g.printJSON(map[string]any{"error": map[string]any{"code": code, "kind": kind, "message": msg}})
	} else {
		fmt.Fprintf(stderr, "dossier: %s\n", msg)
		var ue *usageError
		if (errors.As(err, &ue) || isCobraUsage(err)) && !strings.Contains(msg, "--help") {
			if c, _, ferr := root.Find(args); ferr == nil && c != nil {
				fmt.Fprintf(stderr, "usage: %s\n", c.UseLine())
			}
		}
	}
	return code
}

var errInterrupted = errors.New("interrupted; temporary files were removed and nothing was published")

// classify is the one place that maps errors to exit codes.
func classify(err error) (int, string) {
	var ue *usageError
	var unlabelled *bundle.UnlabelledError
	var policy *policyError
	switch {
	case errors.Is(err, errInterrupted):
		return exitInterrupted, "interrupted"
	case errors.Is(err, bundle.ErrNoIdentity):
		return exitNoIdentity, "no_identity"
	case errors.As(err, &policy):
		return exitUsage, "policy"
	case errors.As(err, &ue), errors.As(err, &unlabelled), errors.Is(err, bundle.ErrNotInBundle), errors.Is(err, bundle.ErrNoRandomAccess), errors.Is(err, category.ErrUnknown),
		errors.Is(err, category.ErrBadRule), errors.Is(err, category.ErrBadPattern), errors.Is(err, contacts.ErrBadName),
		errors.Is(err, volume.ErrNotFirstVolume), errors.Is(err, volume.ErrSealForSet), errors.Is(err, bundle.ErrNeedsSender),
		isCobraUsage(err):
		return exitUsage, "usage"
	case errors.Is(err, bundle.ErrIntegrity), errors.Is(err, card.ErrInvalid),
		errors.Is(err, manifest.ErrInvalid), errors.Is(err, bagit.ErrInvalid),
		errors.Is(err, seal.ErrInvalid), errors.Is(err, volume.ErrMismatch), errors.Is(err, receipt.ErrInvalid),
		errors.Is(err, custody.ErrBroken), errors.Is(err, contacts.ErrConflict), errors.Is(err, contacts.ErrBroken):
		return exitIntegrity, "integrity"
	default:
		return exitError, "error"
	}
}

func isCobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "unknown flag") ||
		strings.HasPrefix(m, "unknown shorthand flag") || strings.Contains(m, "accepts ") && strings.Contains(m, " arg(s)") ||
		strings.HasPrefix(m, "required flag(s)")
}

// oneLine makes an error message safe and single-line for a terminal.
func oneLine(s string) string {
	return printable.String(strings.ReplaceAll(strings.TrimSpace(s), "\n", "; "))
}

// printJSON writes v as the command's one JSON document: on stdout, or on
// stderr when stdout carries a bundle (pack -o -).
func (g *globalOptions) printJSON(v any) error {
	out := g.stdout
	if g.stdoutIsData {
		out = g.stderr
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printJSONWithFiles is printJSON for a document v whose "files" list is
// not held but written as files yields it: v is encoded with an empty
// string there, and the list is encoded an entry at a time in its place,
// indented as printJSON indents it (TestPrintJSONWithFiles holds the two
// to the same bytes). The list is some 200 bytes a file.
func (g *globalOptions) printJSONWithFiles(v map[string]any, files iter.Seq2[*manifest.File, error]) error {
	out := g.stdout
	if g.stdoutIsData {
		out = g.stderr
	}
	v["files"] = ""
	var doc bytes.Buffer
	enc := json.NewEncoder(&doc)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	// A string value cannot hold a raw line break, so this is the
	// top-level key and nothing else.
	const slot = "\n  \"files\": \"\""
	at := bytes.Index(doc.Bytes(), []byte(slot))
	if at < 0 {
		return errors.New("print JSON: no place for the file list")
	}
	w := bufio.NewWriterSize(out, 64<<10)
	w.Write(doc.Bytes()[:at+len(slot)-2])
	var entry bytes.Buffer
	fenc := json.NewEncoder(&entry)
	fenc.SetEscapeHTML(false)
	fenc.SetIndent("    ", "  ")
	n := 0
	for f, err := range files {
		if err != nil {
			w.Flush()
			return err
		}
		entry.Reset()
		if err := fenc.Encode(f); err != nil {
			w.Flush()
			return err
		}
		if n == 0 {
			w.WriteString("[\n    ")
		} else {
			w.WriteString(",\n    ")
		}
		w.Write(bytes.TrimSuffix(entry.Bytes(), []byte("\n")))
		n++
	}
	if n == 0 {
		w.WriteString("[]")
	} else {
		w.WriteString("\n  ]")
	}
	w.Write(doc.Bytes()[at+len(slot):])
	return w.Flush()
}

// checkKeptFiles reads the signed manifest an opened bag keeps at name
// as a stream, and fails unless it is the one open checked (its SHA-256
// is want) and lists files files: open --json then prints the list from
// it (keptFiles) with nothing left to go wrong but a change made in
// between.
func checkKeptFiles(name string, want [32]byte, files int) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	sc := manifest.NewScanner(io.TeeReader(f, h))
	for {
		if _, err := sc.Next(); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
	}
	if [32]byte(h.Sum(nil)) != want || sc.Count() != files {
		return fmt.Errorf("%s is not the signed manifest that was checked", name)
	}
	return nil
}

// keptFiles yields the files of the signed manifest an opened bag keeps
// at name, read as a stream.
func keptFiles(name string) iter.Seq2[*manifest.File, error] {
	return func(yield func(*manifest.File, error) bool) {
		f, err := os.Open(name)
		if err != nil {
			yield(nil, fmt.Errorf("list the opened files: %w", err))
			return
		}
		defer f.Close()
		sc := manifest.NewScanner(f)
		for {
			file, err := sc.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, fmt.Errorf("list the opened files from %s: %w", name, err))
				return
			}
			if !yield(file, nil) {
				return
			}
		}
	}
}

// maxMessage is the most of an error message printed: a message quoting
// hostile text (a spec, a card, a receipt of 60 KB) is cut there.
const maxMessage = 4096

// capLine cuts an escaped one-line message to about maxMessage bytes,
// at characters' boundaries, by leaving out its middle and saying how
// much: the end says what is wrong and what to do, and must stay (found
// by an audit: a path near 4096 bytes pushed the reason out).
func capLine(msg string) string {
	if len(msg) <= maxMessage+64 { // no shorter for the cut
		return msg
	}
	head, tail := maxMessage/2, len(msg)-maxMessage/2
	for head > 0 && !utf8.RuneStart(msg[head]) {
		head--
	}
	for tail < len(msg) && !utf8.RuneStart(msg[tail]) {
		tail++
	}
	return fmt.Sprintf("%s… (%d bytes not shown) …%s", msg[:head], tail-head, msg[tail:])
}

// say prints one line of human output unless --quiet or --json.
func (g *globalOptions) say(format string, args ...any) {
	if g.Quiet || g.JSON {
		return
	}
	fmt.Fprint(g.stdout, shownLine(format, args...))
}

// shownLine formats one line of human output, ending in a newline, safe
// for a terminal whatever its arguments hold: paths, names and globs
// come from the command line, spec files and other people's files, so
// every control, bidi, invisible or invalid character in the line is
// escaped (printable.Text: a backslash is left as it is, so Windows paths
// read as typed, and text escaped before is not escaped again).
func shownLine(format string, args ...any) string {
	return printable.Text(strings.TrimSuffix(fmt.Sprintf(format, args...), "\n")) + "\n"
}

// warn prints a warning on stderr unless --quiet or --json.
func (g *globalOptions) warn(format string, args ...any) {
	// Under --json the document is on stdout and warnings stay on stderr,
	// where a script's log keeps them (a key others can read, a card
	// naming itself like a contact); not when the document itself goes to
	// stderr (pack -o -), which must hold nothing else.
	if g.Quiet || g.JSON && g.stdoutIsData {
		return
	}
	g.tellStderr(shownLine("dossier: warning: "+format, args...))
}

// loadCard reads and checks a card file or, when no file of that name
// exists, the card of the contact of that name. A bare name that is both
// a file here and a contact is refused as ambiguous: a file named like a
// contact (on a courier's stick, in an opened bag) must not silently
// stand in for the contact. So is a card file that names itself like a
// contact held by another key.
func loadCard(arg string) (*card.Card, error) {
	if _, err := os.Lstat(arg); errors.Is(err, fs.ErrNotExist) {
		return loadContactCard(arg, err)
	}
	if err := ambiguousWithContact(arg); err != nil {
		return nil, err
	}
	c, err := loadCardFile(arg)
	if err != nil {
		return nil, err
	}
	if err := impersonation(arg, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ambiguousWithContact fails if arg, an existing file, is written as a bare
// name that is also a contact's.
func ambiguousWithContact(arg string) error {
	if looksLikeFile(arg) {
		return nil
	}
	book, err := openContacts()
	if err != nil {
		return nil
	}
	if ct, err := book.Get(arg); err == nil {
		return usagef("%q is both a file here and your contact %q: write %s for the file, or run dossier from another folder for the contact", arg, ct.Name, shellQuote("./"+arg))
	}
	return nil
}

// impersonation fails if the card c, read from the file arg, names itself
// like a contact who is another key.
func impersonation(arg string, c *card.Card) error {
	e, held := impersonatedContact(c)
	if e == nil {
		return nil
	}
	return fmt.Errorf("%w: the card %s names %q, which reads as your contact %q, but that contact is the key %s and this card the key %s: this may be an impersonation; compare fingerprints with the holder, and if both are genuine, store this one with 'dossier contacts add %s --as NAME' and use that name",
		contacts.ErrConflict, arg, c.Name, e.Name, held, c.Fingerprint(), shellQuote(arg))
}

// refuseReplacingInputs refuses an output that is one of the files the
// command reads (its identity, a card, the spec, the passphrase file),
// which --force would otherwise replace: the identity may be the only
// copy of a secret key (found by an audit: 'pack -i al.id … --force -o
// al.id' replaced the key with the bundle). Names that are not files (a
// contact's name, "-") are passed over.
func refuseReplacingInputs(outputs []string, inputs ...string) error {
	for _, out := range outputs {
		if out == "" || out == "-" {
			continue
		}
		ost, err := os.Stat(out)
		if err != nil {
			continue
		}
		for _, in := range inputs {
			if in == "" || in == "-" {
				continue
			}
			if ist, err := os.Stat(in); err == nil && os.SameFile(ist, ost) {
				what := out + " is " + in + ", which this command reads"
				if filepath.Clean(out) == filepath.Clean(in) {
					what = out + " is a file this command reads"
				}
				return usagef("%s: write elsewhere (--force never replaces a command's own keys, cards, spec or passphrase file)", what)
			}
		}
	}
	return nil
}

// impersonatedContact returns the contact whose name c's name reads as
// while c is another key, and that contact's fingerprint; nil if there is
// none or the contacts cannot be read.
func impersonatedContact(c *card.Card) (*contacts.Entry, card.Fingerprint) {
	book, err := openContacts()
	if err != nil {
		return nil, card.Fingerprint{}
	}
	e, err := book.Impersonated(c.Name, c.Fingerprint())
	if err != nil || e == nil {
		return nil, card.Fingerprint{}
	}
	held, _ := card.ParseFingerprintHex(e.Fingerprint)
	return e, held
}

// loadCardFile reads and checks a card file.
func loadCardFile(path string) (*card.Card, error) {
	data, err := readSmallFile(path, card.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("read card: %w", err)
	}
	c, err := card.Parse(data)
	if errors.Is(err, card.ErrInvalid) {
		return nil, fmt.Errorf("card %s: %w (ask its holder for the card again, as 'dossier keygen' wrote it, and compare fingerprints)", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", path, err)
	}
	return c, nil
}

// loadIdentity reads an identity file, asking for its passphrase if needed.
func (g *globalOptions) loadIdentity(path string) (*identity.Identity, error) {
	if path == "" {
		return nil, usagef("no identity given: pass -i ID_FILE (made by 'dossier keygen')")
	}
	data, err := readSmallFile(path, identity.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("read identity: %w", err)
	}
	id, err := identity.Parse(data, func() (string, error) {
		return g.passphrase(fmt.Sprintf("Passphrase for %s: ", oneLine(path)), false)
	})
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", path, err)
	}
	// Unlocking takes about a second (scrypt): a Ctrl-C meanwhile ends
	// the command here, before it uses or prints the key (found by an
	// audit: key age-identity printed the secret key after it).
	if g.ctx != nil && g.ctx.Err() != nil {
		return nil, g.ctx.Err()
	}
	g.warnIfShared("secret identity file", path)
	return id, nil
}

// warnIfShared warns when the secret file at path (what it is: "secret
// identity file", "passphrase file") can be read by
// others, and says how to fix that.
func (g *globalOptions) warnIfShared(what, path string) {
	if err := identity.CheckPrivate(path); errors.Is(err, identity.ErrNotPrivate) {
		g.warn("%s\n", oneLine(fmt.Sprintf("the %s %s can be read by others (%v); restrict it to yourself: %s", what, path, err, restrictHint(path))))
	}
}

// restrictHint says how to make a file private on this system.
func restrictHint(path string) string {
	if runtime.GOOS == "windows" {
		return fmt.Sprintf(`icacls "%s" /inheritance:r /grant:r "%%USERNAME%%:F" (on a FAT or exFAT drive nothing can: keep the key on an NTFS drive)`, path)
	}
	return "chmod 600 " + shellQuote(path)
}

func readSmallFile(path string, max int64) ([]byte, error) {
	return readBounded(path, max, false, "a dossier key file")
}

// readBounded reads at most max bytes from the regular file at path, or
// also from a pipe if pipes is set; a larger file is not what (say, "a
// dossier key file").
func readBounded(path string, max int64, pipes bool, what string) ([]byte, error) {
	// Looked at before it is opened: opening a named pipe waits for a
	// writer, for ever if none comes, and Ctrl-C is not heard there
	// (found by an audit: a FIFO given as a card or key hung).
	// (A file that cannot be looked at is opened all the same, for
	// open's own error.)
	if st, err := os.Stat(path); err == nil {
		if err := checkBoundedKind(path, st, pipes); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkBoundedKind(path, st, pipes); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes: not %s", path, max, what)
	}
	return data, nil
}

// checkBoundedKind refuses what readBounded does not read: anything but
// a regular file, or a pipe if pipes is set.
func checkBoundedKind(path string, st fs.FileInfo, pipes bool) error {
	switch {
	case st.Mode().IsRegular():
	case pipes && st.Mode()&fs.ModeNamedPipe != 0:
	case pipes:
		return fmt.Errorf("%s is neither a regular file nor a pipe", path)
	default:
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}

func newVersionCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print dossier's version and bundle format version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.JSON {
				return g.printJSON(map[string]any{"version": version, "format_version": manifest.FormatVersion, "reads_format_versions": []int{manifest.Version1, manifest.Version2, manifest.Version3}})
			}
			fmt.Fprintf(g.stdout, "dossier %s (writes bundle format v%d, reads v%d to v%d)\n", version, manifest.FormatVersion, manifest.Version1, manifest.Version3)
			return nil
		},
	}
}

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"
