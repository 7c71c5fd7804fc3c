package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
)

// pack keeps the first few of the files a recipient does not accept and
// counts the rest, holding no list of them (a case of many files all
// going to someone who does not accept them); plan keeps them all.
func TestFindViolations(t *testing.T) {
	dir := t.TempDir()
	for i := range 10 {
		p := filepath.Join(dir, "case", fmt.Sprintf("f%02d.txt", i))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Two categories a file: two violations each.
	plan, err := bundle.MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.TradeSecret, category.Intelligence})
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.Generate("Bob", "Bob's office", []category.ID{category.Other}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	recipients := []*card.Card{id.Card}
	few, err := findViolations(context.Background(), plan, recipients, policyShown)
	if err != nil || len(few.shown) != 3 || few.count != 20 || few.files != 10 {
		t.Fatalf("kept %d of %d violations in %d files (%v), want 3 of 20 in 10", len(few.shown), few.count, few.files, err)
	}
	if msg := (&policyError{few}).Error(); strings.Count(msg, "does not accept") != 4 || !strings.Contains(msg, "and 17 more") {
		t.Fatalf("refusal: %s", msg)
	}
	all, err := findViolations(context.Background(), plan, recipients, -1)
	if err != nil || len(all.shown) != 20 || all.count != 20 || all.files != 10 {
		t.Fatalf("kept %d of %d violations in %d files (%v), want all 20", len(all.shown), all.count, all.files, err)
	}
}
