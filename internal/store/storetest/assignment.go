package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// testAssignment: a review is assigned only from whom the caller read it
// assigned to; its assignee counts it as load while it is pending; next's
// candidates put the caller's assignments after their claims, and leave
// out others' assignments until they are overdue.
func testAssignment(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	open := func(id string, created time.Time, due time.Duration) *countersign.Review {
		mustCreate(t, s, id)
		r := newReview(id, 1, created)
		r.DueAt = created.Add(due)
		if err := s.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := open("a", t0, time.Hour)
	b := open("b", t0.Add(time.Second), 2*time.Hour)
	c := open("c", t0.Add(2*time.Second), time.Minute)
	open("d", t0.Add(3*time.Second), 3*time.Hour)

	got, err := s.AssignReview(ctx, countersign.Assign{ReviewID: a.ID, To: "rita"})
	if err != nil || got.AssignedTo != "rita" {
		t.Fatalf("assigning a to rita = %+v, %v", got, err)
	}
	if again, err := s.GetReview(ctx, a.ID); err != nil || again.AssignedTo != "rita" {
		t.Fatalf("read back = %+v, %v", again, err)
	}
	// Whoever read it assigned to nobody does not assign it again.
	if _, err := s.AssignReview(ctx, countersign.Assign{ReviewID: a.ID, To: "sam"}); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("assigning rita's review as unassigned = %v, want a conflict", err)
	}
	if got, err := s.AssignReview(ctx, countersign.Assign{ReviewID: a.ID, To: "sam", Previous: "rita"}); err != nil || got.AssignedTo != "sam" {
		t.Fatalf("reassigning a to sam = %+v, %v", got, err)
	}
	if _, err := s.AssignReview(ctx, countersign.Assign{ReviewID: "nope", To: "sam"}); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("assigning an unknown review = %v, want not found", err)
	}
	for _, r := range []*countersign.Review{b, c} {
		if _, err := s.AssignReview(ctx, countersign.Assign{ReviewID: r.ID, To: "rita"}); err != nil {
			t.Fatal(err)
		}
	}
	load, err := s.AssignedLoad(ctx, []string{"rita", "sam", "tom"})
	if err != nil || load["rita"] != 2 || load["sam"] != 1 || len(load) != 2 {
		t.Fatalf("load = %v, %v; want rita 2, sam 1", load, err)
	}
	// A closed review is no longer load, and is not assigned.
	if err := s.RecordDecision(ctx, &countersign.Decision{ID: "x1", ReviewID: c.ID, DocumentID: "c", Action: countersign.ActionApprove,
		Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: t0.Add(time.Minute)}, true); err != nil {
		t.Fatal(err)
	}
	if load, err = s.AssignedLoad(ctx, []string{"rita"}); err != nil || load["rita"] != 1 {
		t.Fatalf("load after a decision = %v, %v; want rita 1", load, err)
	}
	if _, err := s.AssignReview(ctx, countersign.Assign{ReviewID: c.ID, To: "sam", Previous: "rita"}); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("assigning a closed review = %v, want a conflict", err)
	}

	ids := func(person string, now time.Time) string {
		t.Helper()
		list, err := s.ClaimCandidates(ctx, countersign.ReviewFilter{}, person, now)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range list {
			out += r.DocumentID
		}
		return out
	}
	// sam: his assignment a first; b is rita's and not due, d nobody's.
	if got, want := ids("sam", t0), "ad"; got != want {
		t.Fatalf("candidates for sam = %s, want %s", got, want)
	}
	// rita: her b first, though d is as confident and a is sooner due.
	if got, want := ids("rita", t0), "bd"; got != want {
		t.Fatalf("candidates for rita = %s, want %s", got, want)
	}
	// Once a is overdue, others may take it.
	if got, want := ids("tom", t0.Add(90*time.Minute)), "ad"; got != want {
		t.Fatalf("candidates for tom once a is overdue = %s, want %s", got, want)
	}
	// A claim comes before an assignment.
	if _, err := s.ClaimReview(ctx, countersign.Claim{ReviewID: countersign.ReviewID("d", 1), Person: "rita", Now: t0, Until: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, want := ids("rita", t0), "db"; got != want {
		t.Fatalf("candidates for rita holding d = %s, want %s", got, want)
	}
}

// testAssignmentTurns: turns of round-robin assignment are counted per
// key, and callers at once each get another turn, so that reviews spread
// evenly over the people of a list.
func testAssignmentTurns(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	for want := range int64(3) {
		if got, err := s.AssignmentTurn(ctx, "invoices"); err != nil || got != want {
			t.Fatalf("turn %d of invoices = %d, %v", want, got, err)
		}
	}
	if got, err := s.AssignmentTurn(ctx, "contracts"); err != nil || got != 0 {
		t.Fatalf("first turn of contracts = %d, %v", got, err)
	}
	const callers, people = 24, 4
	var mu sync.Mutex
	turns := map[int64]int{}
	perPerson := make([]int, people)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			turn, err := s.AssignmentTurn(ctx, "queue")
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			turns[turn]++
			perPerson[turn%people]++
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for turn := range int64(callers) {
		if turns[turn] != 1 {
			t.Fatalf("turns = %v: want each of 0..%d once", turns, callers-1)
		}
	}
	if fmt.Sprint(perPerson) != fmt.Sprint([]int{6, 6, 6, 6}) {
		t.Fatalf("%d reviews over %d people = %v, want 6 each", callers, people, perPerson)
	}
}
