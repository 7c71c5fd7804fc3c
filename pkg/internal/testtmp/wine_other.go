//go:build !windows

package testtmp

// IsWine reports whether the process runs under Wine: never, here.
func IsWine() bool { return false }
