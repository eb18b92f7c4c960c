package report_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/report"
)

// TestReviewersKnownFigures: three people's decisions on real and gold
// documents, each figure worked out by hand in the comments.
func TestReviewersKnownFigures(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	draft := countersign.Fields{"name": "Ann", "email": "a@x.io"}
	n := 0
	// decide stores a document with the draft and one review of kind, which
	// by decides after took; a zero took leaves the review pending.
	decide := func(kind countersign.ReviewKind, by string, took time.Duration, action countersign.Action, fields countersign.Fields) string {
		n++
		id := fmt.Sprintf("d%02d", n)
		doc := &countersign.Document{ID: id, TaskType: "t", TaskTypeVersion: "v1", Content: "x", ContentSHA256: id, Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: t0}
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Draft: &countersign.Draft{Fields: draft}}); err != nil {
			t.Fatal(err)
		}
		r := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: "t", Kind: kind, Status: countersign.ReviewPending, CreatedAt: t0, DueAt: t0.Add(time.Hour)}
		if err := s.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		if took > 0 {
			d := &countersign.Decision{ID: r.ID + "/1", ReviewID: r.ID, DocumentID: id, Action: action, Fields: fields, Actor: by, Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: t0.Add(took)}
			if err := s.RecordDecision(ctx, d, true); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	gold := func(id, item string, answer countersign.Fields, reject bool) {
		if err := s.AddGold(ctx, &countersign.GoldDocument{DocumentID: id, TaskType: "t", Item: item, Answer: answer, Reject: reject, Trigger: "x-r1", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	gate, audit, veto := countersign.ReviewGate, countersign.ReviewAudit, countersign.ReviewVeto
	approve, correct, reject := countersign.ActionApprove, countersign.ActionCorrect, countersign.ActionReject
	right := countersign.Fields{"name": "Ann", "email": "a@x.io"}   // the draft is right
	wrong := countersign.Fields{"name": "Ann", "email": "ann@x.io"} // the draft's email is wrong

	// Real documents.
	decide(gate, "rita", 5*time.Second, approve, nil)
	decide(gate, "rita", 8*time.Second, approve, nil)
	decide(gate, "omar", 120*time.Second, correct, countersign.Fields{"email": "ann@x.io"})
	decide(gate, "omar", 60*time.Second, reject, nil)
	decide(audit, "rita", 30*time.Second, approve, nil)
	decide(veto, "vera", time.Millisecond, reject, nil) // a veto is no review: left out
	// Gold documents.
	gold(decide(gate, "rita", 4*time.Second, approve, nil), "right-draft", right, false)
	gold(decide(gate, "rita", 3*time.Second, approve, nil), "wrong-draft", wrong, false)
	gold(decide(gate, "omar", 90*time.Second, correct, countersign.Fields{"email": "ann@x.io"}), "wrong-draft", wrong, false)
	gold(decide(gate, "omar", 40*time.Second, reject, nil), "spam", nil, true)
	gold(decide(gate, "", 0, "", nil), "spam", nil, true) // still in the queue
	// A rubber stamp: twenty approvals in two seconds each, and five gold
	// items of which four are wrong drafts it approves.
	for range 20 {
		decide(gate, "stan", 2*time.Second, approve, nil)
	}
	for i := range 5 {
		answer := wrong
		if i == 0 {
			answer = right
		}
		gold(decide(gate, "stan", 2*time.Second, approve, nil), fmt.Sprintf("g%d", i), answer, false)
	}

	got, err := report.BuildReviewers(ctx, s, countersign.DocumentFilter{TaskType: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ptr := func(v float64) *float64 { return &v }
	want := &report.Reviewers{
		TaskType:    "t",
		GoldSlipped: 10,
		Reviewers: []report.Reviewer{
			// omar: 120, 60, 90, 40 s sorted 40, 60, 90, 120. Nearest rank:
			// p10 rank ceil(0.4) = 1, p50 rank 2, p90 rank ceil(3.6) = 4.
			// Gold: corrected the wrong draft to the answer, rejected spam.
			{User: "omar", Decisions: 4, Corrected: 2, Rejected: 2, ApprovalRate: 0,
				DecisionSeconds: map[string]float64{"p10": 40, "p50": 60, "p90": 120},
				Gold:            report.GoldScore{Decided: 2, Right: 2, Accuracy: ptr(1)}},
			// rita: 5, 8, 30 (the audit), 4, 3 s sorted 3, 4, 5, 8, 30:
			// p10 rank 1, p50 rank 3, p90 rank ceil(4.5) = 5. All approvals.
			// Gold: right on the right draft, approved the wrong one.
			{User: "rita", Decisions: 5, Approved: 5, ApprovalRate: 1,
				DecisionSeconds: map[string]float64{"p10": 3, "p50": 5, "p90": 30},
				Gold: report.GoldScore{Decided: 2, Right: 1, Accuracy: ptr(0.5), ApprovedWrong: 1,
					Misses: []report.GoldMiss{{DocumentID: "d08", Item: "wrong-draft", Action: approve, Fields: []string{"email"}}}},
				Signals: []string{report.SignalApprovedWrongGold}},
			// stan: 25 approvals of 2 s; gold 1 right of 5 (0.2 < 0.8).
			{User: "stan", Decisions: 25, Approved: 25, ApprovalRate: 1,
				DecisionSeconds: map[string]float64{"p10": 2, "p50": 2, "p90": 2},
				Gold: report.GoldScore{Decided: 5, Right: 1, Accuracy: ptr(0.2), ApprovedWrong: 4, Misses: []report.GoldMiss{
					{DocumentID: "d33", Item: "g1", Action: approve, Fields: []string{"email"}},
					{DocumentID: "d34", Item: "g2", Action: approve, Fields: []string{"email"}},
					{DocumentID: "d35", Item: "g3", Action: approve, Fields: []string{"email"}},
					{DocumentID: "d36", Item: "g4", Action: approve, Fields: []string{"email"}},
				}},
				Signals: []string{report.SignalApprovesAll, report.SignalFast, report.SignalApprovedWrongGold, report.SignalLowGoldAccuracy}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reviewers =\n%+v\nwant\n%+v", got, want)
	}

	// A time range that starts after every document finds nobody.
	later, err := report.BuildReviewers(ctx, s, countersign.DocumentFilter{TaskType: "t", Since: t0.Add(time.Hour)})
	if err != nil || len(later.Reviewers) != 0 || later.GoldSlipped != 0 {
		t.Fatalf("reviewers since later = %+v, %v", later, err)
	}
}

// TestReviewersWaitForBlindReviews: a decision on a blind review still
// open is not counted, so that a report narrowed to its document tells
// nobody what was decided; once the review closes it is.
func TestReviewersWaitForBlindReviews(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	doc := &countersign.Document{ID: "b1", TaskType: "t", TaskTypeVersion: "v1", Content: "x", ContentSHA256: "b1", Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: t0}
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenReview(ctx, &countersign.Review{ID: "b1-r1", DocumentID: "b1", TaskType: "t", Status: countersign.ReviewPending, CreatedAt: t0, DueAt: t0.Add(time.Hour), Blind: true}); err != nil {
		t.Fatal(err)
	}
	d := &countersign.Decision{ID: "b1-r1/1", ReviewID: "b1-r1", DocumentID: "b1", Action: countersign.ActionCorrect, Fields: countersign.Fields{"name": "Bo"}, Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: t0.Add(time.Minute)}
	if err := s.RecordDecision(ctx, d, false); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		r, err := report.BuildReviewers(ctx, s, countersign.DocumentFilter{TaskType: "t"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range r.Reviewers {
			n += p.Decisions
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("decisions counted on an open blind review = %d, want 0", n)
	}
	if err := s.CloseReviews(ctx, "b1", t0.Add(time.Hour), countersign.SystemActor); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("decisions counted once the blind review closed = %d, want 1", n)
	}
}

// TestReviewersGoldRankings: gold comparison items with a known ranking
// a>b>c, the judge's draft b>a>c. rita corrects one to a>c>b (best right;
// pairs (a,b), (a,c) concordant, (b,c) discordant: tau-b 1/3; not exact,
// a miss), approves the draft on another (best wrong; (a,b) discordant:
// tau-b 1/3) and corrects a third to a>b>c (right, tau-b 1); a rejection
// is not a ranking. Items 3, best right 2 (2/3), tau-b (1/3+1/3+1)/3 =
// 5/9; exact: 1 right of 4 decided.
func TestReviewersGoldRankings(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	content := `{"id":"g","prompt":"p","candidates":[{"id":"a","response":"A"},{"id":"b","response":"B"},{"id":"c","response":"C"}]}`
	known := countersign.Fields{"ranking": []any{"a", "b", "c"}}
	for i, d := range []struct {
		action countersign.Action
		fields countersign.Fields
	}{
		{countersign.ActionCorrect, countersign.Fields{"ranking": []any{"a", "c", "b"}}},
		{countersign.ActionApprove, nil},
		{countersign.ActionCorrect, countersign.Fields{"ranking": []any{"a", "b", "c"}}},
		{countersign.ActionReject, nil},
	} {
		id := fmt.Sprintf("g%d", i)
		doc := &countersign.Document{ID: id, TaskType: "rank", TaskTypeVersion: "v1", Content: content, ContentSHA256: id, Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: t0}
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Draft: &countersign.Draft{Fields: countersign.Fields{"ranking": []any{"b", "a", "c"}}}}); err != nil {
			t.Fatal(err)
		}
		r := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: "rank", Kind: countersign.ReviewGate, Status: countersign.ReviewPending, CreatedAt: t0, DueAt: t0.Add(time.Hour)}
		if err := s.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		dec := &countersign.Decision{ID: r.ID + "/1", ReviewID: r.ID, DocumentID: id, Action: d.action, Fields: d.fields, Reason: "r", Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: t0.Add(time.Minute)}
		if err := s.RecordDecision(ctx, dec, true); err != nil {
			t.Fatal(err)
		}
		if err := s.AddGold(ctx, &countersign.GoldDocument{DocumentID: id, TaskType: "rank", Item: id, Answer: known, Trigger: "x-r1", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := report.BuildReviewers(ctx, s, countersign.DocumentFilter{TaskType: "rank"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Reviewers) != 1 {
		t.Fatalf("reviewers %+v", got.Reviewers)
	}
	g := got.Reviewers[0].Gold
	r := g.Ranking
	if g.Decided != 4 || g.Right != 1 || r == nil || r.Items != 3 || r.BestRight != 2 || !near(*r.BestAccuracy, 2.0/3) || r.TauItems != 3 || r.TauB == nil || !near(*r.TauB, 5.0/9) {
		t.Fatalf("gold %+v, ranking %+v", g, r)
	}
}
