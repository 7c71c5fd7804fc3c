//go:build unix

package bundle

import (
	"io/fs"
	"os"
	"slices"
	"sync"
	"syscall"
)

// ids is this process's effective user and group ids, read once.
var ids = sync.OnceValues(func() (uid int, gids []int) {
	gids, _ = os.Getgroups()
	return os.Geteuid(), append(gids, os.Getegid())
})

// mayBeUnreadable reports whether the permission bits of the file info
// describes deny this process reading it. It only says "maybe": an access
// list or a capability may allow it all the same, so a caller opens the
// file to be sure. Bits that allow reading are taken at their word.
func mayBeUnreadable(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	uid, gids := ids()
	perm := info.Mode().Perm()
	switch {
	case uid == 0:
		return false
	case int(st.Uid) == uid:
		return perm&0o400 == 0
	case slices.Contains(gids, int(st.Gid)):
		return perm&0o040 == 0
	}
	return perm&0o004 == 0
}
