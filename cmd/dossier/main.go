// Command dossier moves evidence between authorities in signed,
// zstd-compressed, age-encrypted bundles with a manifest of data categories.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
