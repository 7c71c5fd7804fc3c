//go:build !unix

package atomicfile

import "testing"

func strictUmask(t *testing.T) {}
