package activities_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// auditStore is a SQLite store and the activities over it, with the
// example task types.
type auditStore struct {
	t   *testing.T
	s   *sqlite.Store
	a   *activities.Activities
	at  time.Time // when the next audit is drawn
	due time.Duration
}

func newAuditStore(t *testing.T) *auditStore {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	types, err := tasktype.LoadDir("../examples")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	a := &activities.Activities{Store: s, TaskTypes: tasktype.NewResolver(types, s), Now: func() time.Time { return start }}
	return &auditStore{t: t, s: s, a: a, at: start, due: 24 * time.Hour}
}

// draw stores an auto-accepted document of pii-extraction drawn for audit
// under route (the policy version string), with its audit review open, a
// minute after the last; it returns the review and the decision that would
// correct it (escaped) or approve it.
func (f *auditStore) draw(id, route string, escaped bool) (*countersign.Review, *countersign.Decision) {
	f.t.Helper()
	ctx := context.Background()
	f.at = f.at.Add(time.Minute)
	fields := countersign.Fields{"email": "someone@example.com"}
	doc := &countersign.Document{ID: id, TaskType: "pii-extraction", TaskTypeVersion: "v", Content: id, ContentSHA256: countersign.ContentSHA256(id),
		Status: countersign.StatusProcessing, CreatedAt: f.at}
	if _, _, err := f.s.CreateDocument(ctx, doc); err != nil {
		f.t.Fatal(err)
	}
	final := &countersign.Final{Fields: fields, Outcome: countersign.OutcomeAutoAcceptWithAudit, DecidedBy: countersign.SystemActor, DecidedAt: f.at}
	accepted := countersign.StatusAccepted
	if err := f.s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &accepted, Draft: &countersign.Draft{Fields: fields, Extractor: "rules"},
		Confidence: &countersign.Confidence{Overall: 0.95},
		Route:      &countersign.Route{Outcome: countersign.OutcomeAutoAcceptWithAudit, Mode: countersign.ModeHOTL, Threshold: 0.9, PolicyVersion: route},
		Final:      final}); err != nil {
		f.t.Fatal(err)
	}
	r := &countersign.Review{ID: countersign.ReviewID(id, 1), DocumentID: id, TaskType: "pii-extraction", Kind: countersign.ReviewAudit,
		Status: countersign.ReviewPending, CreatedAt: f.at, DueAt: f.at.Add(f.due), Confidence: 0.95}
	if err := f.s.OpenReview(ctx, r); err != nil {
		f.t.Fatal(err)
	}
	d := &countersign.Decision{ID: r.ID + "/1", ReviewID: r.ID, DocumentID: id, Action: countersign.ActionApprove, Actor: "ana",
		Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: f.at.Add(time.Minute)}
	if escaped {
		d.Action, d.Fields = countersign.ActionCorrect, countersign.Fields{"email": "other@example.com"}
	}
	return r, d
}

// decide records d, and amends the document by it when amend is set, as
// the review workflow does in two steps.
func (f *auditStore) decide(d *countersign.Decision, amend bool) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.s.RecordDecision(ctx, d, true); err != nil {
		f.t.Fatal(err)
	}
	if !amend {
		return
	}
	doc, err := f.s.GetDocument(ctx, d.DocumentID)
	if err != nil {
		f.t.Fatal(err)
	}
	final := *doc.Final
	final.AuditedBy = d.Actor
	if d.Action == countersign.ActionCorrect {
		final.Fields, final.CorrectedAfterAudit = d.Fields, true
	}
	if err := f.s.UpdateDocument(ctx, d.DocumentID, countersign.DocumentUpdate{Final: &final}); err != nil {
		f.t.Fatal(err)
	}
}

