// Command smallfiles writes N small text files (100 to 3,000 bytes) into a
// folder tree, deterministically, for the benchmark's file-count runs.
//
//	go run ./scripts/smallfiles -out /tmp/many -n 100000
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("out", "", "output folder (created)")
	n := flag.Int("n", 100000, "number of files")
	flag.Parse()
	if *out == "" {
		log.Fatal("smallfiles: -out is required")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("witness statement transfer account ledger invoice meeting vehicle address phone report evidence officer court request authority")
	for i := 0; i < *n; i++ {
		dir := filepath.Join(*out, fmt.Sprintf("d%03d", i/1000))
		if i%1000 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				log.Fatal(err)
			}
		}
		var b strings.Builder
		size := 100 + rng.IntN(2900)
		for b.Len() < size {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d.txt", i)), []byte(b.String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
