package report_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/report"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// TestBuildKnownFigures builds the report of six hand-made documents and
// checks every figure against values worked out by hand in the comments.
func TestBuildKnownFigures(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	now := t0.Add(5 * time.Hour)
	draft := countersign.Fields{"name": "Ann", "email": "a@x.io"}
	conf := func(name, email float64) *countersign.Confidence {
		return &countersign.Confidence{Overall: min(name, email), Fields: map[string]countersign.FieldScore{
			"name": {Score: name, Raw: name}, "email": {Score: email, Raw: email},
			// Left empty by the draft and scored as an omission: no
			// drafted value for the report to count.
			"phone": {Score: 0.5, Raw: 0.5, Signals: map[string]float64{"omission": 0.5}},
		}}
	}
	put := func(id string, status countersign.Status, outcome countersign.Outcome, c *countersign.Confidence, final *countersign.Final) {
		doc := &countersign.Document{ID: id, TaskType: "t", TaskTypeVersion: "v1", Content: "x", ContentSHA256: id, Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: t0}
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		d := &countersign.Draft{Fields: draft, Extractor: countersign.ExtractorRules}
		route := &countersign.Route{Outcome: outcome}
		if err := s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &status, Draft: d, Confidence: c, Route: route, Final: final}); err != nil {
			t.Fatal(err)
		}
	}
	corrected := func(by, action string, email string) *countersign.Final {
		f := countersign.Correct(draft, countersign.Fields{"email": email})
		return &countersign.Final{Fields: f, Action: countersign.Action(action), DecidedBy: by, Diff: countersign.Diff(draft, f)}
	}
	review := func(id, doc string, kind countersign.ReviewKind, took time.Duration, action countersign.Action, by string, fields countersign.Fields) {
		r := &countersign.Review{ID: id, DocumentID: doc, TaskType: "t", Kind: kind, Status: countersign.ReviewPending, CreatedAt: t0, DueAt: t0.Add(time.Hour)}
		if err := s.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		if took == 0 {
			return
		}
		d := &countersign.Decision{ID: id + "/1", ReviewID: id, DocumentID: doc, Action: action, Fields: fields, Actor: by, Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: t0.Add(took)}
		if err := s.RecordDecision(ctx, d, true); err != nil {
			t.Fatal(err)
		}
	}

	// A: auto-accepted, nobody looked: no outcome.
	put("A", countersign.StatusAccepted, countersign.OutcomeAutoAccept, conf(0.99, 0.99), &countersign.Final{Fields: draft, DecidedBy: countersign.SystemActor, Diff: countersign.Diff(draft, draft)})
	// B: approved in 30m: name and email right (scores 0.9, 0.8).
	put("B", countersign.StatusAccepted, countersign.OutcomeHumanReview, conf(0.9, 0.8), &countersign.Final{Fields: draft, Action: countersign.ActionApprove, DecidedBy: "rita", Diff: countersign.Diff(draft, draft)})
	review("B-r1", "B", countersign.ReviewGate, 30*time.Minute, countersign.ActionApprove, "rita", nil)
	// C: email corrected after 2h, past its 1h due time: a breach (0.7, 0.6).
	put("C", countersign.StatusAccepted, countersign.OutcomeHumanReview, conf(0.7, 0.6), corrected("rita", "correct", "c@x.io"))
	review("C-r1", "C", countersign.ReviewGate, 2*time.Hour, countersign.ActionCorrect, "rita", countersign.Fields{"email": "c@x.io"})
	// D: auto-accepted, audited in 10m, email corrected after audit (0.95, 0.95).
	fd := corrected(countersign.SystemActor, "", "d@x.io")
	fd.AuditedBy, fd.CorrectedAfterAudit = "ana", true
	put("D", countersign.StatusAccepted, countersign.OutcomeAutoAcceptWithAudit, conf(0.95, 0.95), fd)
	review("D-r1", "D", countersign.ReviewAudit, 10*time.Minute, countersign.ActionCorrect, "ana", countersign.Fields{"email": "d@x.io"})
	// E: rita approved in 20m, then sue vetoed with another email (0.5, 0.5):
	// two people decided it; they agree on name, not on email.
	fe := corrected("sue", "correct", "e@x.io")
	fe.Lineage = &countersign.Lineage{Reviewers: []string{"rita", "sue"}}
	put("E", countersign.StatusAccepted, countersign.OutcomeHumanReview, conf(0.5, 0.5), fe)
	review("E-r1", "E", countersign.ReviewGate, 20*time.Minute, countersign.ActionApprove, "rita", nil)
	review("E-r2", "E", countersign.ReviewVeto, 21*time.Minute, countersign.ActionCorrect, "sue", countersign.Fields{"email": "e@x.io"})
	// G: waiting since t0, due at t0+1h, now is t0+5h: overdue.
	put("G", countersign.StatusAwaitingReview, countersign.OutcomeHumanReview, conf(0.4, 0.4), nil)
	review("G-r1", "G", countersign.ReviewGate, 0, "", "", nil)

	r, err := report.Build(ctx, s, "t", now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Documents != 6 || r.Statuses[countersign.StatusAccepted] != 5 || r.Statuses[countersign.StatusAwaitingReview] != 1 {
		t.Fatalf("documents %d, statuses %v", r.Documents, r.Statuses)
	}
	// Auto-accepted: A and D of six routed.
	if !near(r.AutoAcceptRate, 2.0/6) {
		t.Fatalf("auto-accept rate %v, want 1/3", r.AutoAcceptRate)
	}
	if len(r.Fields) != 2 {
		t.Fatalf("fields = %+v", r.Fields)
	}
	email, name := r.Fields[0], r.Fields[1]
	// email: checked in B, C, D, E; wrong in C, D, E. ECE over 10 bins, one
	// sample per bin: (|0.8-1| + |0.6-0| + |0.95-0| + |0.5-0|) / 4 = 0.5625.
	if email.Field != "email" || email.Checked != 4 || email.Corrected != 3 || !near(email.CorrectionRate, 0.75) || email.ECE == nil || !near(*email.ECE, 0.5625) {
		t.Fatalf("email = %+v (ece %v)", email, deref(email.ECE))
	}
	// name: right in all four; ECE (0.1 + 0.3 + 0.05 + 0.5) / 4 = 0.2375.
	if name.Checked != 4 || name.Corrected != 0 || name.CorrectionRate != 0 || !near(*name.ECE, 0.2375) {
		t.Fatalf("name = %+v (ece %v)", name, deref(name.ECE))
	}
	// E's two reviewers: name "Ann" and "Ann" (agree; kappa undefined, one
	// label only); email "a@x.io" and "e@x.io" (disagree; po 0, pe 0, kappa 0).
	if name.Pairs != 1 || name.Agreement == nil || *name.Agreement != 1 || name.Kappa != nil {
		t.Fatalf("name agreement = %+v", name)
	}
	if email.Pairs != 1 || *email.Agreement != 0 || email.Kappa == nil || *email.Kappa != 0 {
		t.Fatalf("email agreement = %+v", email)
	}
	rv := r.Reviews
	// B, C, D (audit), E's gate review and G; E's veto is not queue work.
	if rv.Opened != 5 || rv.Audits != 1 || rv.Pending != 1 || rv.Overdue != 1 || rv.Breaches != 2 || rv.OldestPending != (5*time.Hour).Seconds() {
		t.Fatalf("reviews = %+v", rv)
	}
	// Decision times 10m, 20m, 30m, 2h: nearest rank p50 = 2nd = 20m,
	// p90 = 4th = 2h, p99 = 2h.
	if rv.DecisionSeconds["p50"] != 1200 || rv.DecisionSeconds["p90"] != 7200 || rv.DecisionSeconds["p99"] != 7200 {
		t.Fatalf("decision seconds = %v", rv.DecisionSeconds)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestAgreementAmongThreeOrMore: documents three people decided (one
// review, each person's decision a vote) give Fleiss' kappa and
// Krippendorff's alpha over the values all of them settled on, by hand:
// email on F ("a", "a", "f") and on H ("h", "h", "h"): P̄ = (1/3 + 1)/2 =
// 2/3, label shares a 2/6, f 1/6, h 3/6, P̄e = 14/36, kappa = (2/3 -
// 14/36)/(1 - 14/36) = 10/22; alpha: coincidences a-a 1, a-f 1, f-a 1,
// h-h 3, n = 6, D_o = 2, Σ n_c·n_k (c ≠ k) = 2·(2·1 + 2·3 + 1·3) = 22,
// alpha = 1 - 5·2/22 = 12/22. Name: all agree, one label: both undefined.
// The pair columns take each document's first two people.
func TestAgreementAmongThreeOrMore(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	draft := countersign.Fields{"name": "Ann", "email": "a@x.io"}
	for _, doc := range []struct {
		id     string
		emails [3]string // what each of rita, sue, tom settled on; "" approves the draft
	}{{"F", [3]string{"", "", "f@x.io"}}, {"H", [3]string{"h@x.io", "h@x.io", "h@x.io"}}} {
		d := &countersign.Document{ID: doc.id, TaskType: "t", TaskTypeVersion: "v1", Content: "x", ContentSHA256: doc.id, Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: t0}
		if _, _, err := s.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		final := &countersign.Final{Fields: draft, Action: countersign.ActionApprove, DecidedBy: "tom", Diff: countersign.Diff(draft, draft), Lineage: &countersign.Lineage{Reviewers: []string{"rita", "sue", "tom"}}}
		status := countersign.StatusAccepted
		c := &countersign.Confidence{Overall: 0.5, Fields: map[string]countersign.FieldScore{"name": {Score: 0.5}, "email": {Score: 0.5}}}
		if err := s.UpdateDocument(ctx, doc.id, countersign.DocumentUpdate{Status: &status, Draft: &countersign.Draft{Fields: draft, Extractor: countersign.ExtractorRules}, Confidence: c, Route: &countersign.Route{Outcome: countersign.OutcomeHumanReview}, Final: final}); err != nil {
			t.Fatal(err)
		}
		r := &countersign.Review{ID: doc.id + "-r1", DocumentID: doc.id, TaskType: "t", Kind: countersign.ReviewGate, Status: countersign.ReviewPending, CreatedAt: t0, DueAt: t0.Add(time.Hour)}
		if err := s.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		for i, by := range []string{"rita", "sue", "tom"} {
			dec := &countersign.Decision{ID: r.ID + "/" + string(rune('1'+i)), ReviewID: r.ID, DocumentID: doc.id, Action: countersign.ActionApprove, Actor: by, Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: t0.Add(time.Duration(i+1) * time.Minute)}
			if e := doc.emails[i]; e != "" {
				dec.Action, dec.Fields = countersign.ActionCorrect, countersign.Fields{"email": e}
			}
			if err := s.RecordDecision(ctx, dec, i == 2); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := report.Build(ctx, s, "t", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	email, name := r.Fields[0], r.Fields[1]
	if email.Groups != 2 || email.FleissKappa == nil || !near(*email.FleissKappa, 10.0/22) || email.Alpha == nil || !near(*email.Alpha, 12.0/22) {
		t.Fatalf("email = %+v (fleiss %v, alpha %v)", email, deref(email.FleissKappa), deref(email.Alpha))
	}
	if name.Groups != 2 || name.FleissKappa != nil || name.Alpha != nil {
		t.Fatalf("name = %+v", name)
	}
	if email.Pairs != 2 || email.Agreement == nil || *email.Agreement != 1 {
		t.Fatalf("email pairs = %+v: F's and H's first two people agree", email)
	}
}

// openStore opens a SQLite store in the test's temporary directory, closed
// when the test ends.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
