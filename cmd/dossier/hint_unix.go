//go:build unix

package main

import (
	"errors"
	"syscall"
)

// storageHint says what to do about a write that the storage refused, or
// "" for other errors.
func storageHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "the disk is full: free some space, or write somewhere else"
	case errors.Is(err, syscall.EDQUOT):
		return "your disk quota is used up: free some space, or write somewhere else"
	case errors.Is(err, syscall.EROFS):
		return "that folder is on a read-only file system or a write-protected medium: write somewhere else"
	case errors.Is(err, syscall.EIO):
		return "the storage reported an error (a failing disk, or a medium removed while in use?): check it, or write somewhere else"
	case errors.Is(err, syscall.EFBIG):
		return "the file is larger than this file system or the file-size limit (ulimit -f) allows; FAT32 stops at 4 GiB: write somewhere else (a bundle: pack it with --split SIZE into volumes that fit)"
	}
	return ""
}
