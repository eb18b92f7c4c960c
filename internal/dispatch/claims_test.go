package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// claimsFixture is a dispatcher on a real SQLite store with pending
// reviews r(i) of documents d(i), submitted by sub, due an hour apart,
// and a clock the test moves.
type claimsFixture struct {
	d   *dispatch.Dispatcher
	s   countersign.Store
	now time.Time
}

func newClaimsFixture(t *testing.T, reviews int) *claimsFixture {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := &claimsFixture{s: s, now: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)}
	f.d = &dispatch.Dispatcher{Store: s, ClaimLease: 10 * time.Minute, Now: func() time.Time { return f.now }}
	for i := range reviews {
		id := fmt.Sprintf("d%02d", i)
		if _, _, err := s.CreateDocument(ctx, &countersign.Document{ID: id, TaskType: "contract-review", TaskTypeVersion: "v", Content: id,
			Status: countersign.StatusAwaitingReview, SubmittedBy: "sub", CreatedAt: f.now}); err != nil {
			t.Fatal(err)
		}
		if err := s.OpenReview(ctx, &countersign.Review{ID: countersign.ReviewID(id, 1), DocumentID: id, TaskType: "contract-review",
			CreatedAt: f.now, DueAt: f.now.Add(time.Duration(i+1) * time.Hour), Confidence: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// trail is the types of the claim events of document id, in order, each
// with its actor.
func (f *claimsFixture) trail(t *testing.T, id string) string {
	t.Helper()
	events, err := f.s.DocumentAudit(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Type+" by "+e.Actor)
	}
	return strings.Join(out, "; ")
}

var (
	rita    = countersign.Principal{User: "rita", Role: countersign.RoleReviewer}
	sam     = countersign.Principal{User: "sam", Role: countersign.RoleReviewer}
	approve = countersign.Principal{User: "ann", Role: countersign.RoleApprover}
)

// TestClaimLeaseReleaseAndLapse: a claim holds a review for its lease
// against others' claims and decisions, naming who holds it; renewing it
// records nothing; an approver releases anyone's claim, a reviewer only
// their own; a lapsed claim is taken over, and the lapse recorded; a
// submitter, an auditor and a closed review are refused.
func TestClaimLeaseReleaseAndLapse(t *testing.T) {
	ctx := context.Background()
	f := newClaimsFixture(t, 2)
	r := countersign.ReviewID("d00", 1)
	got, err := f.d.Claim(ctx, r, rita, countersign.ChannelCLI)
	if err != nil || got.Holder(f.now) != "rita" || !got.ClaimedUntil.Equal(f.now.Add(10*time.Minute)) {
		t.Fatalf("rita's claim = %+v, %v", got, err)
	}
	_, err = f.d.Claim(ctx, r, sam, countersign.ChannelCLI)
	if !errors.Is(err, countersign.ErrConflict) || !strings.Contains(err.Error(), "claimed by rita until 2026-03-14T09:10:00Z") {
		t.Fatalf("sam claiming rita's review: %v, want a conflict naming rita and until when", err)
	}
	// Decide refuses him before anything reaches Temporal (the dispatcher
	// has no Temporal client: reaching it would panic).
	_, err = f.d.Decide(ctx, r, sam, countersign.ChannelAPI, dispatch.Decision{Action: countersign.ActionApprove}, "")
	if !errors.Is(err, countersign.ErrConflict) || !strings.Contains(err.Error(), "claimed by rita") {
		t.Fatalf("sam deciding rita's review: %v, want a conflict naming rita", err)
	}
	f.now = f.now.Add(5 * time.Minute)
	if got, err = f.d.Claim(ctx, r, rita, countersign.ChannelCLI); err != nil || !got.ClaimedUntil.Equal(f.now.Add(10*time.Minute)) {
		t.Fatalf("rita renewing: %+v, %v", got, err)
	}
	if _, err := f.d.Release(ctx, r, sam, countersign.ChannelCLI); !errors.Is(err, countersign.ErrForbidden) {
		t.Fatalf("sam releasing rita's claim: %v, want forbidden", err)
	}
	if _, err := f.d.Release(ctx, r, approve, countersign.ChannelWeb); err != nil {
		t.Fatalf("an approver releasing rita's claim: %v", err)
	}
	if _, err := f.d.Release(ctx, r, approve, countersign.ChannelWeb); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("releasing a review nobody holds: %v, want a conflict", err)
	}
	if _, err := f.d.Claim(ctx, r, sam, countersign.ChannelCLI); err != nil {
		t.Fatalf("sam claiming the released review: %v", err)
	}
	// sam's claim lapses; rita takes it over.
	f.now = f.now.Add(11 * time.Minute)
	if got, err = f.d.Claim(ctx, r, rita, countersign.ChannelCLI); err != nil || got.Holder(f.now) != "rita" {
		t.Fatalf("rita taking sam's lapsed claim: %+v, %v", got, err)
	}
	want := "review.claimed by rita; review.released by ann; review.claimed by sam; review.claim_lapsed by countersign; review.claimed by rita"
	if got := f.trail(t, "d00"); got != want {
		t.Fatalf("trail = %s\nwant    %s", got, want)
	}

	sub := countersign.Principal{User: "sub", Role: countersign.RoleReviewer}
	if _, err := f.d.Claim(ctx, countersign.ReviewID("d01", 1), sub, countersign.ChannelCLI); !errors.Is(err, countersign.ErrForbidden) {
		t.Fatalf("the submitter claiming: %v, want forbidden", err)
	}
	aud := countersign.Principal{User: "audrey", Role: countersign.RoleAuditor}
	if _, err := f.d.Claim(ctx, countersign.ReviewID("d01", 1), aud, countersign.ChannelCLI); !errors.Is(err, countersign.ErrForbidden) {
		t.Fatalf("an auditor claiming: %v, want forbidden", err)
	}
	if err := f.s.CloseReviews(ctx, "d01", f.now, countersign.SystemActor); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Claim(ctx, countersign.ReviewID("d01", 1), rita, countersign.ChannelCLI); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("claiming a closed review: %v, want a conflict", err)
	}
	if _, err := f.d.Claim(ctx, "d01", rita, countersign.ChannelCLI); !errors.Is(err, countersign.ErrNotFound) || !strings.Contains(err.Error(), "is a document") {
		t.Fatalf("claiming a document's ID: %v, want not found naming its reviews", err)
	}
}

