package atomicfile

// publishRename is the no-replace rename that Publish uses. Fault tests in
// this module replace it through ReplaceRenameForTest.
var publishRename = renameNoReplace

// ReplaceRenameForTest makes Publish rename through wrap(real) until the
// returned function is called, so that a test can fail chosen renames (as
// a failing disk or a full directory would) and check how callers clean
// up. It is for tests only and not safe to use concurrently with Publish.
func ReplaceRenameForTest(wrap func(real func(tmp, final string) error) func(tmp, final string) error) (restore func()) {
	old := publishRename
	publishRename = wrap(old)
	return func() { publishRename = old }
}

// syncDir is the folder sync WriteFile makes once it has published;
// tests replace it to see a refused sync.
var syncDir = SyncDir
