//go:build !linux

package main

import "errors"

func failSyncCalls() error {
	return errors.New("failing sync calls needs Linux seccomp")
}
