package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/workflows"
)

// TestSupervisorTightensAndOnlyAPersonResets drives the supervisor with a
// synthetic stream of audits: 200 clean ones at confidence 0.97, then one in
// three wrong, all wrong ones at confidence 0.91. The escaped-error bound
// first sits under the 5% budget, then crosses it; the supervisor must
// tighten exactly at the first audit where the Wilson bound exceeds the
// budget, to the smallest threshold above which the audits met it (0.92),
// hold it, and let only an approver reset it.
func TestSupervisorTightensAndOnlyAPersonResets(t *testing.T) {
	f := newFixture(t, nil)
	tt, err := f.types.Get("pii-extraction")
	if err != nil {
		t.Fatal(err)
	}
	sup := tt.Policy.Supervision
	if sup == nil || sup.Bound != countersign.BoundWilson || sup.ErrorBudget != 0.05 || tt.Policy.AutoAcceptThreshold != 0.9 {
		t.Fatalf("the test assumes pii-extraction supervises with Wilson, a 5%% budget and threshold 0.9: %+v %+v", tt.Policy, sup)
	}
	const clean, total = 200, 320
	escaped := func(i int) bool { return i >= clean && (i-clean)%3 == 0 }
	// Where the bound should first exceed the budget, computed from the
	// cumulative tally (quality.UpperBound has its own hand-checked tests).
	trip, k := -1, 0
	minAudits, _ := quality.MinAudits(sup.Bound, sup.ErrorBudget, sup.Level)
	for i := 0; i < total && trip < 0; i++ {
		if escaped(i) {
			k++
		}
		bound, _ := quality.UpperBound(sup.Bound, k, i+1, sup.Level)
		if i+1 >= minAudits && bound > sup.ErrorBudget {
			trip = i
		}
	}
	if trip <= clean {
		t.Fatalf("the stream should trip after the clean audits, trips at %d", trip)
	}

	var states []workflows.Supervision
	query := func() workflows.Supervision {
		v, err := f.env.QueryWorkflow(workflows.SupervisionQuery)
		if err != nil {
			t.Fatal(err)
		}
		var s workflows.Supervision
		if err := v.Get(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i := range total {
		confidence := 0.97
		if escaped(i) {
			confidence = 0.91
		}
		f.env.RegisterDelayedCallback(func() {
			o := f.storeAudit(tt.Name, fmt.Sprintf("doc-%03d", i), confidence, escaped(i), "")
			f.env.SignalWorkflow(workflows.AuditSignal, o)
			if i == 0 {
				// A retried report of the same audit counts once.
				f.env.SignalWorkflow(workflows.AuditSignal, o)
			}
		}, time.Duration(i+1)*time.Minute)
		if i == trip-1 || i == trip {
			f.env.RegisterDelayedCallback(func() { states = append(states, query()) }, time.Duration(i+1)*time.Minute+30*time.Second)
		}
	}
	reset := func(at time.Duration, p countersign.Principal, reason string) *error {
		var got error
		done := &got
		f.env.RegisterDelayedCallback(func() {
			f.updates++
			id := fmt.Sprintf("reset-%d", f.updates)
			req := f.sign(workflows.SupervisorWorkflowID(tt.Name), id, workflows.ResetRequest{Reason: reason, Actor: p, Channel: countersign.ChannelCLI})
			f.env.UpdateWorkflow(workflows.ResetUpdate, id, &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { *done = err },
				OnAccept:   func() {},
				OnComplete: func(_ any, err error) { *done = errors.Join(*done, err) },
			}, req)
		}, at)
		return done
	}
	end := time.Duration(total+10) * time.Minute
	byReviewer := reset(end, reviewer("rita"), "looks fine")
	noReason := reset(end+time.Minute, approver("sue"), " ")
	byApprover := reset(end+2*time.Minute, approver("sue"), "prompt fixed; re-audited")
	again := reset(end+3*time.Minute, approver("sue"), "again")
	var after workflows.Supervision
	f.env.RegisterDelayedCallback(func() { after = query(); f.env.CancelWorkflow() }, end+4*time.Minute)

	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.SupervisorWorkflowID(tt.Name)})
	f.env.ExecuteWorkflow(workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: tt.Name})

	if len(states) != 2 {
		t.Fatalf("queried %d states", len(states))
	}
	before, at := states[0], states[1]
	if before.Override != nil || before.Estimate == nil || before.Estimate.Breached {
		t.Fatalf("one audit before the trip point the policy is already tightened: %+v", before)
	}
	o := at.Override
	if o == nil || o.Mode != countersign.ModeHOTL || o.Threshold != 0.92 || o.Audits != trip+1 || !at.Estimate.Breached {
		t.Fatalf("at the trip point (audit %d): override %+v, estimate %+v", trip+1, o, at.Estimate)
	}
	if at.All.Audits != trip+1 {
		t.Fatalf("the repeated report was counted twice: %d audits", at.All.Audits)
	}
	if !strings.Contains(o.Reason, "raised from 0.90 to 0.92") {
		t.Fatalf("override reason = %q", o.Reason)
	}
	if *byReviewer == nil || !strings.Contains((*byReviewer).Error(), "approver or admin") {
		t.Fatalf("a reviewer's reset = %v", *byReviewer)
	}
	if *noReason == nil || !strings.Contains((*noReason).Error(), "needs a reason") {
		t.Fatalf("a reset without a reason = %v", *noReason)
	}
	if *byApprover != nil {
		t.Fatalf("the approver's reset failed: %v", *byApprover)
	}
	if *again == nil || !strings.Contains((*again).Error(), "not tightened") {
		t.Fatalf("a second reset = %v", *again)
	}
	if after.Override != nil || after.Window.Total().Audits != 0 || after.All.Audits != total {
		t.Fatalf("after the reset: %+v", after)
	}
	if active, _ := f.store.ActiveOverride(context.Background(), tt.Name); active != nil {
		t.Fatalf("override still in force after reset: %+v", active)
	}
	overrides, _ := f.store.Overrides(context.Background(), tt.Name)
	if len(overrides) != 1 || overrides[0].ID != o.ID || overrides[0].Threshold != 0.92 || overrides[0].ResetBy != "sue" || overrides[0].ResetReason != "prompt fixed; re-audited" {
		t.Fatalf("overrides = %+v", overrides)
	}
	var types []string
	counted := 0
	if err := f.store.ScanAudit(context.Background(), 0, func(e countersign.AuditEvent) error {
		if e.Type == countersign.EventAuditCounted {
			counted++
		} else {
			types = append(types, e.Type)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(types, " "); got != "policy.tightened policy.reset" || counted != total {
		t.Fatalf("audit events = %s and %d audits counted, want policy.tightened policy.reset and %d", got, counted, total)
	}
}

// storeAudit stores an auto-accepted document of taskType, routed under
// the policy version policyVersion (empty: the task type's own), whose
// audit a reviewer closed, approving it or, when escaped, correcting it, as
// the review workflow leaves it before it reports the outcome; and returns
// the outcome it reports.
func (f *fixture) storeAudit(taskType, id string, confidence float64, escaped bool, policyVersion string) countersign.AuditOutcome {
	f.t.Helper()
	o, _, d := f.storeAuditDocument(taskType, id, confidence, escaped, policyVersion)
	if err := f.store.RecordDecision(context.Background(), d, true); err != nil {
		f.t.Fatal(err)
	}
	return o
}

// storeAuditDocument is storeAudit up to the audit review opened: the
// decision that would close it is returned, not recorded.
func (f *fixture) storeAuditDocument(taskType, id string, confidence float64, escaped bool, policyVersion string) (countersign.AuditOutcome, *countersign.Review, *countersign.Decision) {
	f.t.Helper()
	ctx := context.Background()
	// Drawn now, by the workflow's clock: audits count in the order drawn.
	now := f.env.Now().UTC()
	route := "tt"
	if policyVersion != "" {
		route += "+" + policyVersion
	}
	fields := countersign.Fields{"email": "someone@example.com"}
	final := &countersign.Final{Fields: fields, Outcome: countersign.OutcomeAutoAcceptWithAudit, DecidedBy: countersign.SystemActor, DecidedAt: now, AuditedBy: "ana"}
	action := countersign.ActionApprove
	var correction countersign.Fields
	if escaped {
		action, correction = countersign.ActionCorrect, countersign.Fields{"email": "someone.else@example.com"}
		final.Fields, final.CorrectedAfterAudit = correction, true
	}
	doc := &countersign.Document{
		ID: id, TaskType: taskType, TaskTypeVersion: "tt", Content: "audited " + id,
		ContentSHA256: countersign.ContentSHA256("audited " + id), Status: countersign.StatusAccepted,
		SubmittedBy: "sam", CreatedAt: now,
		Draft:      &countersign.Draft{Fields: fields, Extractor: "rules"},
		Confidence: &countersign.Confidence{Overall: confidence},
		Route:      &countersign.Route{Outcome: countersign.OutcomeAutoAcceptWithAudit, Mode: countersign.ModeHOTL, Threshold: 0.9, PolicyVersion: route},
		Final:      final,
	}
	if _, created, err := f.store.CreateDocument(ctx, doc); err != nil || !created {
		f.t.Fatalf("storing audited document %s: created %v, %v", id, created, err)
	}
	// A document is created as received; the rest comes as it goes.
	if err := f.store.UpdateDocument(ctx, id, countersign.DocumentUpdate{Draft: doc.Draft, Confidence: doc.Confidence, Route: doc.Route, Final: final}); err != nil {
		f.t.Fatal(err)
	}
	review := &countersign.Review{
		ID: countersign.ReviewID(id, 1), DocumentID: id, TaskType: taskType, Kind: countersign.ReviewAudit,
		Status: countersign.ReviewPending, CreatedAt: now, DueAt: now.Add(24 * time.Hour), Confidence: confidence,
	}
	if err := f.store.OpenReview(ctx, review); err != nil {
		f.t.Fatal(err)
	}
	d := &countersign.Decision{ID: review.ID + "/1", ReviewID: review.ID, DocumentID: id, Action: action, Fields: correction,
		Actor: "ana", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: now}
	o := countersign.AuditOutcome{DocumentID: id, TaskType: taskType, Confidence: confidence, Threshold: 0.9, Escaped: escaped, Auditor: "ana", At: now}
	return o, review, d
}

// query returns the supervisor's state.
func (f *fixture) supervision() workflows.Supervision {
	f.t.Helper()
	v, err := f.env.QueryWorkflow(workflows.SupervisionQuery)
	if err != nil {
		f.t.Fatal(err)
	}
	var s workflows.Supervision
	if err := v.Get(&s); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// TestSupervisorCountsAuditsInDrawOrder: anyone who can reach the Temporal
// frontend can signal the supervisor, and auditors take longer over some
// audits than over others. The supervisor reads the audits from the store,
// in the order they were drawn, each once decided or due. Made-up reports,
// a report of another task type's audit and real escaped audits reported
// as clean change nothing. An audit still open (a slow correction) holds
// back the audits drawn after it, decided or not, until it is decided; one
// never decided holds them back until it is due, and then counts as
// escaped, with no report at all.
func TestSupervisorCountsAuditsInDrawOrder(t *testing.T) {
	f := newFixture(t, nil)
	tt, err := f.types.Get("pii-extraction")
	if err != nil {
		t.Fatal(err)
	}
	const real = 120
	escaped := func(i int) bool { return i%20 == 19 }
	// Escaped among the real audits drawn before minute m.
	escapedBefore := func(m int) int {
		k := 0
		for i := 0; i < min(m, real); i++ {
			if escaped(i) {
				k++
			}
		}
		return k
	}
	for i := range real {
		f.env.RegisterDelayedCallback(func() {
			o := f.storeAudit(tt.Name, fmt.Sprintf("real-%03d", i), 0.95, escaped(i), "")
			if o.Escaped {
				// First reported as clean, by a forger.
				lie := o
				lie.Escaped, lie.Fields = false, nil
				f.env.SignalWorkflow(workflows.AuditSignal, lie)
			}
			f.env.SignalWorkflow(workflows.AuditSignal, o)
			f.env.SignalWorkflow(workflows.AuditSignal, countersign.AuditOutcome{DocumentID: fmt.Sprintf("forged-%03d", i), TaskType: tt.Name, Confidence: 0.99, Auditor: "mallory"})
		}, time.Duration(i+1)*time.Minute)
	}
	// A real audit of another task type's document, reported as this one's.
	f.env.RegisterDelayedCallback(func() {
		other := f.storeAudit("contract-review", "other-type", 0.95, false, "")
		other.TaskType = tt.Name
		f.env.SignalWorkflow(workflows.AuditSignal, other)
	}, 30*time.Second)
	// A slow correction, drawn after real-039, decided after real-089.
	var slowDecision *countersign.Decision
	f.env.RegisterDelayedCallback(func() {
		_, _, slowDecision = f.storeAuditDocument(tt.Name, "slow", 0.95, true, "")
	}, 40*time.Minute+30*time.Second)
	f.env.RegisterDelayedCallback(func() {
		if err := f.store.RecordDecision(context.Background(), slowDecision, true); err != nil {
			t.Error(err)
		}
		f.env.SignalWorkflow(workflows.AuditSignal, countersign.AuditOutcome{DocumentID: "slow", TaskType: tt.Name, Escaped: true})
	}, 90*time.Minute+30*time.Second)
	// An audit nobody decides, drawn after real-099.
	var neverDue time.Time
	f.env.RegisterDelayedCallback(func() {
		_, r, _ := f.storeAuditDocument(tt.Name, "never", 0.95, false, "")
		neverDue = r.DueAt
	}, 100*time.Minute+30*time.Second)

	var held, released, heldAgain, end workflows.Supervision
	f.env.RegisterDelayedCallback(func() { held = f.supervision() }, 60*time.Minute+45*time.Second)
	f.env.RegisterDelayedCallback(func() { released = f.supervision() }, 90*time.Minute+45*time.Second)
	f.env.RegisterDelayedCallback(func() { heldAgain = f.supervision() }, time.Duration(real+5)*time.Minute)
	f.env.RegisterDelayedCallback(func() { end = f.supervision(); f.env.CancelWorkflow() }, 100*time.Minute+25*time.Hour)
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.SupervisorWorkflowID(tt.Name)})
	f.env.ExecuteWorkflow(workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: tt.Name})

	if !held.DrawOrder || held.All.Audits != 40 || held.All.Escaped != escapedBefore(40) || held.Waiting != "slow" {
		t.Fatalf("with the slow audit open: counted %+v, waiting for %q; want the 40 audits drawn before it, %d escaped, waiting for it",
			held.All, held.Waiting, escapedBefore(40))
	}
	if want := (quality.Tally{Audits: 91, Escaped: escapedBefore(90) + 1}); released.All != want || released.Waiting != "" {
		t.Fatalf("once the slow audit was decided: counted %+v, waiting for %q; want %+v", released.All, released.Waiting, want)
	}
	if want := (quality.Tally{Audits: 101, Escaped: escapedBefore(100) + 1}); heldAgain.All != want || heldAgain.Waiting != "never" || heldAgain.Due.Sub(neverDue).Abs() > time.Millisecond {
		t.Fatalf("with the never-decided audit open: counted %+v, waiting for %q due %v; want %+v, waiting for it due %v",
			heldAgain.All, heldAgain.Waiting, heldAgain.Due, want, neverDue)
	}
	if want := (quality.Tally{Audits: real + 2, Escaped: escapedBefore(real) + 2}); end.All != want || end.Overdue != 1 || end.Waiting != "" || end.Ignored != 0 {
		t.Fatalf("after the open audit was due: counted %+v, %d overdue, waiting for %q, %d passed; want %+v, 1 overdue", end.All, end.Overdue, end.Waiting, end.Ignored, want)
	}
	trail, err := f.store.DocumentAudit(context.Background(), "never")
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 1 || trail[0].ID != activities.CountedEventID(tt.Name, "never") || !strings.Contains(string(trail[0].Data), `"no_verdict":true`) {
		t.Fatalf("trail of the audit counted without a verdict = %+v", trail)
	}
	if trail, _ := f.store.DocumentAudit(context.Background(), "other-type"); len(trail) != 0 {
		t.Fatalf("the other task type's audit was marked: %+v", trail)
	}
}

