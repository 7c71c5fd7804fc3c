//go:build !windows

package owneronly

func skipInheritance() bool { return false }
