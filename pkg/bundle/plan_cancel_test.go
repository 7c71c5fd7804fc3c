package bundle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// countdown is a context that is done once its Err has been asked for
// after n times; with n < 0, never, counting the times in asked.
type countdown struct {
	context.Context
	n, asked int
}

func (c *countdown) Err() error {
	c.asked++
	if c.n >= 0 && c.asked > c.n {
		return context.Canceled
	}
	return nil
}

// Planning ends with the context's error once it is done, wherever the
// walk is (found by hand: Ctrl-C during a plan of 148,890 files was
// ignored for the 5.7 s of the walk, and plan then said exit 0).
func TestMakePlanContextEnds(t *testing.T) {
	dir := testtmp.Dir(t)
	tree := map[string]string{}
	for i := range 50 {
		tree[fmt.Sprintf("case/f%02d/doc.txt", i)] = "x"
	}
	writeTree(t, dir, tree)
	input := []string{filepath.Join(dir, "case")}
	plan, err := MakePlanContext(context.Background(), input, nil, []category.ID{category.Other})
	if err != nil || len(plan.Files) != 50 {
		t.Fatalf("MakePlanContext: %v", err)
	}
	// Done at any of its checks: the count's walk, the plan's walk (the
	// last checks but one, the long part: found by review, the test
	// reached only the count's), the end.
	all := &countdown{Context: context.Background(), n: -1}
	if _, err := MakePlanContext(all, input, nil, []category.ID{category.Other}); err != nil {
		t.Fatal(err)
	}
	// Both walks (the count's and the plan's) look at every entry: the
	// folder given, 50 folders and 50 files.
	if entries := 1 + 50 + 50; all.asked < 2*entries {
		t.Fatalf("%d checks for %d entries walked twice: a walk does not check at every entry", all.asked, entries)
	}
	for after := range all.asked {
		ctx := &countdown{Context: context.Background(), n: after}
		if _, err := MakePlanContext(ctx, input, nil, []category.ID{category.Other}); !errors.Is(err, context.Canceled) {
			t.Errorf("done after %d of %d checks: %v", after, all.asked, err)
		}
		if ctx.asked > after+2 { // the check that found it done, and one on the way out
			t.Errorf("done after %d checks, it asked %d times: it went on", after, ctx.asked)
		}
	}
	// Excluded folders are walked too (to list what was left out).
	ctx := &countdown{Context: context.Background(), n: 3}
	if _, err := MakePlanContext(ctx, input, nil, []category.ID{category.Other}, "case"); !errors.Is(err, context.Canceled) {
		t.Errorf("done in an excluded folder: %v", err)
	}
}
