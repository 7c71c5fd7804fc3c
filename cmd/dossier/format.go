package main

import (
	"fmt"
	"io"
	"strings"

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
		noun := "files"
		if t.Files == 1 {
			noun = "file"
		}
		fmt.Fprintf(w, "  %-17s %6d %-5s %10s\n", t.Category, t.Files, noun, humanBytes(t.Bytes))
	}
}

// plural formats a count with a noun: "1 file", "2 files".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
