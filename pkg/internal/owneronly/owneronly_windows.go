//go:build windows

package owneronly

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/dossier-evidence/dossier/pkg/internal/winpath"
)

// Deny entry types other than the basic one (winnt.h).
const (
	accessDeniedObjectACE         = 0x6
	accessDeniedCallbackACE       = 0xA
	accessDeniedCallbackObjectACE = 0xC
)

// currentUser returns the SID of the user this process runs as.
func currentUser() (*windows.SID, error) {
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("%w: find the current user: %w", ErrNotRestricted, err)
	}
	return user.User.Sid, nil
}

// securityAttributes returns attributes whose descriptor carries a
// protected DACL with a single entry: full control for the current user,
// inherited by children when inherit is set.
func securityAttributes(inherit bool) (*windows.SecurityAttributes, error) {
	sid, err := currentUser()
	if err != nil {
		return nil, err
	}
	inheritance := uint32(windows.NO_INHERITANCE)
	if inherit {
		inheritance = windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT
	}
	acl, err := windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{{
		AccessPermissions: windows.GENERIC_ALL,
		AccessMode:        windows.GRANT_ACCESS,
		Inheritance:       inheritance,
		Trustee: windows.TRUSTEE{
			TrusteeForm:  windows.TRUSTEE_IS_SID,
			TrusteeType:  windows.TRUSTEE_IS_USER,
			TrusteeValue: windows.TrusteeValueFromSID(sid),
		},
	}}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: build the access list: %w", ErrNotRestricted, err)
	}
	sd, err := windows.NewSecurityDescriptor()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRestricted, err)
	}
	if err := sd.SetDACL(acl, true, false); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRestricted, err)
	}
	if err := sd.SetControl(windows.SE_DACL_PROTECTED, windows.SE_DACL_PROTECTED); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRestricted, err)
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	return sa, nil
}

// tempName returns dir joined with pattern, its last "*" (or its end)
// replaced by random hex, as os.CreateTemp does.
func tempName(dir, pattern string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if strings.ContainsAny(pattern, `/\`) {
		return "", fmt.Errorf("pattern %q contains a path separator", pattern)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	prefix, suffix := pattern, ""
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	return filepath.Join(dir, prefix+hex.EncodeToString(b[:])+suffix), nil
}

// CreateTemp creates a new file in dir, named after pattern as
// os.CreateTemp does, that only the current user can open.
func CreateTemp(dir, pattern string) (*os.File, error) {
	if ok, _ := volumeKeepsACLs(dir); !ok {
		// FAT, exFAT and some shares keep no access lists: nothing can
		// restrict the file there. Create it as os.CreateTemp does;
		// Check says why it is not private.
		return os.CreateTemp(dir, pattern)
	}
	sa, err := securityAttributes(false)
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		name, err := tempName(dir, pattern)
		if err != nil {
			return nil, err
		}
		p, err := windows.UTF16PtrFromString(winpath.Long(name))
		if err != nil {
			return nil, err
		}
		h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
			sa, windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
		if errors.Is(err, windows.ERROR_FILE_EXISTS) && try < 100 {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "create", Path: name, Err: err}
		}
		f := os.NewFile(uintptr(h), name)
		if err := Check(name); err != nil {
			f.Close()
			os.Remove(name)
			return nil, err
		}
		return f, nil
	}
}

// MkdirTemp creates a new folder in dir, named after pattern as
// os.MkdirTemp does, that only the current user can enter; what is created
// inside it inherits that restriction.
func MkdirTemp(dir, pattern string) (string, error) {
	if ok, _ := volumeKeepsACLs(dir); !ok {
		return os.MkdirTemp(dir, pattern)
	}
	sa, err := securityAttributes(true)
	if err != nil {
		return "", err
	}
	for try := 0; ; try++ {
		name, err := tempName(dir, pattern)
		if err != nil {
			return "", err
		}
		p, err := windows.UTF16PtrFromString(winpath.Long(name))
		if err != nil {
			return "", err
		}
		err = windows.CreateDirectory(p, sa)
		if errors.Is(err, windows.ERROR_ALREADY_EXISTS) && try < 100 {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "mkdir", Path: name, Err: err}
		}
		if err := Check(name); err != nil {
			os.Remove(name)
			return "", err
		}
		return name, nil
	}
}

// volumeKeepsACLs reports whether the volume holding path keeps access
// lists (NTFS and ReFS do; FAT, exFAT and some network shares do not), and
// the volume's file system name. When it cannot tell, it says yes, and
// Check reads the access list itself. Tests replace it.
var volumeKeepsACLs = func(path string) (bool, string) {
	p, err := windows.UTF16PtrFromString(winpath.Long(path))
	if err != nil {
		return true, ""
	}
	root := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumePathName(p, &root[0], uint32(len(root))); err != nil {
		return true, ""
	}
	var flags uint32
	name := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumeInformation(&root[0], nil, 0, nil, nil, &flags, &name[0], uint32(len(name))); err != nil {
		return true, ""
	}
	return flags&windows.FILE_PERSISTENT_ACLS != 0, windows.UTF16ToString(name)
}

// Check reports (wrapping ErrNotRestricted) whether path's DACL grants
// access to anyone but the current user, the operating system (SYSTEM) and
// the machine's administrators, who can take any file anyway. That is the
// rule OpenSSH for Windows applies to private keys. A file on a volume that
// keeps no access lists (a FAT or exFAT USB stick) is never private.
func Check(path string) error {
	if ok, fs := volumeKeepsACLs(path); !ok {
		if fs == "" {
			fs = "this"
		}
		return fmt.Errorf("%w: %s is on a %s file system, which keeps no access lists: anyone with the drive can read it", ErrNotRestricted, path, fs)
	}
	sid, err := currentUser()
	if err != nil {
		return err
	}
	sd, err := windows.GetNamedSecurityInfo(winpath.Long(path), windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("%w: read the access list of %s: %w", ErrNotRestricted, path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return fmt.Errorf("%w: %s has no access list (everyone may open it)", ErrNotRestricted, path)
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return fmt.Errorf("%w: %s: read access entry %d: %w", ErrNotRestricted, path, i, err)
		}
		switch ace.Header.AceType {
		case windows.ACCESS_DENIED_ACE_TYPE, accessDeniedObjectACE, accessDeniedCallbackACE, accessDeniedCallbackObjectACE:
			continue // deny entries only narrow access
		case windows.ACCESS_ALLOWED_ACE_TYPE:
		default:
			// Conditional and object entries keep their SID elsewhere;
			// count them as granting someone else.
			return fmt.Errorf("%w: %s has an access entry of type %d that may grant others access", ErrNotRestricted, path, ace.Header.AceType)
		}
		who := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if !who.Equals(sid) && !who.IsWellKnown(windows.WinLocalSystemSid) && !who.IsWellKnown(windows.WinBuiltinAdministratorsSid) {
			return fmt.Errorf("%w: %s also grants access to %s", ErrNotRestricted, path, who.String())
		}
	}
	return nil
}
