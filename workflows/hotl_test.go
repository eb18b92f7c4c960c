package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/webhook"
	"github.com/countersign/countersign/workflows"
)

// reports records the audit outcomes the review workflow reports to the
// supervisors.
type reports struct {
	mu  sync.Mutex
	got []countersign.AuditOutcome
}

func (r *reports) Report(_ context.Context, o countersign.AuditOutcome) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, o)
	return nil
}

// receiver is a webhook endpoint that checks signatures and keeps events.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	events []webhook.Event
}

const webhookSecret = "s3cret"

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !webhook.Claims(r) {
		rc.t.Logf("ignored a request that is not a webhook delivery: %s %s (%s)", r.Method, r.URL, r.UserAgent())
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(webhookSecret, r.Header.Get("X-Countersign-Timestamp"), r.Header.Get("X-Countersign-Signature"), body, time.Now(), 5*time.Minute); err != nil {
		rc.t.Errorf("webhook signature: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e webhook.Event
	if err := json.Unmarshal(body, &e); err != nil {
		rc.t.Errorf("webhook body: %v", err)
	}
	rc.mu.Lock()
	rc.events = append(rc.events, e)
	rc.mu.Unlock()
}

func (rc *receiver) types() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.events {
		out = append(out, e.Type)
	}
	return strings.Join(out, " ")
}

// hotlFixture runs reviews with a webhook receiver and recorded supervisor
// reports.
func hotlFixture(t *testing.T) (*fixture, *receiver, *reports) {
	rc := &receiver{t: t}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	sup := &reports{}
	f := newFixtureActs(t, nil, nil, func(a *activities.Activities) {
		a.Webhook = &webhook.Client{URL: srv.URL, Secret: webhookSecret}
		a.Supervisors = sup
	})
	return f, rc, sup
}

// audited is a pii-extraction document the policy auto-accepts, with every
// auto-accepted document drawn for audit and supervision on.
func (f *fixture) audited() workflows.ReviewInput {
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	in.Policy.AuditSampleRate = 1
	in.Policy.Supervision = &countersign.Supervision{ErrorBudget: 0.05, Level: 0.95, Bound: countersign.BoundWilson, OnBreach: countersign.BreachRaiseThreshold}
	return in
}

// vetoAfter sends a veto once the given workflow time has passed.
func (f *fixture) vetoAfter(delay time.Duration, req workflows.VetoRequest) *outcome {
	return f.updateAfter(delay, workflows.VetoUpdate, req)
}

// at runs check once the given workflow time has passed.
func (f *fixture) at(delay time.Duration, check func()) {
	f.env.RegisterDelayedCallback(check, delay)
}

func approver(user string) countersign.Principal {
	return countersign.Principal{User: user, Role: countersign.RoleApprover}
}

func TestAuditConfirmsAnAutoAcceptedDocument(t *testing.T) {
	f, rc, sup := hotlFixture(t)
	in := f.audited()
	auditID := countersign.ReviewID(in.DocumentID, 1)
	f.at(30*time.Minute, func() {
		doc := f.stored(in.DocumentID)
		if doc.Status != countersign.StatusAccepted || doc.Final == nil || doc.Final.DeliveredAt == nil {
			t.Errorf("while the audit waits, the document is %s with final %+v: it should count and be delivered already", doc.Status, doc.Final)
		}
		r, err := f.store.GetReview(context.Background(), auditID)
		if err != nil || r.Kind != countersign.ReviewAudit || r.Status != countersign.ReviewPending {
			t.Errorf("audit review = %+v, %v", r, err)
		}
	})
	reject := f.decideAfter(time.Hour, workflows.DecisionRequest{ReviewID: auditID, Action: countersign.ActionReject, Reason: "no", Actor: reviewer("ana"), Channel: countersign.ChannelAPI})
	confirm := f.decideAfter(2*time.Hour, workflows.DecisionRequest{ReviewID: auditID, Action: countersign.ActionApprove, Actor: reviewer("ana"), Channel: countersign.ChannelAPI})
	result := f.run(in)
	if result.Outcome != countersign.OutcomeAutoAcceptWithAudit || result.Status != countersign.StatusAccepted {
		t.Fatalf("result = %+v", result)
	}
	if reject.rejected == nil || !strings.Contains(reject.rejected.Error(), "cannot reject") {
		t.Fatalf("an audit's reject was not refused: %+v", reject)
	}
	if confirm.result == nil || confirm.result.Status != countersign.StatusAccepted {
		t.Fatalf("audit approve = %+v", confirm)
	}
	doc := f.stored(in.DocumentID)
	if doc.Final.AuditedBy != "ana" || doc.Final.CorrectedAfterAudit || doc.Final.DecidedBy != countersign.SystemActor {
		t.Fatalf("final after a confirming audit = %+v", doc.Final)
	}
	// The route keeps the rate the document was drawn at: certify and
	// simulate read the uniform sample from it.
	if doc.Route == nil || doc.Route.Mode != countersign.ModeHOTL || doc.Route.AuditSampleRate != 1 {
		t.Fatalf("stored route = %+v, want hotl at audit sample rate 1", doc.Route)
	}
	if got, want := f.eventTypes(in.DocumentID), "document.received draft.created confidence.scored route.decided document.finalized document.delivered review.opened decision.recorded audit.confirmed"; got != want {
		t.Fatalf("audit events:\n got %s\nwant %s", got, want)
	}
	if got := rc.types(); got != "document.finalized" {
		t.Fatalf("webhook events = %q", got)
	}
	if len(sup.got) != 1 || sup.got[0].Escaped || sup.got[0].Auditor != "ana" || sup.got[0].Confidence != doc.Confidence.Overall {
		t.Fatalf("supervisor reports = %+v", sup.got)
	}
}

func TestAuditCorrectionMarksTheDocument(t *testing.T) {
	f, rc, sup := hotlFixture(t)
	in := f.audited()
	auditID := countersign.ReviewID(in.DocumentID, 1)
	f.decideAfter(time.Hour, workflows.DecisionRequest{
		ReviewID: auditID, Action: countersign.ActionCorrect, Fields: countersign.Fields{"email": "m.gonzalez@example.com"},
		Actor: reviewer("ana"), Channel: countersign.ChannelWeb,
	})
	f.run(in)
	doc := f.stored(in.DocumentID)
	if doc.Status != countersign.StatusAccepted || !doc.Final.CorrectedAfterAudit || doc.Final.AuditedBy != "ana" || doc.Final.Fields["email"] != "m.gonzalez@example.com" {
		t.Fatalf("document %s, final %+v", doc.Status, doc.Final)
	}
	corrected := false
	for _, c := range doc.Final.Diff {
		if c.Field == "email" && c.Change == countersign.ChangeCorrected && c.Draft == "maria.gonzalez@example.com" {
			corrected = true
		}
	}
	if !corrected {
		t.Fatalf("diff = %+v", doc.Final.Diff)
	}
	l := doc.Final.Lineage
	if l == nil || !slices.Contains(l.Reviewers, "ana") || len(l.AuditEvents) < 8 || l.TaskTypeVersion != in.TaskTypeVersion || l.Extractor != countersign.ExtractorRules {
		t.Fatalf("lineage = %+v", l)
	}
	if got, want := f.eventTypes(in.DocumentID), "document.received draft.created confidence.scored route.decided document.finalized document.delivered review.opened decision.recorded document.corrected_after_audit document.delivered"; got != want {
		t.Fatalf("audit events:\n got %s\nwant %s", got, want)
	}
	if got := rc.types(); got != "document.finalized document.corrected_after_audit" {
		t.Fatalf("webhook events = %q", got)
	}
	if len(sup.got) != 1 || !sup.got[0].Escaped || !slices.Equal(sup.got[0].Fields, []string{"email"}) {
		t.Fatalf("supervisor reports = %+v", sup.got)
	}
}

func TestVetoWithinTheWindow(t *testing.T) {
	f, rc, _ := hotlFixture(t)
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	in.Policy.VetoWindow = 2 * time.Hour
	f.at(time.Hour-time.Minute, func() {
		doc := f.stored(in.DocumentID)
		if doc.Status != countersign.StatusAccepted || doc.Final.DeliveredAt != nil {
			t.Errorf("inside the veto window the document is %s, delivered %v: it should be accepted and held back", doc.Status, doc.Final.DeliveredAt)
		}
	})
	byReviewer := f.vetoAfter(time.Hour, workflows.VetoRequest{Action: countersign.ActionReject, Reason: "x", Actor: reviewer("rita")})
	approve := f.vetoAfter(time.Hour, workflows.VetoRequest{Action: countersign.ActionApprove, Actor: approver("sue")})
	veto := f.vetoAfter(time.Hour, workflows.VetoRequest{Action: countersign.ActionReject, Reason: "sender is a known fraud case", Actor: approver("sue"), Channel: countersign.ChannelCLI})
	second := f.vetoAfter(time.Hour, workflows.VetoRequest{Action: countersign.ActionReject, Reason: "again", Actor: approver("sue")})
	result := f.run(in)
	if byReviewer.rejected == nil || !strings.Contains(byReviewer.rejected.Error(), "approver or admin") {
		t.Fatalf("a reviewer's veto = %+v", byReviewer)
	}
	if approve.rejected == nil || !strings.Contains(approve.rejected.Error(), "reject or correct") {
		t.Fatalf("a veto that approves = %+v", approve)
	}
	if veto.result == nil || veto.result.Status != countersign.StatusRejected {
		t.Fatalf("veto = %+v", veto)
	}
	if refusal := errors.Join(second.rejected, second.failed); refusal == nil || !strings.Contains(refusal.Error(), "already vetoed") {
		t.Fatalf("a second veto = %+v", second)
	}
	doc := f.stored(in.DocumentID)
	if result.Status != countersign.StatusRejected || doc.Status != countersign.StatusRejected || !doc.Final.Vetoed || doc.Final.DecidedBy != "sue" || doc.Final.Fields != nil {
		t.Fatalf("result %+v, document %s, final %+v", result, doc.Status, doc.Final)
	}
	if doc.Final.DeliveredAt == nil || doc.Final.DeliveredAt.Before(doc.Final.DecidedAt) || doc.Final.DeliveredAt.Sub(doc.Final.DecidedAt) > time.Minute {
		t.Fatalf("a vetoed document is delivered at the veto (%v), got %v", doc.Final.DecidedAt, doc.Final.DeliveredAt)
	}
	if got, want := f.eventTypes(in.DocumentID), "document.received draft.created confidence.scored route.decided document.finalized review.opened decision.recorded document.vetoed document.delivered"; got != want {
		t.Fatalf("audit events:\n got %s\nwant %s", got, want)
	}
	if got := rc.types(); got != "document.finalized" {
		t.Fatalf("webhook events = %q", got)
	}
	reviews, _ := f.store.ReviewsForDocument(context.Background(), in.DocumentID)
	if len(reviews) != 1 || reviews[0].Kind != countersign.ReviewVeto || reviews[0].Status != countersign.ReviewClosed || reviews[0].ClosedBy != "sue" {
		t.Fatalf("reviews = %+v", reviews)
	}
}

// TestVetoWhileFinalizeRecords: Finalize commits the accepted document
// before the workflow hears of it, so a supervisor can veto a document the
// store shows accepted before its window has opened. The veto is let in,
// waits for the window, and rejects the document.
func TestVetoWhileFinalizeRecords(t *testing.T) {
	f, _, _ := hotlFixture(t)
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	in.Policy.VetoWindow = 2 * time.Hour
	// Finalize's result reaches the workflow a minute after it starts.
	f.env.OnActivity(f.acts.Finalize, mock.Anything, mock.Anything).After(time.Minute).Return(f.acts.Finalize)
	early := f.vetoAfter(30*time.Second, workflows.VetoRequest{Action: countersign.ActionReject, Reason: "sender is a known fraud case", Actor: approver("sue")})
	result := f.run(in)
	if early.rejected != nil || early.failed != nil || early.result == nil || early.result.Status != countersign.StatusRejected {
		t.Fatalf("a veto sent while Finalize records the document = rejected %v, failed %v, result %+v; want it to reject the document", early.rejected, early.failed, early.result)
	}
	doc := f.stored(in.DocumentID)
	if result.Status != countersign.StatusRejected || !doc.Final.Vetoed || doc.Final.DecidedBy != "sue" {
		t.Fatalf("result %+v, final %+v", result, doc.Final)
	}
}

// TestVetoBeforeAWindowThatNeverOpens: a veto sent while Finalize records
// the document waits for the window; when Finalize fails instead, the
// document fails and the veto is refused, as any veto outside a window.
func TestVetoBeforeAWindowThatNeverOpens(t *testing.T) {
	f, _, _ := hotlFixture(t)
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	in.Policy.VetoWindow = 2 * time.Hour
	f.env.OnActivity(f.acts.Finalize, mock.Anything, mock.Anything).After(time.Minute).
		Return((*activities.FinalizeResult)(nil), temporal.NewNonRetryableApplicationError("the store is gone", "test", nil))
	early := f.vetoAfter(30*time.Second, workflows.VetoRequest{Action: countersign.ActionReject, Reason: "no", Actor: approver("sue")})
	f.execute(in)
	if err := f.env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "the store is gone") {
		t.Fatalf("workflow error = %v, want the review failed by Finalize", err)
	}
	if refusal := errors.Join(early.rejected, early.failed); refusal == nil || !strings.Contains(refusal.Error(), "not in a veto window (status failed)") {
		t.Fatalf("a veto of a document whose Finalize failed = %+v, want refused: not in a veto window (status failed)", early)
	}
	if doc := f.stored(in.DocumentID); doc.Status != countersign.StatusFailed {
		t.Fatalf("document %s, want failed", doc.Status)
	}
}

