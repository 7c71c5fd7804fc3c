// Package filekind names the kind of a file that is not a regular file,
// for messages that refuse it: "a symbolic link", "a folder", "a device".
package filekind

import "io/fs"

// Of names what a file of mode m is, with its article: "a folder", "a
// symbolic link", "a named pipe", "a socket", "a device", "a regular
// file", or else "a special file".
func Of(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