// supervisedFixture is a fixture whose pii-extraction task type has policy
// in place of its own.
func supervisedFixture(t *testing.T, policy string) *fixture {
	t.Helper()
	f := newFixture(t, nil)
	raw, err := os.ReadFile(filepath.Join("..", "examples", "pii-extraction", "tasktype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(raw), "\npolicy:\n")
	if !ok {
		t.Fatal("examples/pii-extraction/tasktype.yaml has no top-level policy: block to replace")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pii-extraction.yaml"), []byte(head+"\n"+policy), 0o644); err != nil {
		t.Fatal(err)
	}
	if f.types, err = tasktype.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	f.acts.TaskTypes = tasktype.NewResolver(f.types, f.store)
	return f
}

// certify stores a certificate of pii-extraction at threshold (budget 5%,
// level 95%) with accepted and wrong documents, and applies it as the
// policy version in force; it returns the version's ID.
func (f *fixture) certify(threshold float64, accepted, wrong int) (string, string) {
	f.t.Helper()
	ctx := context.Background()
	c := &countersign.Certificate{TaskType: "pii-extraction", Budget: 0.05, Level: 0.95, Threshold: threshold, Accepted: accepted, Wrong: wrong,
		Documents: 2 * accepted, Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), CreatedBy: "anna"}
	if err := f.store.PutCertificate(ctx, c); err != nil {
		f.t.Fatal(err)
	}
	previous := ""
	if v, err := f.store.PolicyInForce(ctx, "pii-extraction"); err != nil {
		f.t.Fatal(err)
	} else if v != nil {
		previous = v.ID
	}
	v := &countersign.PolicyVersion{TaskType: "pii-extraction", Previous: previous, Mode: countersign.ModeHOTL, Threshold: &threshold,
		Certificate: c.ID, Reason: "certified", CreatedBy: "anna", CreatedAt: time.Now()}
	if err := f.store.PutPolicyVersion(ctx, v); err != nil {
		f.t.Fatal(err)
	}
	return c.ID, v.ID
}

// certifiedPolicy supervises with the confidence sequence at a 5% budget.
const certifiedPolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.8
  review_due: 24h
  audit_sample_rate: 0.1
  supervision:
    error_budget: 0.05
    level: 0.95
    bound: confidence-sequence
    on_breach: raise_threshold
`

// TestSupervisorStartsFromTheCertificate: the policy in force was applied
// from a certificate (400 accepted, 8 wrong at threshold 0.9), so the
// supervisor's window starts from that evidence, and the audits continue
// it; the certificate showed the budget met, so the audits must refute it.
// One audit in four is wrong: the supervisor tightens exactly at the first
// audit where the confidence sequence's lower bound of the audits exceeds
// the budget, not before. A newly applied certificate
// starts a new window from its own evidence; audits of documents of the
// earlier version no longer count; a reset starts again from the
// certificate in force.
func TestSupervisorStartsFromTheCertificate(t *testing.T) {
	f := supervisedFixture(t, certifiedPolicy)
	const taskType = "pii-extraction"
	c1, v1 := f.certify(0.9, 400, 8)
	wrong := func(i int) bool { return i%4 == 3 }
	start := &quality.Tally{Audits: 400, Escaped: 8}
	trip, k := -1, 0
	for i := 0; i < 400 && trip < 0; i++ {
		if wrong(i) {
			k++
		}
		e, err := quality.Evaluate(start, quality.Tally{Audits: i + 1, Escaped: k}, quality.ConfidenceSequence, 0.05, 0.95, 0)
		if err != nil {
			t.Fatal(err)
		}
		if e.Breached {
			trip = i
		}
	}
	if trip < 10 {
		t.Fatalf("the audits refute the certificate at audit %d: too soon to tell where the evidence started", trip+1)
	}
	t.Logf("the audits refute the certificate at audit %d (%d wrong)", trip+1, k)
	for i := 0; i <= trip; i++ {
		f.env.RegisterDelayedCallback(func() {
			f.env.SignalWorkflow(workflows.AuditSignal, f.storeAudit(taskType, fmt.Sprintf("c1-%03d", i), 0.95, wrong(i), v1))
		}, time.Duration(i+1)*time.Minute)
	}
	var first, before, at, renewed, mixed, reset workflows.Supervision
	f.env.RegisterDelayedCallback(func() { first = f.supervision() }, time.Minute+30*time.Second)
	f.env.RegisterDelayedCallback(func() { before = f.supervision() }, time.Duration(trip)*time.Minute+30*time.Second)
	f.env.RegisterDelayedCallback(func() { at = f.supervision() }, time.Duration(trip+1)*time.Minute+30*time.Second)

	// A second certificate is applied, and the supervisor told.
	next := time.Duration(trip+10) * time.Minute
	var c2, v2 string
	f.env.RegisterDelayedCallback(func() {
		c2, v2 = f.certify(0.95, 300, 3)
		f.env.SignalWorkflow(workflows.PolicySignal, nil)
	}, next)
	f.env.RegisterDelayedCallback(func() { renewed = f.supervision() }, next+30*time.Second)
	// An audit of a document of the first version, then one of the second.
	var old, fresh countersign.AuditOutcome
	f.env.RegisterDelayedCallback(func() {
		old = f.storeAudit(taskType, "c1-late", 0.95, false, v1)
		fresh = f.storeAudit(taskType, "c2-000", 0.97, false, v2)
		f.env.SignalWorkflow(workflows.AuditSignal, old)
		f.env.SignalWorkflow(workflows.AuditSignal, fresh)
	}, next+time.Minute)
	f.env.RegisterDelayedCallback(func() { mixed = f.supervision() }, next+time.Minute+30*time.Second)
	var resetErr error
	f.env.RegisterDelayedCallback(func() {
		f.updates++
		id := fmt.Sprintf("reset-%d", f.updates)
		req := f.sign(workflows.SupervisorWorkflowID(taskType), id, workflows.ResetRequest{Reason: "prompt fixed", Actor: approver("sue"), Channel: countersign.ChannelCLI})
		f.env.UpdateWorkflow(workflows.ResetUpdate, id, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { resetErr = err }, OnAccept: func() {}, OnComplete: func(_ any, err error) { resetErr = errors.Join(resetErr, err) },
		}, req)
	}, next+2*time.Minute)
	f.env.RegisterDelayedCallback(func() { reset = f.supervision(); f.env.CancelWorkflow() }, next+3*time.Minute)
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.SupervisorWorkflowID(taskType)})
	f.env.ExecuteWorkflow(workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: taskType})

	if b := first.Basis; b == nil || b.Certificate == nil || b.Certificate.ID != c1 || !b.Certificate.Refutes || !slices.Equal(b.Versions, []string{v1}) {
		t.Fatalf("the window's basis after the first audit = %+v, want certificate %s of version %s", first.Basis, c1, v1)
	}
	if e := first.Estimate; e == nil || e.Start == nil || e.Start.Audits != 400 || e.Start.Escaped != 8 || e.Audits != 1 || e.Rule != quality.RuleRefute {
		t.Fatalf("the first estimate = %+v, want 8 of 400 from the certificate, then 1 audit, judged by refutation", first.Estimate)
	}
	if before.Override != nil {
		t.Fatalf("tightened before audit %d: %+v", trip+1, before.Override)
	}
	o := at.Override
	if o == nil || o.Mode != countersign.ModeHITL || o.Audits != trip+1 || !strings.Contains(o.Reason, "refute the certificate") || !strings.Contains(o.Reason, "certificate "+c1) {
		t.Fatalf("at audit %d: override %+v", trip+1, o)
	}
	if b := renewed.Basis; b == nil || b.Certificate == nil || b.Certificate.ID != c2 || renewed.Window.Total().Audits != 0 || renewed.Estimate != nil && renewed.Estimate.Audits != 0 {
		t.Fatalf("after the second certificate was applied: basis %+v, window %+v", renewed.Basis, renewed.Window.Total())
	}
	if mixed.Window.Total().Audits != 1 || mixed.Ignored != 1 || mixed.Estimate == nil || mixed.Estimate.Start.Audits != 300 {
		t.Fatalf("after an audit of each version: window %+v, ignored %d, estimate %+v; want the second version's audit counted, from 300 certified",
			mixed.Window.Total(), mixed.Ignored, mixed.Estimate)
	}
	if resetErr != nil {
		t.Fatalf("reset: %v", resetErr)
	}
	if reset.Override != nil || reset.Basis == nil || reset.Basis.Certificate == nil || reset.Basis.Certificate.ID != c2 || reset.Window.Total().Audits != 0 {
		t.Fatalf("after the reset: override %+v, basis %+v, window %+v; want a new window from %s", reset.Override, reset.Basis, reset.Window.Total(), c2)
	}
}

// TestSupervisorSwitchesToDrawOrder: a supervisor run that counted audits
// as they were decided continues as new into a worker that counts them in
// draw order. Its window ends there: the new one counts the audits drawn
// from then on, and none drawn before, decided or left open, which that
// run counted as decided or could not confirm.
func TestSupervisorSwitchesToDrawOrder(t *testing.T) {
	f := newFixture(t, nil)
	const taskType = "pii-extraction"
	f.storeAuditDocument(taskType, "forgotten", 0.95, false, "") // open, long overdue by the end
	f.storeAudit(taskType, "decided-before", 0.95, true, "")
	start := f.env.Now().Add(time.Hour)
	f.env.SetStartTime(start)
	var window quality.Histogram
	for i := range 40 {
		window.Add(0.95, i == 0)
	}
	carried := &workflows.Supervision{
		TaskType: taskType, Since: start.Add(-24 * time.Hour), Window: window, All: quality.Tally{Audits: 40, Escaped: 1},
		Loaded: true, Lineage: "old-run", Basis: &activities.Basis{Mode: countersign.ModeHOTL, Threshold: 0.9},
		Ignored: 3, Pending: []countersign.AuditOutcome{{DocumentID: "decided-before", TaskType: taskType, Escaped: true}},
	}
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(workflows.AuditSignal, f.storeAudit(taskType, "after", 0.97, false, ""))
	}, time.Minute)
	var s workflows.Supervision
	f.env.RegisterDelayedCallback(func() { s = f.supervision(); f.env.CancelWorkflow() }, 72*time.Hour)
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.SupervisorWorkflowID(taskType)})
	f.env.SetContinuedExecutionRunID("old-run") // the run carried on from
	f.env.ExecuteWorkflow(workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: taskType, State: carried})

	if !s.DrawOrder || s.Window.Total() != (quality.Tally{Audits: 1}) || s.All != (quality.Tally{Audits: 41, Escaped: 1}) || s.Ignored != 0 || len(s.Pending) != 0 || s.Overdue != 0 {
		t.Fatalf("after the switch: draw order %v, window %+v, all %+v, ignored %d, pending %d, overdue %d; want a new window of the one audit drawn after it",
			s.DrawOrder, s.Window.Total(), s.All, s.Ignored, len(s.Pending), s.Overdue)
	}
	if s.Since.Before(start.Add(-time.Millisecond)) {
		t.Fatalf("the window started at %v, before the switch at %v", s.Since, start)
	}
	for _, id := range []string{"forgotten", "decided-before"} {
		if trail, _ := f.store.DocumentAudit(context.Background(), id); len(trail) != 0 {
			t.Errorf("%s, drawn before the switch, was counted: %+v", id, trail)
		}
	}
}

// TestSupervisorRefusesAStartItCannotVouchFor: anyone who can reach the
// Temporal frontend can start a supervisor. A state carried into a run the
// supervisor did not continue as new (a window of 10,000 clean audits that
// would hide a breach) is refused before anything runs, as is a supervisor
// started under another task type's workflow ID; a start with the task type
// alone, as the reconciler's, runs.
func TestSupervisorRefusesAStartItCannotVouchFor(t *testing.T) {
	const taskType = "pii-extraction"
	forged := func() *workflows.Supervision {
		var clean quality.Histogram
		for range 10000 {
			clean.Add(0.95, false)
		}
		return &workflows.Supervision{TaskType: taskType, Since: time.Now().Add(-24 * time.Hour), Window: clean, All: quality.Tally{Audits: 10000}, Loaded: true, Lineage: "mine"}
	}
	cases := []struct {
		name, id, continued string
		in                  workflows.SupervisorInput
		refused             string
	}{
		{name: "a state from a client", id: workflows.SupervisorWorkflowID(taskType), in: workflows.SupervisorInput{TaskType: taskType, State: forged()},
			refused: "was not continued from a run of this supervisor"},
		{name: "another task type's state", id: workflows.SupervisorWorkflowID("contract-review"), continued: "earlier", in: workflows.SupervisorInput{TaskType: "contract-review", State: forged()},
			refused: `task type "pii-extraction"'s, not "contract-review"'s`},
		{name: "another task type's workflow", id: workflows.SupervisorWorkflowID("contract-review"), in: workflows.SupervisorInput{TaskType: taskType},
			refused: "is not the supervisor of task type"},
		{name: "no task type", id: "supervisor/", in: workflows.SupervisorInput{},
			refused: "is not the supervisor of task type"},
		{name: "the task type alone", id: workflows.SupervisorWorkflowID(taskType), in: workflows.SupervisorInput{TaskType: taskType}},
		{name: "a state it carried on", id: workflows.SupervisorWorkflowID(taskType), continued: "earlier", in: workflows.SupervisorInput{TaskType: taskType, State: forged()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			var s workflows.Supervision
			ran := false
			var activitiesRun []string
			f.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				activitiesRun = append(activitiesRun, info.ActivityType.Name)
			})
			if c.refused == "" {
				f.env.RegisterDelayedCallback(func() { s, ran = f.supervision(), true; f.env.CancelWorkflow() }, time.Minute)
			}
			f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: c.id})
			if c.continued != "" {
				f.env.SetContinuedExecutionRunID(c.continued)
			}
			f.env.ExecuteWorkflow(workflows.SupervisorWorkflowType, c.in)
			err := f.env.GetWorkflowError()
			if c.refused == "" {
				if !ran || s.TaskType != taskType {
					t.Fatalf("the run did not go on: %v, state %+v", err, s)
				}
				return
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != activities.ErrUntrustedStart || !appErr.NonRetryable() || !strings.Contains(err.Error(), c.refused) {
				t.Fatalf("error = %v; want a non-retryable %s naming %q", err, activities.ErrUntrustedStart, c.refused)
			}
			if len(activitiesRun) > 0 {
				t.Fatalf("a refused start ran %v", activitiesRun)
			}
		})
	}
}

// TestSupervisorFindsAuditsNobodyReported: nothing tells the supervisor
// that an audit was drawn, and an audit nobody decides is never reported.
// With no audit waiting, it looks again within review_due, so such an
// audit still counts, as escaped, when it is due.
func TestSupervisorFindsAuditsNobodyReported(t *testing.T) {
	f := newFixture(t, nil)
	const taskType = "pii-extraction"
	var due time.Time
	f.env.RegisterDelayedCallback(func() {
		_, r, _ := f.storeAuditDocument(taskType, "unreported", 0.95, false, "")
		due = r.DueAt
	}, time.Hour)
	var before, after workflows.Supervision
	f.env.RegisterDelayedCallback(func() { before = f.supervision() }, 24*time.Hour+59*time.Minute)
	f.env.RegisterDelayedCallback(func() { after = f.supervision(); f.env.CancelWorkflow() }, 25*time.Hour+5*time.Minute)
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.SupervisorWorkflowID(taskType)})
	f.env.ExecuteWorkflow(workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: taskType})

	if before.All.Audits != 0 || before.Waiting != "unreported" || before.Due.Sub(due).Abs() > time.Millisecond {
		t.Fatalf("before the audit is due: counted %+v, waiting for %q due %v; want it found and waited for until %v", before.All, before.Waiting, before.Due, due)
	}
	if after.All != (quality.Tally{Audits: 1, Escaped: 1}) || after.Overdue != 1 || after.Waiting != "" {
		t.Fatalf("after the audit was due: counted %+v, %d overdue, waiting for %q; want it counted as escaped", after.All, after.Overdue, after.Waiting)
	}
}
