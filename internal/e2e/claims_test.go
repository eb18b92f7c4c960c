package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// TestClaimsOverHTTP runs claims on the real stack over HTTP: a claimed
// review refuses another reviewer's claim and decision, naming who holds
// it; an approver releases it; the new holder decides it; eight
// reviewers asking for the next review at once each get a different one
// of the five left, three get none; the document's trail records the
// claims and the release, and the review list shows who holds what.
func TestClaimsOverHTTP(t *testing.T) {
	a := startAppWith(t, config.Config{TaskTypesDir: piiWithPolicy(t, "policy:\n  mode: hitl\n  review_due: 24h\n")}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx := context.Background()
	reviewers := make([]*apiclient.Client, 8)
	for i := range reviewers {
		tok, err := u.admin.CreateToken(ctx, fmt.Sprintf("rev%d", i), countersign.RoleReviewer, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		reviewers[i] = apiclient.New(a.APIURL, tok.Secret)
	}
	content := sample(t, "pii-extraction", "email-maria-gonzalez.txt")
	var open []countersign.Review
	for i := range 6 {
		sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", Content: fmt.Sprintf("%s\nCase %d.\n", content, i)})
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, waitForReview(t, u.reviewer, sub.ID))
	}

	first := open[0]
	held, err := u.reviewer.Claim(ctx, first.ID)
	if err != nil || held.ClaimedBy != "rita" || held.ClaimedUntil == nil {
		t.Fatalf("rita claiming %s: %+v, %v", first.ID, held, err)
	}
	_, err = reviewers[0].Decide(ctx, first.ID, api.DecisionRequest{Action: countersign.ActionApprove})
	if status(err) != http.StatusConflict || !strings.Contains(err.Error(), "claimed by rita") {
		t.Fatalf("rev0 deciding rita's review: %v, want 409 naming rita", err)
	}
	if _, err := reviewers[0].Claim(ctx, first.ID); status(err) != http.StatusConflict {
		t.Fatalf("rev0 claiming rita's review: %v, want 409", err)
	}
	if _, err := reviewers[0].Release(ctx, first.ID); status(err) != http.StatusForbidden {
		t.Fatalf("rev0 releasing rita's claim: %v, want 403", err)
	}
	if _, err := u.approver.Release(ctx, first.ID); err != nil {
		t.Fatalf("the approver releasing rita's claim: %v", err)
	}
	if _, err := reviewers[0].Claim(ctx, first.ID); err != nil {
		t.Fatalf("rev0 claiming the released review: %v", err)
	}
	d, err := reviewers[0].Decide(ctx, first.ID, api.DecisionRequest{Action: countersign.ActionApprove})
	if err != nil || d.Document.Status != countersign.StatusAccepted {
		t.Fatalf("rev0 deciding the review they hold: %+v, %v", d, err)
	}

	// Eight at once for the five reviews left.
	var mu sync.Mutex
	handed := map[string][]string{}
	none := 0
	var wg sync.WaitGroup
	errs := make(chan error, len(reviewers))
	for i, c := range reviewers {
		wg.Go(func() {
			r, err := c.Next(ctx, "pii-extraction", "")
			if err != nil {
				errs <- fmt.Errorf("rev%d next: %w", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if r == nil {
				none++
				return
			}
			if r.ClaimedBy != fmt.Sprintf("rev%d", i) {
				errs <- fmt.Errorf("rev%d was handed %s claimed by %q", i, r.ID, r.ClaimedBy)
			}
			handed[r.ID] = append(handed[r.ID], fmt.Sprintf("rev%d", i))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(handed) != 5 || none != 3 {
		t.Fatalf("next handed %v and none to %d; want each of the 5 open reviews once, none to 3", handed, none)
	}
	for id, who := range handed {
		if len(who) != 1 || id == first.ID {
			t.Fatalf("review %s handed to %v", id, who)
		}
	}
	list, err := u.reviewer.Reviews(ctx, apiclient.ReviewQuery{TaskType: "pii-extraction", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.Reviews {
		if who := handed[r.ID]; len(who) == 1 && r.ClaimedBy != who[0] {
			t.Fatalf("the review list shows %s claimed by %q, want %s", r.ID, r.ClaimedBy, who[0])
		}
	}

	events, err := u.auditor.Audit(ctx, first.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range events {
		switch e.Type {
		case countersign.EventReviewClaimed, countersign.EventReviewReleased, countersign.EventDecisionRecorded:
			trail = append(trail, e.Type+" by "+e.Actor)
		}
	}
	want := "review.claimed by rita, review.released by anna, review.claimed by rev0, decision.recorded by rev0"
	if got := strings.Join(trail, ", "); got != want {
		t.Fatalf("trail of %s: %s\nwant %s", first.DocumentID, got, want)
	}
}
