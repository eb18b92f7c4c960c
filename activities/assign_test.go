package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// oneType resolves every version to one task type.
type oneType struct{ tt *countersign.TaskType }

func (o oneType) Version(context.Context, string) (*countersign.TaskType, error) { return o.tt, nil }
func (o oneType) Current(context.Context, string) (*countersign.TaskType, error) { return o.tt, nil }

// assignFixture is a SQLite store with the people of tokens, activities
// whose task type assigns by assignment, and a document counter.
type assignFixture struct {
	s    countersign.Store
	a    *activities.Activities
	now  time.Time
	docs int
}

func newAssignFixture(t *testing.T, assignment string, people ...countersign.Token) *assignFixture {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tt, err := tasktype.Parse([]byte("name: invoices\nfields:\n  type: object\n  properties: {total: {type: number}}\npolicy:\n  mode: hitl\n"+assignment), "invoices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &assignFixture{s: s, now: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)}
	for i, p := range people {
		p.ID, p.Hash, p.CreatedAt = fmt.Sprintf("t%d", i), fmt.Sprintf("h%d", i), f.now
		if err := s.CreateToken(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	f.a = &activities.Activities{Store: s, TaskTypes: oneType{tt}, Now: func() time.Time { return f.now }}
	return f
}

// open stores a document submitted by submitter with total and opens
// its first review; it returns the review's step.
func (f *assignFixture) open(t *testing.T, submitter string, total float64) activities.OpenReviewInput {
	t.Helper()
	ctx := context.Background()
	f.docs++
	id := fmt.Sprintf("d%02d", f.docs)
	if _, _, err := f.s.CreateDocument(ctx, &countersign.Document{ID: id, TaskType: "invoices", TaskTypeVersion: "v", Content: id, SubmittedBy: submitter,
		Status: countersign.StatusProcessing, CreatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Draft: &countersign.Draft{Fields: countersign.Fields{"total": total}}}); err != nil {
		t.Fatal(err)
	}
	in := activities.OpenReviewInput{
		Step:   activities.Step{EventID: "review/" + id + "/4", DocumentID: id, TaskTypeVersion: "v", PolicyVersion: "p"},
		Review: &countersign.Review{ID: countersign.ReviewID(id, 1), DocumentID: id, TaskType: "invoices", CreatedAt: f.now, DueAt: f.now.Add(time.Hour)},
	}
	if err := f.a.OpenReview(ctx, in); err != nil {
		t.Fatal(err)
	}
	return in
}

func (f *assignFixture) assignee(t *testing.T, reviewID string) string {
	t.Helper()
	r, err := f.s.GetReview(context.Background(), reviewID)
	if err != nil {
		t.Fatal(err)
	}
	return r.AssignedTo
}

// assignments are the review.assigned events of document id, as "to"
// (or "previous>to").
func (f *assignFixture) assignments(t *testing.T, id string) string {
	t.Helper()
	events, err := f.s.DocumentAudit(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if e.Type != countersign.EventReviewAssigned {
			continue
		}
		var d struct{ To, Previous string }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Previous != "" {
			d.To = d.Previous + ">" + d.To
		}
		out = append(out, d.To)
	}
	return strings.Join(out, ",")
}

func reviewer(user string, groups ...string) countersign.Token {
	return countersign.Token{User: user, Role: countersign.RoleReviewer, Groups: groups}
}

// TestRoundRobinSkipsTheSubmitter: reviews go to the group's members in
// turn, never to the document's submitter nor to someone who may not
// decide (an auditor), nor outside the task type's review groups; a
// retried step keeps its assignee and records it once.
func TestRoundRobinSkipsTheSubmitter(t *testing.T) {
	f := newAssignFixture(t, "review_groups: [ap]\nassignment:\n  strategy: round_robin\n  to: [group:ap, olga, xavier]\n",
		reviewer("rita", "ap"), reviewer("sam", "ap"), reviewer("tom", "ap"),
		countersign.Token{User: "olga", Role: countersign.RoleAuditor, Groups: []string{"ap"}}, reviewer("xavier", "other"))
	var got []string
	for range 6 {
		in := f.open(t, "", 10)
		got = append(got, f.assignee(t, in.Review.ID))
	}
	if s := strings.Join(got, ","); s != "rita,sam,tom,rita,sam,tom" {
		t.Fatalf("round robin = %s", s)
	}
	// rita submitted this one, whose turn it is: of sam and tom, turn 6
	// takes sam.
	in := f.open(t, "rita", 10)
	if got := f.assignee(t, in.Review.ID); got != "sam" {
		t.Fatalf("rita's own document assigned to %q, want sam", got)
	}
	// The step again, as Temporal retries it: same assignee, one event.
	if err := f.a.OpenReview(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if got, events := f.assignee(t, in.Review.ID), f.assignments(t, in.Step.DocumentID); got != "sam" || events != "sam" {
		t.Fatalf("after a retry: assigned to %q, events %q; want sam once", got, events)
	}
}

// TestLeastLoadedAndRules: least_loaded evens out open assignments; the
// rule strategy routes by the draft's fields, the first rule that
// matches, falling back to the task type's own list.
func TestLeastLoadedAndRules(t *testing.T) {
	f := newAssignFixture(t, "assignment:\n  strategy: least_loaded\n  to: [rita, sam]\n", reviewer("rita"), reviewer("sam"))
	var got []string
	for range 4 {
		got = append(got, f.assignee(t, f.open(t, "", 1).Review.ID))
	}
	if s := strings.Join(got, ","); s != "rita,sam,rita,sam" {
		t.Fatalf("least loaded = %s", s)
	}

	f = newAssignFixture(t, "assignment:\n  strategy: rule\n  rules:\n    - when: 'fields.total > 1000'\n      to: [ann]\n    - when: 'fields.total > 100'\n      to: [sam]\n  to: [rita]\n",
		reviewer("rita"), reviewer("sam"), countersign.Token{User: "ann", Role: countersign.RoleApprover})
	for total, want := range map[float64]string{5000: "ann", 500: "sam", 5: "rita"} {
		if got := f.assignee(t, f.open(t, "", total).Review.ID); got != want {
			t.Errorf("total %v assigned to %q, want %s", total, got, want)
		}
	}
	// ann submitted a big one: nobody else in the rule's list, so nobody.
	if got := f.assignee(t, f.open(t, "ann", 5000).Review.ID); got != "" {
		t.Errorf("ann's own big invoice assigned to %q, want nobody", got)
	}
}

// TestFourEyes: when two people must approve, the first approver's
// review goes to someone who has not decided the document; with nobody
// left it goes back to everyone. A retried decision step moves it once.
func TestFourEyes(t *testing.T) {
	ctx := context.Background()
	f := newAssignFixture(t, "assignment:\n  strategy: least_loaded\n  to: [rita, sam]\n", reviewer("rita"), reviewer("sam"))
	in := f.open(t, "", 1)
	first := f.assignee(t, in.Review.ID)
	if first != "rita" {
		t.Fatalf("assigned to %q, want rita", first)
	}
	decide := func(actor string, n int) {
		t.Helper()
		d := activities.DecisionInput{
			Step:     activities.Step{EventID: fmt.Sprintf("review/%s/%d", in.Step.DocumentID, 5+n), DocumentID: in.Step.DocumentID, TaskTypeVersion: "v", PolicyVersion: "p"},
			Decision: &countersign.Decision{ID: fmt.Sprintf("%s/%d", in.Review.ID, n), ReviewID: in.Review.ID, DocumentID: in.Step.DocumentID, Action: countersign.ActionApprove, Actor: actor, Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: f.now},
			KeepOpen: true,
		}
		for range 2 { // the second time as a retry
			if err := f.a.RecordDecision(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	decide("rita", 1)
	if got := f.assignee(t, in.Review.ID); got != "sam" {
		t.Fatalf("after rita's approval assigned to %q, want sam", got)
	}
	decide("sam", 2)
	if got := f.assignee(t, in.Review.ID); got != "" {
		t.Fatalf("after both approved assigned to %q, want nobody", got)
	}
	if got, want := f.assignments(t, in.Step.DocumentID), "rita,rita>sam,sam>"; got != want {
		t.Fatalf("assignments = %q, want %q", got, want)
	}

	// A later review of a document rita decided goes to sam, though rita
	// has fewer open reviews.
	other := f.open(t, "", 1)
	if got := f.assignee(t, other.Review.ID); got != "rita" {
		t.Fatalf("assigned to %q, want rita", got)
	}
	if err := f.s.RecordDecision(ctx, &countersign.Decision{ID: other.Review.ID + "/1", ReviewID: other.Review.ID, DocumentID: other.Step.DocumentID,
		Action: countersign.ActionApprove, Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: f.now}, true); err != nil {
		t.Fatal(err)
	}
	next := other
	next.Step.EventID = "review/" + other.Step.DocumentID + "/9"
	next.Review = &countersign.Review{ID: countersign.ReviewID(other.Step.DocumentID, 2), DocumentID: other.Step.DocumentID, TaskType: "invoices", CreatedAt: f.now, DueAt: f.now.Add(time.Hour)}
	if err := f.a.OpenReview(ctx, next); err != nil {
		t.Fatal(err)
	}
	if got := f.assignee(t, next.Review.ID); got != "sam" {
		t.Fatalf("the second review of a document rita decided assigned to %q, want sam", got)
	}
}
