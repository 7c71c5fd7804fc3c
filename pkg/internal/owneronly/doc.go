// Package owneronly creates files and folders that only the current user
// can read, on every system dossier runs on.
//
// On Unix that is the mode (0600 for files, 0700 for folders). On Windows,
// where modes mean nothing, the object is created with a protected DACL
// that grants the current user, and nobody else, full control; folders pass
// that entry on to everything created inside them. The security descriptor
// is given to CreateFile and CreateDirectory themselves, so there is no
// moment at which the object exists with inherited, wider access.
//
// Creation fails, and says so, when the restriction cannot be applied:
// dossier never silently leaves a secret readable by others.
package owneronly

import "errors"

// ErrNotRestricted is wrapped by errors that mean the object could not be
// restricted to the current user, or (from Check) is not.
var ErrNotRestricted = errors.New("not restricted to the current user")