// count calls CountAudits as step counter, from after, at now.
func (f *auditStore) count(counter string, after *activities.AuditPosition, now time.Time) *activities.CountAuditsResult {
	f.t.Helper()
	basis, err := f.a.PolicyBasis(context.Background(), "pii-extraction")
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := f.a.CountAudits(context.Background(), activities.CountAuditsInput{TaskType: "pii-extraction", Counter: counter, Basis: basis, After: after, Now: now})
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func counted(res *activities.CountAuditsResult) string {
	var out []string
	for _, o := range res.Counted {
		s := o.DocumentID
		switch {
		case o.NoVerdict:
			s += ":none"
		case o.Escaped:
			s += ":wrong"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// CountAudits walks the audits in the order drawn and stops at the first
// that is neither decided nor due, or was drawn moments ago (it waits
// DefaultAuditSettle). A decision
// recorded but not yet applied to the document is waited for a minute at
// a time; an audit closed without a decision or decided after its due
// time counts at once, one still open when due counts then, all as
// escaped; audits of another policy version and audits another
// supervisor counted are passed. A retried step that finds its own mark
// counts the audit as first marked, whatever became of it since.
func TestCountAuditsInDrawOrder(t *testing.T) {
	ctx := context.Background()
	f := newAuditStore(t)
	_, dA := f.draw("a", "v", true)
	f.decide(dA, true)
	_, dB := f.draw("b", "v", false)
	f.decide(dB, false) // decided, the document not amended yet
	_, dC := f.draw("c", "v", false)
	f.decide(dC, true)
	now := f.at.Add(30 * time.Minute)

	res := f.count("s/1", nil, now)
	if counted(res) != "a:wrong" || res.Waiting != "b" || !res.Until.Equal(now.Add(time.Minute)) || res.More || res.Poll != 24*time.Hour {
		t.Fatalf("counted %q, waiting for %q until %v; want a, then b's amendment awaited a minute (c, decided, held back)", counted(res), res.Waiting, res.Until)
	}
	f.decide(dB, true)
	rC, _ := f.draw("closed", "v", false)
	if err := f.s.CloseReviews(ctx, rC.DocumentID, f.at, "reconciler"); err != nil {
		t.Fatal(err)
	}
	f.draw("other-version", "v+pii-extraction/v9", false)
	_, dBefore := f.draw("counted-before", "v", false)
	f.decide(dBefore, true)
	data, _ := audit.Canonical(map[string]any{"counted_by": "supervisor/pii-extraction/old/7"})
	if _, err := f.s.AppendAudit(ctx, countersign.AuditEvent{ID: activities.CountedEventID("pii-extraction", "counted-before"), DocumentID: "counted-before",
		Type: countersign.EventAuditCounted, Actor: countersign.SystemActor, Channel: countersign.ChannelWorkflow, At: f.at, Data: data}); err != nil {
		t.Fatal(err)
	}
	rLate, dLate := f.draw("late", "v", false)
	dLate.At = rLate.DueAt.Add(time.Second)
	f.decide(dLate, true)
	rOpen, dOpen := f.draw("open", "v", false)

	res = f.count("s/2", res.After, now)
	if counted(res) != "b c closed:none late:none" || len(res.Passed) != 2 || res.Waiting != "open" || !res.Due.Equal(rOpen.DueAt) || !res.Until.Equal(rOpen.DueAt.Add(activities.DefaultAuditSettle)) {
		t.Fatalf("counted %q, passed %+v, waiting for %q until %v; want b, c, the closed one and the one decided after its due time (no verdict), the other version and the one counted before passed, waiting for the open one until the settle time after it is due",
			counted(res), res.Passed, res.Waiting, res.Until)
	}
	for i, why := range []string{"routed under policy v+pii-extraction/v9", "counted before, by supervisor/pii-extraction/old/7"} {
		if !strings.Contains(res.Passed[i].Reason, why) {
			t.Errorf("passed %+v, want the reason to say %q", res.Passed[i], why)
		}
	}
	after := res.After
	// Just due: a decision given in time could still be on its way.
	if res := f.count("s/3", after, rOpen.DueAt); counted(res) != "" || res.Waiting != "open" {
		t.Fatalf("as the open audit falls due: counted %q, waiting for %q; want it waited for the settle time", counted(res), res.Waiting)
	}
	due := rOpen.DueAt.Add(activities.DefaultAuditSettle)
	res = f.count("s/3", after, due)
	if counted(res) != "open:none" || res.Waiting != "" || !res.Until.IsZero() {
		t.Fatalf("at the open audit's due time: counted %q, waiting for %q; want it counted without a verdict", counted(res), res.Waiting)
	}
	// The step is retried after the audit was decided (the document not
	// amended yet): it counts as the step first marked it.
	f.decide(dOpen, false)
	if again := f.count("s/3", after, due); counted(again) != "open:none" {
		t.Fatalf("the retried step counted %q, want the open audit as first marked", counted(again))
	}
	// Another step finds it counted.
	if again := f.count("s/4", after, due); counted(again) != "" || len(again.Passed) != 1 {
		t.Fatalf("a later step counted %q and passed %+v; want the audit passed, counted before", counted(again), again.Passed)
	}
	trail, err := f.s.DocumentAudit(ctx, "open")
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 1 || !strings.Contains(string(trail[0].Data), `"no_verdict":true`) || !strings.Contains(string(trail[0].Data), `"counted_by":"s/3"`) {
		t.Fatalf("trail of the open audit = %+v", trail)
	}
	// A page at a time.
	for i := range 60 {
		_, d := f.draw(fmt.Sprintf("z%02d", i), "v", false)
		f.decide(d, true)
	}
	res = f.count("s/5", res.After, due)
	if len(res.Counted) != 50 || !res.More {
		t.Fatalf("counted %d, more %v; want a page of 50 and more to come", len(res.Counted), res.More)
	}
	if res = f.count("s/6", res.After, due); len(res.Counted) != 10 || res.More {
		t.Fatalf("counted %d, more %v; want the last 10", len(res.Counted), res.More)
	}
	// Drawn moments ago, and decided already: not yet, another drawn at
	// the same moment could still be on its way to the store.
	rFresh, dFresh := f.draw("fresh", "v", false)
	f.decide(dFresh, true)
	if res := f.count("s/7", res.After, rFresh.CreatedAt.Add(5*time.Second)); counted(res) != "" || res.Waiting != "fresh" ||
		!res.Until.Equal(rFresh.CreatedAt.Add(activities.DefaultAuditSettle)) || !res.Due.Equal(rFresh.DueAt) {
		t.Fatalf("just after an audit was drawn: counted %q, waiting for %q (due %v) until %v; want it waited for until %v after it was drawn",
			counted(res), res.Waiting, res.Due, res.Until, activities.DefaultAuditSettle)
	}
}
