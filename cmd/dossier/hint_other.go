//go:build !unix

package main

// storageHint says what to do about a write that the storage refused, or
// "" for other errors.
func storageHint(err error) string { return "" }
