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
// after n times.
type countdown struct {
	context.Context
	n int
}

func (c *countdown) Err() error {
	if c.n--; c.n < 0 {
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
	for _, after := range []int{0, 1, 2, 10, 60, 99} {
		ctx := &countdown{Context: context.Background(), n: after}
		if _, err := MakePlanContext(ctx, input, nil, []category.ID{category.Other}); !errors.Is(err, context.Canceled) {
			t.Errorf("done after %d checks: %v", after, err)
		}
	}
	// Excluded folders are walked too (to list what was left out).
	ctx := &countdown{Context: context.Background(), n: 3}
	if _, err := MakePlanContext(ctx, input, nil, []category.ID{category.Other}, "case"); !errors.Is(err, context.Canceled) {
		t.Errorf("done in an excluded folder: %v", err)
	}
}
