package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// testClaims: a claim holds a pending review for its person until its
// lease ends; another person takes it only once the lease lapsed, and
// only from whom they read holding it; the holder renews and releases
// it; a closed or unknown review is not claimed.
func testClaims(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d1")
	r := newReview("d1", 1, t0)
	if err := s.OpenReview(ctx, r); err != nil {
		t.Fatal(err)
	}
	claim := func(person, previous string, now time.Time) (*countersign.Review, error) {
		return s.ClaimReview(ctx, countersign.Claim{ReviewID: r.ID, Person: person, Previous: previous, Now: now, Until: now.Add(15 * time.Minute)})
	}
	got, err := claim("rita", "", t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClaimedBy != "rita" || got.ClaimedUntil == nil || !got.ClaimedUntil.Equal(t0.Add(15*time.Minute)) || got.Holder(t0) != "rita" {
		t.Fatalf("claimed review = %+v, want rita's until %v", got, t0.Add(15*time.Minute))
	}
	if got.Holder(t0.Add(15*time.Minute)) != "" {
		t.Fatal("a claim holds past its lease")
	}
	// Another person, whether they read nobody or rita holding it, does
	// not take it while the lease runs.
	for _, previous := range []string{"", "rita"} {
		if _, err := claim("sam", previous, t0.Add(time.Minute)); !errors.Is(err, countersign.ErrConflict) {
			t.Fatalf("sam claiming rita's live claim (read holder %q) = %v, want a conflict", previous, err)
		}
	}
	// The holder renews.
	if got, err = claim("rita", "rita", t0.Add(10*time.Minute)); err != nil || !got.ClaimedUntil.Equal(t0.Add(25*time.Minute)) {
		t.Fatalf("rita renewing = %+v, %v", got, err)
	}
	// Lapsed: sam takes it, if he names rita as whom he read holding it.
	late := t0.Add(26 * time.Minute)
	if _, err := claim("sam", "", late); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("a claim that read nobody taking rita's lapsed one = %v, want a conflict", err)
	}
	if got, err = claim("sam", "rita", late); err != nil || got.Holder(late) != "sam" {
		t.Fatalf("sam taking rita's lapsed claim = %+v, %v", got, err)
	}
	// Only the holder's claim is released.
	if _, err := s.ReleaseClaim(ctx, r.ID, "rita"); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("releasing a claim rita no longer holds = %v, want a conflict", err)
	}
	if got, err = s.ReleaseClaim(ctx, r.ID, "sam"); err != nil || got.ClaimedBy != "" || got.ClaimedUntil != nil {
		t.Fatalf("sam releasing = %+v, %v", got, err)
	}
	if _, err := claim("rita", "", late); err != nil {
		t.Fatalf("claiming a released review: %v", err)
	}
	closeReview(t, s, "d1", countersign.ActionApprove)
	if got, err := s.GetReview(ctx, r.ID); err != nil || got.ClaimedBy != "" || got.ClaimedUntil != nil {
		t.Fatalf("closed review = %+v, %v; want its claim ended with it", got, err)
	}
	if _, err := claim("rita", "rita", late); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("claiming a closed review = %v, want a conflict", err)
	}
	if _, err := s.ClaimReview(ctx, countersign.Claim{ReviewID: "nope", Person: "rita", Now: t0, Until: late}); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("claiming an unknown review = %v, want not found", err)
	}
}

