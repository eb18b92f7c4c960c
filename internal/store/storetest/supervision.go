package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

func newOverride(id, taskType string, at time.Time) *countersign.PolicyOverride {
	return &countersign.PolicyOverride{
		ID:        id,
		TaskType:  taskType,
		Mode:      countersign.ModeHOTL,
		Threshold: 0.97,
		Reason:    "the upper bound 0.081 of the escaped-error rate exceeds the budget 0.05",
		Estimate:  0.04,
		Bound:     0.081,
		Budget:    0.05,
		Audits:    100,
		Escaped:   4,
		At:        at,
	}
}

func testOverrides(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const taskType = "contract-review"
	active := func(taskType string) *countersign.PolicyOverride {
		t.Helper()
		o, err := s.ActiveOverride(ctx, taskType)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	put := func(o *countersign.PolicyOverride) {
		t.Helper()
		if err := s.PutOverride(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	reset := func(id, by, reason string, at time.Time) *countersign.PolicyOverride {
		t.Helper()
		o, err := s.ResetOverride(ctx, id, by, reason, at)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	ids := func(taskType string) string {
		t.Helper()
		list, err := s.Overrides(ctx, taskType)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range list {
			out = append(out, o.ID)
		}
		return strings.Join(out, ",")
	}

	if o := active(taskType); o != nil {
		t.Fatalf("ActiveOverride before any = %+v, want none", o)
	}
	if got := ids(taskType); got != "" {
		t.Fatalf("Overrides before any = %q, want none", got)
	}

	put(newOverride("ov1", taskType, t0.Add(500*time.Nanosecond)))
	want := *newOverride("ov1", taskType, t0) // kept to the microsecond, as every stored time
	if got := active(taskType); !reflect.DeepEqual(got, &want) {
		t.Fatalf("ActiveOverride = %+v, want %+v", got, &want)
	}

	// Putting the same ID again changes nothing, even with other content.
	again := newOverride("ov1", taskType, t0.Add(time.Hour))
	again.Reason = "mallory"
	put(again)
	if got := active(taskType); !reflect.DeepEqual(got, &want) {
		t.Fatalf("putting ov1 again replaced it: %+v", got)
	}

	// Another override while ov1 is in force is a conflict that names ov1.
	err := s.PutOverride(ctx, newOverride("ov2", taskType, t0.Add(time.Minute)))
	if !errors.Is(err, countersign.ErrConflict) || !strings.Contains(err.Error(), "ov1") {
		t.Fatalf("second override in force = %v, want a conflict naming ov1", err)
	}
	if got := active(taskType); got == nil || got.ID != "ov1" {
		t.Fatalf("after a conflicting put the override in force is %+v, want ov1", got)
	}

	// Task types have their own overrides.
	pii := newOverride("ov-pii", "pii-extraction", t0)
	pii.Mode, pii.Threshold = countersign.ModeHITL, 0
	put(pii)
	if got := active("pii-extraction"); got == nil || got.ID != "ov-pii" || got.Mode != countersign.ModeHITL {
		t.Fatalf("pii-extraction's override = %+v", got)
	}

	if _, err := s.ResetOverride(ctx, "nope", "carol", "fixed", t0); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("ResetOverride(unknown) = %v, want not found", err)
	}
	resetAt := t0.Add(time.Hour)
	want.ResetBy, want.ResetAt, want.ResetReason = "carol", &resetAt, "extractor fixed"
	if got := reset("ov1", "carol", "extractor fixed", resetAt.Add(500*time.Nanosecond)); !reflect.DeepEqual(got, &want) {
		t.Fatalf("ResetOverride = %+v, want %+v", got, &want)
	}
	if got := active(taskType); got != nil {
		t.Fatalf("override in force after the reset: %+v", got)
	}
	if got := active("pii-extraction"); got == nil {
		t.Fatal("resetting contract-review's override reset pii-extraction's")
	}

	// A retried reset returns the stored reset; any other is a conflict.
	if got := reset("ov1", "carol", "extractor fixed", resetAt.Add(time.Hour)); !reflect.DeepEqual(got, &want) {
		t.Fatalf("retried ResetOverride = %+v, want the stored %+v", got, &want)
	}
	for _, other := range []struct{ by, reason string }{{"dave", "extractor fixed"}, {"carol", "another reason"}} {
		if _, err := s.ResetOverride(ctx, "ov1", other.by, other.reason, resetAt.Add(time.Hour)); !errors.Is(err, countersign.ErrConflict) {
			t.Fatalf("resetting ov1 again by %s (%s) = %v, want a conflict", other.by, other.reason, err)
		}
	}

	// After the reset a new override may come into force; the old one,
	// put again, stays reset.
	put(newOverride("ov2", taskType, t0.Add(2*time.Hour)))
	put(newOverride("ov1", taskType, t0.Add(3*time.Hour)))
	if got := active(taskType); got == nil || got.ID != "ov2" {
		t.Fatalf("override in force = %+v, want ov2", got)
	}

	// Newest first; of two at the same time, the one stored last first.
	reset("ov2", "carol", "extractor fixed", t0.Add(3*time.Hour))
	put(newOverride("ov3", taskType, t0.Add(2*time.Hour)))
	reset("ov3", "carol", "extractor fixed", t0.Add(3*time.Hour))
	put(newOverride("ov0", taskType, t0.Add(-time.Hour)))
	if got := ids(taskType); got != "ov3,ov2,ov1,ov0" {
		t.Fatalf("Overrides = %s, want ov3,ov2,ov1,ov0", got)
	}
	list, err := s.Overrides(ctx, taskType)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(list[2], want) {
		t.Fatalf("ov1 as listed = %+v, want %+v", list[2], want)
	}
	if got := ids("pii-extraction"); got != "ov-pii" {
		t.Fatalf("pii-extraction's overrides = %s, want ov-pii", got)
	}
	if got := ids("nope"); got != "" {
		t.Fatalf("overrides of an unknown task type = %s, want none", got)
	}
}

// testOverridesConcurrent puts competing overrides of one task type at once,
// each twice as a retried activity would: exactly one comes into force.
func testOverridesConcurrent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const writers = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stored  = map[string]bool{}
		refused = map[string]bool{}
		errs    = make(chan error, 2*writers)
	)
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("ov%d", w)
			for range 2 {
				err := s.PutOverride(ctx, newOverride(id, "contract-review", t0))
				mu.Lock()
				switch {
				case err == nil:
					stored[id] = true
				case errors.Is(err, countersign.ErrConflict):
					refused[id] = true
				default:
					errs <- err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(stored) != 1 {
		t.Fatalf("%d overrides stored (%v), want exactly one", len(stored), stored)
	}
	for id := range stored {
		if refused[id] {
			t.Fatalf("override %s was stored and then refused: putting it again must be a no-op", id)
		}
		active, err := s.ActiveOverride(ctx, "contract-review")
		if err != nil || active == nil || active.ID != id {
			t.Fatalf("override in force = %+v, %v; want %s", active, err, id)
		}
	}
	if list, err := s.Overrides(ctx, "contract-review"); err != nil || len(list) != 1 {
		t.Fatalf("Overrides = %d, %v; want one", len(list), err)
	}
}

func testAuditDraws(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const a, b = "contract-review/0.90", "pii-extraction/0.95"
	for _, tc := range []struct {
		stratum, doc string
		want         int64
		why          string
	}{
		{a, "d1", 1, "first in a"},
		{a, "d2", 2, "second in a"},
		{b, "e1", 1, "first in b: strata count apart"},
		{a, "d1", 1, "d1 again"},
		{b, "d2", 2, "d2 again, in another stratum: a document is drawn once"},
		{b, "e2", 2, "second in b: drawing d2 again took no number"},
		{a, "d3", 3, "third in a: drawing again took no number"},
	} {
		got, err := s.DrawAudit(ctx, tc.stratum, tc.doc)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Fatalf("DrawAudit(%s, %s) = %d, want %d (%s)", tc.stratum, tc.doc, got, tc.want, tc.why)
		}
	}
}

// testAuditDrawsConcurrent draws 200 documents in one stratum from 8
// goroutines, each document by two of them at about the same time: the
// documents get the numbers 1 to 200, each one number whoever drew it.
func testAuditDrawsConcurrent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const (
		writers, each = 8, 25
		stratum       = "contract-review/0.90"
	)
	doc := func(w, i int) string { return fmt.Sprintf("w%d-%d", w%writers, i) }
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		drawn = map[string]int64{}
		errs  = make(chan error, 2*writers*each)
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Its own document, then its neighbour's, which the
				// neighbour draws at about the same time.
				for _, id := range []string{doc(w, i), doc(w+1, i)} {
					n, err := s.DrawAudit(ctx, stratum, id)
					if err != nil {
						errs <- err
						continue
					}
					mu.Lock()
					if prev, ok := drawn[id]; ok && prev != n {
						errs <- fmt.Errorf("document %s drawn as %d and as %d", id, prev, n)
					}
					drawn[id] = n
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	numbers := make([]int64, 0, len(drawn))
	for _, n := range drawn {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	if len(numbers) != writers*each {
		t.Fatalf("%d documents drawn, want %d", len(numbers), writers*each)
	}
	for i, n := range numbers {
		if n != int64(i+1) {
			t.Fatalf("numbers drawn are not 1 to %d without gaps or repeats: %v", writers*each, numbers)
		}
	}
	if n, err := s.DrawAudit(ctx, stratum, "one more"); err != nil || n != writers*each+1 {
		t.Fatalf("the draw after the concurrent ones = %d, %v; want %d", n, err, writers*each+1)
	}
}