// TestNextHandsEachReviewOnce: many people asking for the next review at
// once each get a different one, the soonest due first, and none is
// handed out twice; asking again gives back the review one holds; with
// none left, nil.
func TestNextHandsEachReviewOnce(t *testing.T) {
	ctx := context.Background()
	const reviews, people = 10, 24
	f := newClaimsFixture(t, reviews)
	var mu sync.Mutex
	taken := map[string][]string{}
	var none int
	var wg sync.WaitGroup
	errs := make(chan error, people)
	for i := range people {
		wg.Go(func() {
			p := countersign.Principal{User: fmt.Sprintf("reviewer%02d", i), Role: countersign.RoleReviewer}
			r, err := f.d.Next(ctx, p, countersign.ChannelAPI, countersign.ReviewFilter{})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if r == nil {
				none++
				return
			}
			if r.Holder(f.now) != p.User {
				errs <- fmt.Errorf("%s was handed %s held by %q", p.User, r.ID, r.Holder(f.now))
			}
			taken[r.ID] = append(taken[r.ID], p.User)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(taken) != reviews || none != people-reviews {
		t.Fatalf("%d reviews handed out, %d people got none; want %d and %d: %v", len(taken), none, reviews, people-reviews, taken)
	}
	for id, who := range taken {
		if len(who) != 1 {
			t.Fatalf("review %s handed to %v", id, who)
		}
	}
	holder := taken[countersign.ReviewID("d03", 1)][0]
	p := countersign.Principal{User: holder, Role: countersign.RoleReviewer}
	if again, err := f.d.Next(ctx, p, countersign.ChannelAPI, countersign.ReviewFilter{}); err != nil || again == nil || again.ID != countersign.ReviewID("d03", 1) {
		t.Fatalf("%s asking again = %+v, %v; want the review they hold", holder, again, err)
	}
	// Every claim lapses: the first to ask gets the soonest due.
	f.now = f.now.Add(11 * time.Minute)
	if r, err := f.d.Next(ctx, rita, countersign.ChannelAPI, countersign.ReviewFilter{}); err != nil || r == nil || r.ID != countersign.ReviewID("d00", 1) {
		t.Fatalf("next after every claim lapsed = %+v, %v; want the soonest due, d00-r1", r, err)
	}
	if r, err := f.d.Next(ctx, countersign.Principal{User: "sub", Role: countersign.RoleReviewer}, countersign.ChannelAPI, countersign.ReviewFilter{}); err != nil || r != nil {
		t.Fatalf("next for the submitter of every document = %+v, %v; want none", r, err)
	}
}

// TestClaimRefusesWhatTheWorkflowWould: someone who decided the review
// already, and, on an adjudication, a reviewer without the adjudicator's
// role or an approver who decided the disputed review, may not claim it,
// and next passes such reviews by for the next one; a page's renewal does
// not take back a claim an approver released.
func TestClaimRefusesWhatTheWorkflowWould(t *testing.T) {
	ctx := context.Background()
	f := newClaimsFixture(t, 3)
	r0, r1 := countersign.ReviewID("d00", 1), countersign.ReviewID("d01", 1)
	// d00-r1 is an approvals review rita decided; d01-r2 settles the
	// disagreement over d01-r1, between rita and ann; d02-r1 is plain.
	decide := func(id, review, who string) {
		t.Helper()
		if err := f.s.RecordDecision(ctx, &countersign.Decision{ID: review + "/" + who, ReviewID: review, DocumentID: id, Action: countersign.ActionApprove,
			Actor: who, Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: f.now}, false); err != nil {
			t.Fatal(err)
		}
	}
	decide("d00", r0, "rita")
	decide("d01", r1, "rita")
	decide("d01", r1, "ann")
	if err := f.s.CloseReviews(ctx, "d01", f.now, countersign.SystemActor); err != nil {
		t.Fatal(err)
	}
	adj := countersign.ReviewID("d01", 2)
	if err := f.s.OpenReview(ctx, &countersign.Review{ID: adj, DocumentID: "d01", TaskType: "contract-review", CreatedAt: f.now, DueAt: f.now.Add(30 * time.Minute), Confidence: 0.1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AppendAudit(ctx, countersign.AuditEvent{ID: "review/d01/9", DocumentID: "d01", Type: countersign.EventReviewOpened, Actor: countersign.SystemActor,
		Channel: countersign.ChannelWorkflow, At: f.now, Data: []byte(`{"adjudicates":"` + r1 + `","adjudicator":"approver","review_id":"` + adj + `"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Claim(ctx, r0, rita, countersign.ChannelCLI); !errors.Is(err, countersign.ErrForbidden) || !strings.Contains(err.Error(), "decided review d00-r1 already") {
		t.Fatalf("rita claiming a review she decided: %v, want forbidden", err)
	}
	if _, err := f.d.Claim(ctx, adj, sam, countersign.ChannelCLI); !errors.Is(err, countersign.ErrForbidden) || !strings.Contains(err.Error(), "leaves to the approver role") {
		t.Fatalf("a reviewer claiming an adjudication: %v, want forbidden", err)
	}
	if _, err := f.d.Claim(ctx, adj, approve, countersign.ChannelCLI); !errors.Is(err, countersign.ErrForbidden) || !strings.Contains(err.Error(), "may not settle the disagreement") {
		t.Fatalf("ann, who disagreed, claiming the adjudication: %v, want forbidden", err)
	}
	// The adjudication is the least confident, so the first candidate:
	// sam (a reviewer) is handed the next one instead, d00-r1.
	if r, err := f.d.Next(ctx, sam, countersign.ChannelAPI, countersign.ReviewFilter{}); err != nil || r == nil || r.ID != r0 {
		t.Fatalf("next for sam = %+v, %v; want %s, past the adjudication", r, err, r0)
	}
	other := countersign.Principal{User: "otto", Role: countersign.RoleApprover}
	if r, err := f.d.Next(ctx, other, countersign.ChannelAPI, countersign.ReviewFilter{}); err != nil || r == nil || r.ID != adj {
		t.Fatalf("next for an approver who took no part = %+v, %v; want the adjudication %s", r, err, adj)
	}
	// An approver releases sam's claim; sam's open page renews nothing.
	if _, err := f.d.Release(ctx, r0, approve, countersign.ChannelWeb); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Renew(ctx, r0, sam); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("renewing a released claim: %v, want a conflict", err)
	}
	if r, err := f.s.GetReview(ctx, r0); err != nil || r.ClaimedBy != "" {
		t.Fatalf("after the refused renewal: %+v, %v; want nobody holding it", r, err)
	}
	// Claiming twice (a double click) is no conflict.
	for range 2 {
		if _, err := f.d.Claim(ctx, r0, sam, countersign.ChannelWeb); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := f.d.Renew(ctx, r0, sam); err != nil || r.Holder(f.now) != "sam" {
		t.Fatalf("sam renewing his claim: %+v, %v", r, err)
	}
}

// TestLapsedClaimsEnd: the reconciler's round records each claim whose
// lease passed and ends it; a second round finds nothing; someone taking
// a lapsed claim over before the round records the lapse once with it.
func TestLapsedClaimsEnd(t *testing.T) {
	ctx := context.Background()
	f := newClaimsFixture(t, 2)
	for _, id := range []string{"d00", "d01"} {
		if _, err := f.d.Claim(ctx, countersign.ReviewID(id, 1), rita, countersign.ChannelCLI); err != nil {
			t.Fatal(err)
		}
	}
	f.now = f.now.Add(11 * time.Minute)
	// sam takes d01's lapsed claim over before the round runs.
	if _, err := f.d.Claim(ctx, countersign.ReviewID("d01", 1), sam, countersign.ChannelCLI); err != nil {
		t.Fatal(err)
	}
	n, err := f.d.EndLapsedClaims(ctx)
	if err != nil || n != 1 {
		t.Fatalf("EndLapsedClaims = %d, %v; want rita's claim on d00 ended", n, err)
	}
	if n, err := f.d.EndLapsedClaims(ctx); err != nil || n != 0 {
		t.Fatalf("a second round = %d, %v; want nothing", n, err)
	}
	if r, err := f.s.GetReview(ctx, countersign.ReviewID("d00", 1)); err != nil || r.ClaimedBy != "" {
		t.Fatalf("d00 after the round = %+v, %v", r, err)
	}
	if got, want := f.trail(t, "d00"), "review.claimed by rita; review.claim_lapsed by countersign"; got != want {
		t.Fatalf("d00's trail = %s, want %s", got, want)
	}
	if got, want := f.trail(t, "d01"), "review.claimed by rita; review.claim_lapsed by countersign; review.claimed by sam"; got != want {
		t.Fatalf("d01's trail = %s, want %s", got, want)
	}
}

// TestAssignedReviews: next hands a reviewer the review assigned to them
// before a more overdue one, and not one assigned to someone else until
// it is due; a reviewer's claim of another's assignment is refused, an
// approver's is not; reassigning is for approvers, to someone who could
// decide it, and recorded with the previous assignee.
func TestAssignedReviews(t *testing.T) {
	ctx := context.Background()
	f := newClaimsFixture(t, 3) // due in 1, 2 and 3 hours
	for _, user := range []string{"rita", "sam"} {
		if err := f.s.CreateToken(ctx, &countersign.Token{ID: user, Hash: user, User: user, Role: countersign.RoleReviewer, CreatedAt: f.now}); err != nil {
			t.Fatal(err)
		}
	}
	r0, r2 := countersign.ReviewID("d00", 1), countersign.ReviewID("d02", 1)
	if _, err := f.s.AssignReview(ctx, countersign.Assign{ReviewID: r0, To: "rita"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AssignReview(ctx, countersign.Assign{ReviewID: r2, To: "sam"}); err != nil {
		t.Fatal(err)
	}
	// sam: his own r2 first, though d01 is due sooner; never rita's r0.
	got, err := f.d.Next(ctx, sam, countersign.ChannelAPI, countersign.ReviewFilter{})
	if err != nil || got == nil || got.ID != r2 {
		t.Fatalf("next for sam = %+v, %v; want his assignment %s", got, err, r2)
	}
	if _, err := f.d.Claim(ctx, r0, sam, countersign.ChannelAPI); !errors.Is(err, countersign.ErrConflict) || !strings.Contains(err.Error(), "is assigned to rita") {
		t.Fatalf("sam claiming rita's assignment = %v, want a conflict naming rita", err)
	}
	if got, err := f.d.Next(ctx, countersign.Principal{User: "tom", Role: countersign.RoleReviewer}, countersign.ChannelAPI, countersign.ReviewFilter{}); err != nil || got == nil || got.ID != countersign.ReviewID("d01", 1) {
		t.Fatalf("next for tom = %+v, %v; want the unassigned d01", got, err)
	}
	// Once overdue, r0 is anyone's.
	f.now = f.now.Add(61 * time.Minute)
	if got, err := f.d.Claim(ctx, r0, countersign.Principal{User: "uma", Role: countersign.RoleReviewer}, countersign.ChannelAPI); err != nil || got.ClaimedBy != "uma" {
		t.Fatalf("uma claiming the overdue r0 = %+v, %v", got, err)
	}
	f.now = f.now.Add(-61 * time.Minute)

	// Reassigning: not by a reviewer; not to the submitter; to sam it is,
	// recorded with rita as the previous assignee.
	r1 := countersign.ReviewID("d01", 1)
	if _, err := f.s.ReleaseClaim(ctx, r1, "tom"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AssignReview(ctx, countersign.Assign{ReviewID: r1, To: "rita"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Assign(ctx, r1, "sam", rita, countersign.ChannelAPI); !errors.Is(err, countersign.ErrForbidden) {
		t.Fatalf("a reviewer reassigning = %v, want forbidden", err)
	}
	if err := f.s.CreateToken(ctx, &countersign.Token{ID: "sub", Hash: "sub", User: "sub", Role: countersign.RoleReviewer, CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Assign(ctx, r1, "sub", approve, countersign.ChannelAPI); !errors.Is(err, countersign.ErrInvalid) || !strings.Contains(err.Error(), "separation of duties") {
		t.Fatalf("assigning to the submitter = %v, want invalid", err)
	}
	if got, err := f.d.Assign(ctx, r1, "sam", approve, countersign.ChannelAPI); err != nil || got.AssignedTo != "sam" {
		t.Fatalf("reassigning to sam = %+v, %v", got, err)
	}
	// An approver may claim a review assigned to someone else.
	if got, err := f.d.Claim(ctx, r1, approve, countersign.ChannelAPI); err != nil || got.ClaimedBy != "ann" {
		t.Fatalf("the approver claiming sam's review = %+v, %v", got, err)
	}
	if got, want := f.trail(t, "d01"), "review.claimed by tom; review.assigned by ann; review.claimed by ann"; got != want {
		t.Fatalf("trail of d01 = %q, want %q", got, want)
	}
}
