package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/internal/webhook"
	"github.com/countersign/countersign/worker"
	"github.com/countersign/countersign/workflows"
)

// hookReceiver is a webhook receiver that answers document events after
// delay when their document's external ID starts with "slow", at once
// otherwise, and counts the calls it answered with 200 by event ID.
type hookReceiver struct {
	delay time.Duration

	mu       sync.Mutex
	calls    map[string]int       // every call, by event ID
	answered map[string]int       // calls answered 200, by event ID
	at       map[string]time.Time // when each document's first 200 went out, by external ID
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !webhook.Claims(r) {
		http.NotFound(w, r) // not ours: another process on this machine may reach this port
		return
	}
	body, err := io.ReadAll(r.Body)
	var e struct {
		ID   string `json:"id"`
		Data struct {
			ExternalID string `json:"external_id"`
		} `json:"data"`
	}
	if err == nil {
		err = json.Unmarshal(body, &e)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.calls[e.ID]++
	h.mu.Unlock()
	if strings.HasPrefix(e.Data.ExternalID, "slow") {
		select {
		case <-time.After(h.delay):
		case <-r.Context().Done():
			return
		}
	}
	h.mu.Lock()
	h.answered[e.ID]++
	if _, ok := h.at[e.Data.ExternalID]; !ok {
		h.at[e.Data.ExternalID] = time.Now()
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func newHookReceiver(delay time.Duration) *hookReceiver {
	return &hookReceiver{delay: delay, calls: map[string]int{}, answered: map[string]int{}, at: map[string]time.Time{}}
}

// pipelineWorker starts a worker of its own on a, with the real
// activities and the rules extractor, delivering to hook (none when it is
// empty), with opts.
func pipelineWorker(t *testing.T, a *app.App, hook string, opts sdkworker.Options) (sdkworker.Worker, *activities.Activities) {
	t.Helper()
	acts := &activities.Activities{
		Store:       a.Store,
		TaskTypes:   tasktype.NewResolver(a.TaskTypes, a.Store),
		Extractors:  map[string]countersign.Extractor{countersign.ExtractorRules: llm.NewRules()},
		Supervisors: worker.Supervisors{Client: a.Temporal},
		Now:         time.Now,
	}
	if hook != "" {
		acts.Webhook = &webhook.Client{URL: hook, Secret: "deliver-test"}
	}
	w := sdkworker.New(a.Temporal, workflows.TaskQueue, opts)
	(&workflows.Workflows{}).Register(w)
	w.RegisterActivity(acts)
	return w, acts
}

// submitPII submits the pii-extraction sample as the API does (the
// dispatcher), under externalID and, when it is not empty, with a line
// naming it so that each such document is another, and returns its ID.
func submitPII(ctx context.Context, t *testing.T, a *app.App, externalID string) string {
	t.Helper()
	content := sample(t, "pii-extraction", "email-maria-gonzalez.txt")
	if externalID != "" {
		content = fmt.Sprintf("%s\nReference: %s\n", content, externalID)
	}
	intake := &dispatch.Dispatcher{Temporal: a.Temporal, Store: a.Store, TaskTypes: a.TaskTypes, Resolver: tasktype.NewResolver(a.TaskTypes, a.Store)}
	doc, _, err := intake.Submit(ctx, dispatch.Submission{
		TaskType: "pii-extraction", ExternalID: externalID, Content: content,
		SubmittedBy: "alice", Channel: countersign.ChannelAPI,
	})
	if err != nil {
		t.Fatal(err)
	}
	return doc.ID
}

// awaitAutoAccepted waits for the document's review to end, and fails the
// test unless it ended accepted by auto_accept.
func awaitAutoAccepted(ctx context.Context, t *testing.T, a *app.App, docID string) {
	t.Helper()
	var result workflows.ReviewResult
	if err := a.Temporal.GetWorkflow(ctx, workflows.ReviewWorkflowID(docID), "").Get(ctx, &result); err != nil {
		t.Fatalf("review of %s: %v", docID, err)
	}
	if result.Status != countersign.StatusAccepted || result.Outcome != countersign.OutcomeAutoAccept {
		t.Fatalf("document %s = %s (%s), want accepted (auto_accept)", docID, result.Status, result.Outcome)
	}
}

// schedulesActivity reports whether the review of the document scheduled
// the activity named name (a local activity is not scheduled).
func schedulesActivity(t *testing.T, a *app.App, docID, name string) bool {
	t.Helper()
	for _, e := range fetchHistory(t, a.Temporal, workflows.ReviewWorkflowID(docID)).Events {
		if e.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == name {
			return true
		}
	}
	return false
}

// checkDelivered checks that the document is accepted and delivered once:
// one document.delivered, recording the document's delivered_at, which is
// want when want is set.
func checkDelivered(ctx context.Context, t *testing.T, a *app.App, docID string, want time.Time) countersign.AuditEvent {
	t.Helper()
	stored, err := a.Store.GetDocument(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != countersign.StatusAccepted || stored.Final == nil || stored.Final.DeliveredAt == nil ||
		(!want.IsZero() && !stored.Final.DeliveredAt.Equal(want)) {
		t.Fatalf("stored document %s %s, final %+v; want accepted, delivered (at %v)", docID, stored.Status, stored.Final, want)
	}
	events, err := a.Store.DocumentAudit(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	var delivered []countersign.AuditEvent
	for _, e := range events {
		if e.Type == countersign.EventDocumentDelivered {
			delivered = append(delivered, e)
		}
	}
	if len(delivered) != 1 {
		t.Fatalf("document %s has %d document.delivered events, want one", docID, len(delivered))
	}
	var data struct {
		DeliveredAt time.Time `json:"delivered_at"`
		Status      int       `json:"status"`
		Error       string    `json:"error"`
	}
	if err := json.Unmarshal(delivered[0].Data, &data); err != nil || !data.DeliveredAt.Equal(*stored.Final.DeliveredAt) || data.Status != http.StatusOK || data.Error != "" {
		t.Fatalf("document.delivered of %s records %+v (%v); want delivered_at %v as the document, status 200, no error", docID, data, err, *stored.Final.DeliveredAt)
	}
	return delivered[0]
}

// TestDeliveryAfterALostWorkflowTask: Deliver runs first as a local
// activity, in the workflow task that reaches it. When that task is lost
// after the delivery was stored, posted and recorded, Temporal runs the
// task again and Deliver with it, given the workflow's clock read anew.
// The second run finds the step recorded and posts nothing: one
// document.delivered, the document delivered when its event says, the
// receiver called once and the chain intact.
func TestDeliveryAfterALostWorkflowTask(t *testing.T) {
	hooks := newHookReceiver(0)
	hook := httptest.NewServer(hooks)
	t.Cleanup(hook.Close)
	a := startAppWith(t, config.Config{TaskTypesDir: piiWithPolicy(t, benchPolicy)}, app.Roles{Embedded: true})
	lose := &loseTaskAfter{activities: []string{"Deliver"}}
	w, acts := pipelineWorker(t, a, hook.URL, sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{lose}})
	var mu sync.Mutex
	var ats []time.Time
	w.RegisterActivityWithOptions(func(ctx context.Context, in activities.DeliverInput) error {
		mu.Lock()
		ats = append(ats, in.At)
		mu.Unlock()
		return acts.Deliver(ctx, in)
	}, activity.RegisterOptions{Name: "Deliver", DisableAlreadyRegisteredCheck: true})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	docID := submitPII(ctx, t, a, "")
	awaitAutoAccepted(ctx, t, a, docID)
	mu.Lock()
	runs := append([]time.Time(nil), ats...)
	mu.Unlock()
	if lose.lost() != 1 || len(runs) != 2 || !runs[1].After(runs[0]) {
		t.Fatalf("Deliver ran at %v, with %d workflow task(s) lost; want it run again with a later clock after one lost task", runs, lose.lost())
	}
	e := checkDelivered(ctx, t, a, docID, runs[0])
	hooks.mu.Lock()
	calls := hooks.calls[e.ID]
	hooks.mu.Unlock()
	if calls != 1 {
		t.Fatalf("the receiver was called %d times with %s, want once: the second run finds the delivery recorded", calls, e.ID)
	}
	if report, err := audit.Verify(ctx, a.Store); err != nil || !report.OK {
		t.Fatalf("audit chain after the lost task: %+v, %v", report, err)
	}
}

// TestSlowWebhookDeliversAsActivity: a receiver slower than the local
// attempt's bound does not hold the workflow task, nor the worker's slots
// for workflow tasks, for longer than that bound. On a worker with two
// such slots, two documents whose receiver answers after 20 s and four
// answered at once: the slow ones' local attempts time out after 3 s and
// each is delivered by the activity, once recorded; the fast ones are
// delivered before either slow one, which they would not be if the slow
// attempts held both slots until their receiver answered. The run of the
// first slow document is recorded with make histories (deliver_fallback).
func TestSlowWebhookDeliversAsActivity(t *testing.T) {
	// Far beyond the local attempt's 3 s, so that a held slot and a
	// loaded machine cannot be taken for one another.
	const delay = 20 * time.Second
	hooks := newHookReceiver(delay)
	hook := httptest.NewServer(hooks)
	t.Cleanup(hook.Close)
	a := startAppWith(t, config.Config{TaskTypesDir: piiWithPolicy(t, benchPolicy)}, app.Roles{Embedded: true})
	w, _ := pipelineWorker(t, a, hook.URL, sdkworker.Options{MaxConcurrentWorkflowTaskExecutionSize: 2})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	slow := []string{submitPII(ctx, t, a, "slow-1"), submitPII(ctx, t, a, "slow-2")}
	// The fast documents reach their delivery while the slow ones' local
	// attempts wait on the receiver.
	time.Sleep(500 * time.Millisecond)
	var fast []string
	for i := range 4 {
		fast = append(fast, submitPII(ctx, t, a, fmt.Sprintf("fast-%d", i+1)))
	}
	for _, id := range append(append([]string(nil), slow...), fast...) {
		awaitAutoAccepted(ctx, t, a, id)
		e := checkDelivered(ctx, t, a, id, time.Time{})
		hooks.mu.Lock()
		calls, answered := hooks.calls[e.ID], hooks.answered[e.ID]
		hooks.mu.Unlock()
		if answered < 1 {
			t.Fatalf("document %s: the receiver answered none of %d calls with %s", id, calls, e.ID)
		}
	}
	hooks.mu.Lock()
	at := map[string]time.Time{}
	for k, v := range hooks.at {
		at[k] = v
	}
	hooks.mu.Unlock()
	for i := range 4 {
		f := fmt.Sprintf("fast-%d", i+1)
		for _, s := range []string{"slow-1", "slow-2"} {
			if !at[f].Before(at[s]) {
				t.Fatalf("%s was delivered at %v, not before %s at %v: the slow receiver held the worker", f, at[f], s, at[s])
			}
		}
	}

	// Each slow document's delivery ran as the activity after its local
	// attempt timed out, in a workflow task held no longer than the bound.
	for _, id := range slow {
		history := fetchHistory(t, a.Temporal, workflows.ReviewWorkflowID(id))
		var started time.Time
		scheduled := false
		for _, e := range history.Events {
			switch e.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
				started = e.GetEventTime().AsTime()
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				if held := e.GetEventTime().AsTime().Sub(started); held > 15*time.Second {
					t.Fatalf("review of %s held a workflow task %v (event %d); want the local attempt's 3 s and some slack, not the receiver's %v", id, held, e.GetEventId(), delay)
				}
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
				t.Fatalf("review of %s: workflow task %s (event %d)", id, e.GetEventType(), e.GetEventId())
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "Deliver" {
					scheduled = true
				}
			}
		}
		if !scheduled {
			t.Fatalf("review of %s never scheduled the Deliver activity", id)
		}
	}
	for _, id := range fast {
		if schedulesActivity(t, a, id, "Deliver") {
			t.Fatalf("review of %s, whose receiver answers at once, scheduled the Deliver activity", id)
		}
	}
	if report, err := audit.Verify(ctx, a.Store); err != nil || !report.OK {
		t.Fatalf("audit chain: %+v, %v", report, err)
	}
	checkHistories(t, a, os.Getenv(recordEnv) != "", map[string]string{"deliver_fallback": slow[0]})
}

// TestDeliveryConflictFailsTheReview: when the local attempt at delivery
// fails for good (here another step's event is stored under the delivery's
// ID while the receiver answers, a conflict), the review fails with that
// conflict and the Deliver activity is never scheduled: it would have taken
// the event under that ID for a delivery made. The run is recorded with
// make histories (deliver_conflict).
func TestDeliveryConflictFailsTheReview(t *testing.T) {
	a := startAppWith(t, config.Config{TaskTypesDir: piiWithPolicy(t, benchPolicy)}, app.Roles{Embedded: true})
	var posts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e struct {
			ID   string `json:"id"`
			Data struct {
				DocumentID string `json:"document_id"`
			} `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		posts.Add(1)
		if _, err := a.Store.AppendAudit(r.Context(), countersign.AuditEvent{
			ID: e.ID, DocumentID: e.Data.DocumentID, Type: countersign.EventReviewOpened,
			Actor: countersign.SystemActor, Channel: countersign.ChannelWorkflow, At: time.Now(), Data: json.RawMessage(`{}`),
		}); err != nil {
			t.Errorf("append another step's event under %s: %v", e.ID, err)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	w, _ := pipelineWorker(t, a, hook.URL, sdkworker.Options{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	docID := submitPII(ctx, t, a, "conflict-1")
	err := a.Temporal.GetWorkflow(ctx, workflows.ReviewWorkflowID(docID), "").Get(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "already recorded as review.opened") {
		t.Fatalf("review = %v, want failed by the conflict under the delivery's event ID", err)
	}
	if schedulesActivity(t, a, docID, "Deliver") {
		t.Fatalf("review of %s scheduled the Deliver activity after the local attempt failed for good", docID)
	}
	events, err := a.Store.DocumentAudit(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == countersign.EventDocumentDelivered {
			t.Fatalf("document %s has a document.delivered (%s) after its delivery failed", docID, e.ID)
		}
	}
	if n := posts.Load(); n != 1 {
		t.Fatalf("receiver got %d posts, want the local attempt's one", n)
	}
	checkHistories(t, a, os.Getenv(recordEnv) != "", map[string]string{"deliver_conflict": docID})
}

// TestDecisionAnswersBeforeDelivery: a person's decision that settles a
// review is answered without waiting for the webhook receiver. The
// delivery that follows it is the Deliver activity's, scheduled in the
// workflow task that answers the decision, not a local attempt that would
// hold that task, and its answer, until the receiver answered: here a
// receiver that takes 2 seconds, which the local attempt (3 seconds) would
// have waited for.
func TestDecisionAnswersBeforeDelivery(t *testing.T) {
	hooks := newHookReceiver(2 * time.Second)
	hook := httptest.NewServer(hooks)
	t.Cleanup(hook.Close)
	a := startAppWith(t, config.Config{WebhookURL: hook.URL, WebhookSecret: "deliver-test"}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", ExternalID: "slow-decision", Content: sample(t, "contract-review", "nda-blueheron-cedarridge.txt")})
	if err != nil {
		t.Fatal(err)
	}
	reviewID := countersign.ReviewID(sub.ID, 1)
	for {
		if r, err := a.Store.GetReview(ctx, reviewID); err == nil && r.Status == countersign.ReviewPending {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("review %s never opened", reviewID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d, err := u.reviewer.Decide(ctx, reviewID, api.DecisionRequest{Action: countersign.ActionApprove})
	if err != nil {
		t.Fatal(err)
	}
	hooks.mu.Lock()
	answeredAt := hooks.at["slow-decision"]
	hooks.mu.Unlock()
	if !answeredAt.IsZero() {
		t.Errorf("the decision was answered after the receiver answered the delivery (%v): it waited for the receiver", answeredAt)
	}
	if d.Document.Status != countersign.StatusAccepted {
		t.Fatalf("approved: document %s, want accepted", d.Document.Status)
	}
	if !schedulesActivity(t, a, sub.ID, "Deliver") {
		t.Fatalf("review of %s delivered without the Deliver activity: a local attempt in the task that answered the decision", sub.ID)
	}
	checkDelivered(ctx, t, a, sub.ID, time.Time{})
}

// TestVetoAnswersBeforeDelivery: a supervisor's veto within the veto
// window is answered without waiting for the receiver, which takes 2
// seconds: the delivery of the vetoed document, held back by the window,
// is the Deliver activity's, scheduled in the task that answers the veto.
func TestVetoAnswersBeforeDelivery(t *testing.T) {
	var (
		mu         sync.Mutex
		answeredAt time.Time
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Second)
		mu.Lock()
		answeredAt = time.Now()
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	a := startAppWith(t, config.Config{TaskTypesDir: piiWithPolicy(t, vetoPolicy), WebhookURL: hook.URL, WebhookSecret: "deliver-test"},
		app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	doc := submitFinal(t, u, "pii-extraction", "email-maria-gonzalez.txt")
	veto, err := u.approver.Veto(ctx, doc.ID, api.VetoRequest{Action: countersign.ActionReject, Reason: "sent to the wrong mailbox"})
	if err != nil || veto.Document.Status != countersign.StatusRejected {
		t.Fatalf("veto = %+v, %v; want the document rejected", veto, err)
	}
	mu.Lock()
	at := answeredAt
	mu.Unlock()
	if !at.IsZero() {
		t.Errorf("the veto was answered after the receiver answered the delivery (%v): it waited for the receiver", at)
	}
	if !schedulesActivity(t, a, doc.ID, "Deliver") {
		t.Fatalf("review of %s delivered without the Deliver activity: a local attempt in the task that answered the veto", doc.ID)
	}
	waitForEvent(t, u.auditor, doc.ID, countersign.EventDocumentDelivered)
}

// TestAuditCorrectionAnswersBeforeDelivery: an auditor's correction is
// answered without waiting for the webhook receiver to take the
// correction. Here the receiver refuses document.corrected_after_audit
// (503) until the auditor has been answered: the handler used to deliver
// the correction itself, through the Deliver activity's retries, so the
// auditor waited as long as the receiver was down. The correction is
// delivered once the receiver takes it.
func TestAuditCorrectionAnswersBeforeDelivery(t *testing.T) {
	var (
		mu        sync.Mutex
		answered  bool // the auditor has been answered
		refused   int  // corrections refused before that
		delivered bool // the correction, taken
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e struct {
			Type string `json:"type"`
		}
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if e.Type == activities.WebhookCorrectedAfterAudit {
			if !answered {
				refused++
				http.Error(w, "down for now", http.StatusServiceUnavailable)
				return
			}
			delivered = true
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	a := startAppWith(t, config.Config{TaskTypesDir: hotlTaskTypes(t), WebhookURL: hook.URL, WebhookSecret: "deliver-test"},
		app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const taskType = "pii-extraction"
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: taskType, Content: sample(t, taskType, "email-maria-gonzalez.txt")})
	if err != nil {
		t.Fatal(err)
	}
	reviewID := countersign.ReviewID(sub.ID, 1)
	for {
		if r, err := a.Store.GetReview(ctx, reviewID); err == nil && r.Status == countersign.ReviewPending {
			if r.Kind != countersign.ReviewAudit {
				t.Fatalf("review %s is a %s review, want an audit", reviewID, r.Kind)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("audit %s never opened", reviewID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Far more than an answer takes, far less than the retries would.
	decideCtx, decideCancel := context.WithTimeout(ctx, 20*time.Second)
	defer decideCancel()
	decided, err := u.reviewer.Decide(decideCtx, reviewID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"email": "maria.gonzalez@home.example"}})
	if err != nil {
		t.Fatalf("the audit correction, while the receiver refuses it: %v", err)
	}
	if decided.Document.Status != countersign.StatusAccepted {
		t.Fatalf("audit correction: document %s, want accepted", decided.Document.Status)
	}
	mu.Lock()
	answered = true
	mu.Unlock()
	for {
		mu.Lock()
		done := delivered
		mu.Unlock()
		if done {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the correction was never delivered once the receiver took it (%d refused)", refused)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := a.Temporal.GetWorkflow(ctx, workflows.ReviewWorkflowID(sub.ID), "").Get(ctx, nil); err != nil {
		t.Fatalf("review workflow: %v", err)
	}
	doc, err := a.Store.GetDocument(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != countersign.StatusAccepted || doc.Final == nil || !doc.Final.CorrectedAfterAudit {
		t.Fatalf("document after the audit: %s, final %+v; want accepted, corrected after audit", doc.Status, doc.Final)
	}
}
