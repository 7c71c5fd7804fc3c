//go:build !linux && !windows

package atomicfile

func renameNoReplace(oldpath, newpath string) error {
	return renameFallback(oldpath, newpath)
}
