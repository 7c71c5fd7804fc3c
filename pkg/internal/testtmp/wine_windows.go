package testtmp

import "golang.org/x/sys/windows"

// IsWine reports whether the process runs under Wine, whose ntdll exports
// wine_get_version.
func IsWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
