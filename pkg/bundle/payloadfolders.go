package bundle

import (
	"errors"
	"os"
	"strings"
)

// plainName refuses a name that is not one name in its folder: empty,
// "." or "..", or holding a slash or a NUL. The paths of a bundle are
// checked long before (safepath), so this is a second wall, as os.Root
// was: a name that got past the first must not lead out of the folder.
func plainName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return &os.PathError{Op: "open", Path: name, Err: errors.New("not a plain name in its folder (a bug in dossier)")}
	}
	return nil
}
