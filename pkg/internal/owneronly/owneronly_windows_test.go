package owneronly

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// TestCheckRefusesSharedFile gives a file an entry for Everyone and expects
// Check to name the refusal.
func TestCheckRefusesSharedFile(t *testing.T) {
	p := filepath.Join(tempDir(t), "shared.txt")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	everyone, err := windows.CreateWellKnownSid(windows.WinWorldSid)
	if err != nil {
		t.Fatal(err)
	}
	acl, err := windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{{
		AccessPermissions: windows.GENERIC_READ,
		AccessMode:        windows.GRANT_ACCESS,
		Inheritance:       windows.NO_INHERITANCE,
		Trustee: windows.TRUSTEE{
			TrusteeForm:  windows.TRUSTEE_IS_SID,
			TrusteeType:  windows.TRUSTEE_IS_WELL_KNOWN_GROUP,
			TrusteeValue: windows.TrusteeValueFromSID(everyone),
		},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(p, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil); err != nil {
		t.Fatal(err)
	}
	if err := Check(p); !errors.Is(err, ErrNotRestricted) {
		t.Fatalf("Check of a file Everyone may read = %v, want ErrNotRestricted", err)
	}
}

// TestCreateTempDescriptor reads the new file's descriptor back: protected,
// one entry, the current user, full control.
func TestCreateTempDescriptor(t *testing.T) {
	f, err := CreateTemp(tempDir(t), "x*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	sd, err := windows.GetNamedSecurityInfo(f.Name(), windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	control, _, err := sd.Control()
	if err != nil {
		t.Fatal(err)
	}
	if control&windows.SE_DACL_PROTECTED == 0 {
		if isWine() {
			// Wine keeps a file's access list as Unix mode bits, which
			// have no such flag.
			t.Log("Wine does not keep SE_DACL_PROTECTED; not checked")
		} else {
			t.Error("the DACL is not protected from inheritance")
		}
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	me, err := currentUser()
	if err != nil {
		t.Fatal(err)
	}
	mine := 0
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			t.Fatal(err)
		}
		who := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		t.Logf("entry %d: type %d, mask %#x, %s", i, ace.Header.AceType, ace.Mask, who)
		switch {
		case who.Equals(me):
			mine++
		case who.IsWellKnown(windows.WinLocalSystemSid), who.IsWellKnown(windows.WinBuiltinAdministratorsSid):
			// Added by some systems (Wine does); Check allows them.
		default:
			t.Errorf("entry %d grants %s, who is neither the user nor the system", i, who)
		}
	}
	if mine != 1 {
		t.Errorf("%d entries for the current user, want 1", mine)
	}
}

// isWine reports whether the test runs under Wine, whose ntdll exports
// wine_get_version.
func isWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// skipInheritance is true under Wine, which gives new files an access list
// made from Unix mode bits instead of inheriting the folder's.
func skipInheritance() bool { return isWine() }

// On a volume that keeps no access lists (a FAT stick), files and folders
// are still created, and Check says why they are not private.
func TestVolumeWithoutACLs(t *testing.T) {
	saved := volumeKeepsACLs
	t.Cleanup(func() { volumeKeepsACLs = saved })
	volumeKeepsACLs = func(string) (bool, string) { return false, "FAT32" }
	dir := tempDir(t)
	f, err := CreateTemp(dir, "key*")
	if err != nil {
		t.Fatalf("CreateTemp on a FAT volume: %v", err)
	}
	f.Close()
	sub, err := MkdirTemp(dir, "case*")
	if err != nil {
		t.Fatalf("MkdirTemp on a FAT volume: %v", err)
	}
	for _, p := range []string{f.Name(), sub} {
		err := Check(p)
		if !errors.Is(err, ErrNotRestricted) || !strings.Contains(err.Error(), "FAT32 file system, which keeps no access lists") {
			t.Errorf("Check(%s) = %v, want ErrNotRestricted naming FAT32", p, err)
		}
	}
}
