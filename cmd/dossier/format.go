package main

import (
	"fmt"
	"io"

	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// humanBytes formats n with a binary unit, e.g. "1.5 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// printSummary prints the per-category table.
func printSummary(w io.Writer, sum []manifest.CategoryTotal) {
	fmt.Fprintln(w, "categories:")
	for _, t := range sum {
		fmt.Fprintf(w, "  %-17s %6d files  %10s\n", t.Category, t.Files, humanBytes(t.Bytes))
	}
}
