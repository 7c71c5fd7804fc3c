//go:build !man

package main

import "github.com/spf13/cobra"

// manCommands is empty without the build tag "man"; see man.go.
func manCommands(*globalOptions) []*cobra.Command { return nil }