func TestVetoWindowCloses(t *testing.T) {
	f, _, _ := hotlFixture(t)
	in := f.audited()
	in.Policy.VetoWindow = 2 * time.Hour
	late := f.vetoAfter(3*time.Hour, workflows.VetoRequest{Action: countersign.ActionReject, Reason: "too late", Actor: approver("sue")})
	f.decideAfter(4*time.Hour, workflows.DecisionRequest{ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionApprove, Actor: reviewer("ana")})
	f.run(in)
	if late.rejected == nil || !strings.Contains(late.rejected.Error(), "veto window") || !strings.Contains(late.rejected.Error(), "audit") {
		t.Fatalf("a veto after the window = %+v", late)
	}
	doc := f.stored(in.DocumentID)
	if doc.Status != countersign.StatusAccepted || doc.Final.Vetoed || doc.Final.DeliveredAt == nil {
		t.Fatalf("document %s, final %+v", doc.Status, doc.Final)
	}
	if held := doc.Final.DeliveredAt.Sub(doc.Final.DecidedAt); held != 2*time.Hour {
		t.Fatalf("delivered %s after acceptance, want the 2h veto window", held)
	}
}

// TestPermanentErrorInTheLocalAttempt: when the local attempt at delivery
// fails for good (here its event ID already holds another step's event, a
// conflict), the delivery fails as the activity's would, and no activity is
// scheduled to take the event under that ID for a delivery made before.
func TestPermanentErrorInTheLocalAttempt(t *testing.T) {
	var f *fixture
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		var e struct {
			Data struct {
				DocumentID string `json:"document_id"`
			} `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		// Another step has its event stored under the delivery's ID.
		if _, err := f.store.AppendAudit(context.Background(), countersign.AuditEvent{
			ID: r.Header.Get("X-Countersign-Delivery"), DocumentID: e.Data.DocumentID, Type: countersign.EventReviewOpened,
			Actor: countersign.SystemActor, Channel: countersign.ChannelWorkflow, At: time.Now(), Data: json.RawMessage(`{}`),
		}); err != nil {
			t.Errorf("append another step's event: %v", err)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	f = newFixtureActs(t, nil, nil, func(a *activities.Activities) {
		a.Webhook = &webhook.Client{URL: srv.URL, Secret: webhookSecret}
	})
	var scheduled []string
	f.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		scheduled = append(scheduled, info.ActivityType.Name)
	})
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	f.execute(in)
	if err := f.env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "already recorded as review.opened") {
		t.Fatalf("workflow error = %v, want the local attempt's conflict", err)
	}
	if slices.Contains(scheduled, "Deliver") {
		t.Fatalf("activities scheduled %v: the Deliver activity ran after the local attempt failed for good", scheduled)
	}
	if n := posts.Load(); n != 1 {
		t.Fatalf("receiver got %d posts, want the local attempt's one", n)
	}
	events, err := f.store.DocumentAudit(context.Background(), in.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == countersign.EventDocumentDelivered {
			t.Fatalf("a document.delivered event %s after a delivery that failed", e.ID)
		}
	}
}

// TestTemporaryWebhookErrorInTheLocalAttempt: a receiver that answers 503
// to the local attempt at delivery does not fail the document, nor get
// its failure recorded, even when the activity may try once: the Deliver
// activity delivers, and the event records the receiver's 200.
func TestTemporaryWebhookErrorInTheLocalAttempt(t *testing.T) {
	var mu sync.Mutex
	var answers []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		status := http.StatusOK
		if len(answers) == 0 {
			status = http.StatusServiceUnavailable
		}
		answers = append(answers, status)
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	f := newFixtureActs(t, nil, nil, func(a *activities.Activities) {
		a.Webhook = &webhook.Client{URL: srv.URL, Secret: webhookSecret}
		// The activity's one attempt: the local attempt is not one of them.
		a.DeliveryAttempts = 1
	})
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	result := f.run(in)
	if result.Status != countersign.StatusAccepted || result.Outcome != countersign.OutcomeAutoAccept {
		t.Fatalf("result = %+v, want accepted by auto_accept", result)
	}
	mu.Lock()
	got := slices.Clone(answers)
	mu.Unlock()
	if !slices.Equal(got, []int{http.StatusServiceUnavailable, http.StatusOK}) {
		t.Fatalf("receiver answered %v, want 503 to the local attempt, then 200 to the activity", got)
	}
	doc := f.stored(in.DocumentID)
	if doc.Final == nil || doc.Final.DeliveredAt == nil {
		t.Fatalf("final = %+v, want it delivered", doc.Final)
	}
	events, err := f.store.DocumentAudit(context.Background(), in.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	var delivered []countersign.AuditEvent
	for _, e := range events {
		if e.Type == countersign.EventDocumentDelivered {
			delivered = append(delivered, e)
		}
	}
	var data struct {
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	if len(delivered) != 1 || json.Unmarshal(delivered[0].Data, &data) != nil || data.Status != http.StatusOK || data.Error != "" {
		t.Fatalf("document.delivered events %+v, want one recording the activity's 200", delivered)
	}
}