// testClaimCandidates: the reviews a person may claim come their own live
// claims first, then the overdue, the most overdue first, then the
// least confident; others' live claims, reviews of documents they
// submitted and reviews they decided stay out; a lapsed claim is free
// again; the filter keeps its task types and kind.
func testClaimCandidates(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	// id: due in hours, confidence.
	for i, r := range []struct {
		id   string
		due  int
		conf float64
	}{{"a", 3, 0.9}, {"b", 1, 0.8}, {"c", 1, 0.3}, {"d", 5, 0.5}, {"e", 2, 0.1}, {"f", 4, 0.2}, {"g", 6, 0.2}, {"h", -1, 0.95}, {"i", -3, 0.99}} {
		doc := newDocument(r.id)
		if r.id == "e" {
			doc.SubmittedBy = "rita"
		}
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		rv := newReview(r.id, 1, t0.Add(time.Duration(i)*time.Second))
		rv.DueAt, rv.Confidence = t0.Add(time.Duration(r.due)*time.Hour), r.conf
		if r.id == "g" {
			rv.TaskType, rv.Kind = "claims-intake", countersign.ReviewAudit
		}
		if err := s.OpenReview(ctx, rv); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(id, person, previous string, now time.Time) {
		t.Helper()
		if _, err := s.ClaimReview(ctx, countersign.Claim{ReviewID: countersign.ReviewID(id, 1), Person: person, Previous: previous, Now: now, Until: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	claim("a", "rita", "", t0) // rita's own: first for her
	claim("c", "sam", "", t0)  // sam's: not for rita while it holds
	claim("f", "sam", "", t0.Add(-2*time.Hour))
	// rita decided d already (four-eyes: she may not count twice).
	if err := s.RecordDecision(ctx, &countersign.Decision{ID: countersign.ReviewID("d", 1) + "/1", ReviewID: countersign.ReviewID("d", 1), DocumentID: "d",
		Action: countersign.ActionApprove, Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: t0}, false); err != nil {
		t.Fatal(err)
	}
	ids := func(f countersign.ReviewFilter) string {
		t.Helper()
		list, err := s.ClaimCandidates(ctx, f, "rita", t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range list {
			out = append(out, r.DocumentID)
		}
		return strings.Join(out, ",")
	}
	// a (hers); the overdue, the most overdue first: i, h, however
	// confident; then the least confident: f (0.2, its claim lapsed, due
	// 4 h) before g (0.2, another type, due 6 h), then b (0.8). c is sam's,
	// e was submitted by rita, d she decided.
	if got, want := ids(countersign.ReviewFilter{}), "a,i,h,f,g,b"; got != want {
		t.Fatalf("candidates for rita = %s, want %s", got, want)
	}
	if got, want := ids(countersign.ReviewFilter{Limit: 2}), "a,i"; got != want {
		t.Fatalf("two candidates for rita = %s, want %s", got, want)
	}
	if got, want := ids(countersign.ReviewFilter{TaskTypes: []string{"claims-intake"}}), "g"; got != want {
		t.Fatalf("candidates of claims-intake = %s, want %s", got, want)
	}
	if got, want := ids(countersign.ReviewFilter{TaskType: "contract-review", Kind: countersign.ReviewGate}), "a,i,h,f,b"; got != want {
		t.Fatalf("candidate gate reviews of contract-review = %s, want %s", got, want)
	}
}

// testClaimsConcurrent: many people taking the best candidate at once, as
// `next` does, each get a different review; none is handed out twice.
func testClaimsConcurrent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const reviews, people = 12, 16
	for i := range reviews {
		id := fmt.Sprintf("n%02d", i)
		mustCreate(t, s, id)
		if err := s.OpenReview(ctx, newReview(id, 1, t0.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	got := map[string][]string{} // review ID: who took it
	var wg sync.WaitGroup
	errs := make(chan error, people)
	for p := range people {
		wg.Go(func() {
			person := fmt.Sprintf("person%02d", p)
			for {
				list, err := s.ClaimCandidates(ctx, countersign.ReviewFilter{Limit: 4}, person, t0)
				if err != nil {
					errs <- err
					return
				}
				if len(list) == 0 {
					return // nothing left for them
				}
				taken := false
				for _, r := range list {
					c, err := s.ClaimReview(ctx, countersign.Claim{ReviewID: r.ID, Person: person, Previous: r.ClaimedBy, Now: t0, Until: t0.Add(time.Hour)})
					if errors.Is(err, countersign.ErrConflict) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					if c.ClaimedBy == person && r.ClaimedBy == person {
						return // their own, renewed: they hold one already
					}
					mu.Lock()
					got[c.ID] = append(got[c.ID], person)
					mu.Unlock()
					taken = true
					break
				}
				if !taken {
					continue // all taken meanwhile: read again
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(got) != reviews {
		t.Fatalf("%d of %d reviews handed out: %v", len(got), reviews, got)
	}
	holders := map[string]bool{}
	for id, who := range got {
		if len(who) != 1 {
			t.Fatalf("review %s handed to %v, want one person", id, who)
		}
		if holders[who[0]] {
			t.Fatalf("%s took two reviews", who[0])
		}
		holders[who[0]] = true
	}
}

// testLapsedClaims: the claims whose lease passed are listed, the longest
// lapsed first; ending one ends only the claim that lapsed, not one
// renewed or taken over since.
func testLapsedClaims(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	for i, id := range []string{"l1", "l2", "l3"} {
		mustCreate(t, s, id)
		if err := s.OpenReview(ctx, newReview(id, 1, t0)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimReview(ctx, countersign.Claim{ReviewID: countersign.ReviewID(id, 1), Person: "rita", Now: t0,
			Until: t0.Add(time.Duration(3-i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	lapsed, err := s.LapsedClaims(ctx, t0.Add(2*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range lapsed {
		ids = append(ids, r.DocumentID)
	}
	if got := strings.Join(ids, ","); got != "l3,l2" {
		t.Fatalf("lapsed claims at +2m = %s, want l3,l2 (l1's runs to +3m)", got)
	}
	// l2's claim is taken over before it is ended: it stays.
	if _, err := s.ClaimReview(ctx, countersign.Claim{ReviewID: lapsed[1].ID, Person: "sam", Previous: "rita", Now: t0.Add(2 * time.Minute), Until: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, r := range lapsed {
		ended, err := s.EndClaim(ctx, r.ID, r.ClaimedBy, *r.ClaimedUntil)
		if err != nil {
			t.Fatal(err)
		}
		if want := r.DocumentID == "l3"; ended != want {
			t.Fatalf("EndClaim(%s) = %v, want %v", r.ID, ended, want)
		}
	}
	if r, err := s.GetReview(ctx, countersign.ReviewID("l2", 1)); err != nil || r.ClaimedBy != "sam" {
		t.Fatalf("l2 after ending rita's lapsed claim = %+v, %v; want sam's claim kept", r, err)
	}
	if r, err := s.GetReview(ctx, countersign.ReviewID("l3", 1)); err != nil || r.ClaimedBy != "" || r.ClaimedUntil != nil {
		t.Fatalf("l3 after ending its lapsed claim = %+v, %v", r, err)
	}
}
