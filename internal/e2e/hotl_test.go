package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/webhook"
)

// hotlPolicy audits every auto-accepted document and allows an escaped-error
// rate of 20%: with one corrected audit out of one, the Wilson bound is
// about 1, so the first corrected audit must tighten the policy, and since
// no threshold meets the budget on the audited documents, to hitl.
const hotlPolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.9
  review_due: 24h
  audit_sample_rate: 1
  supervision:
    error_budget: 0.2
    level: 0.95
    bound: wilson
    min_audits: 1
    on_breach: raise_threshold
`

// hotlTaskTypes writes the pii-extraction example with hotlPolicy into a
// fresh folder and returns it.
func hotlTaskTypes(t *testing.T) string {
	t.Helper()
	return piiWithPolicy(t, hotlPolicy)
}

// piiWithPolicy writes the pii-extraction example with policy in place of
// its own into a fresh folder and returns it.
func piiWithPolicy(t testing.TB, policy string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "pii-extraction", "tasktype.yaml"))
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
	return dir
}

// webhookReceiver is a submitting system's endpoint: it checks every call's
// signature as a real receiver must and keeps the events it accepted.
type webhookReceiver struct {
	secret string

	mu       sync.Mutex
	events   []receivedEvent
	refusals []string
	// dispositions holds the disposition each document event carried, by
	// event type and document ID.
	dispositions map[receivedEvent]string
}

// receivedEvent is an accepted webhook call: its type and, for document
// events, the document; for batch events, the batch and its documents.
type receivedEvent struct {
	Type       string
	DocumentID string
	Batch      string
	Documents  int
}

func (wr *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !webhook.Claims(r) {
		http.NotFound(w, r) // not ours: another process on this machine may reach this port
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	refuse := func(why string) {
		wr.mu.Lock()
		wr.refusals = append(wr.refusals, why)
		wr.mu.Unlock()
		http.Error(w, why, http.StatusUnauthorized)
	}
	ts, sig := r.Header.Get("X-Countersign-Timestamp"), r.Header.Get("X-Countersign-Signature")
	if err := webhook.Verify(wr.secret, ts, sig, body, time.Now(), 5*time.Minute); err != nil {
		refuse(fmt.Sprintf("%s call: %v", r.Header.Get("X-Countersign-Event"), err))
		return
	}
	var e struct {
		Type string `json:"type"`
		Data struct {
			DocumentID  string `json:"document_id"`
			Batch       string `json:"batch"`
			Documents   int    `json:"documents"`
			Disposition string `json:"disposition"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		refuse(fmt.Sprintf("body is not a JSON event: %v: %s", err, body))
		return
	}
	if got := r.Header.Get("X-Countersign-Event"); got != e.Type {
		refuse(fmt.Sprintf("X-Countersign-Event %q, but the body says %q", got, e.Type))
		return
	}
	wr.mu.Lock()
	got := receivedEvent{Type: e.Type, DocumentID: e.Data.DocumentID, Batch: e.Data.Batch, Documents: e.Data.Documents}
	wr.events = append(wr.events, got)
	if wr.dispositions == nil {
		wr.dispositions = map[receivedEvent]string{}
	}
	wr.dispositions[got] = e.Data.Disposition
	wr.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// waitFor waits up to 30 s for event (of documentID, when not empty).
func (wr *webhookReceiver) waitFor(t *testing.T, event, documentID string) {
	t.Helper()
	waitUntil(t, "webhook event "+event+" "+documentID, func() (bool, string) {
		wr.mu.Lock()
		defer wr.mu.Unlock()
		got := slices.Contains(wr.events, receivedEvent{Type: event, DocumentID: documentID})
		return got, fmt.Sprintf("received %+v, refused %q", wr.events, wr.refusals)
	})
}

// waitUntil polls done every 50 ms for up to 30 s; on timeout the test
// fails with what, and the state done last described.
func waitUntil(t *testing.T, what string, done func() (bool, string)) {
	t.Helper()
	var state string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var ok bool
		if ok, state = done(); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, still waiting for %s; last seen: %s", what, state)
		}
	}
}

// TestHOTLSupervisionOverHTTP is human-on-the-loop supervision through the
// REST API: an auto-accepted document drawn for audit, an audit that
// corrects it, the supervisor tightening the policy, the next document going
// to a person, an approver's reset, and the export of what people decided.
func TestHOTLSupervisionOverHTTP(t *testing.T) {
	ctx := context.Background()
	const secret = "hotl-test-secret"
	receiver := &webhookReceiver{secret: secret}
	hook := httptest.NewServer(receiver)
	t.Cleanup(hook.Close)
	a := startAppWith(t, config.Config{TaskTypesDir: hotlTaskTypes(t), WebhookURL: hook.URL, WebhookSecret: secret},
		app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	const taskType = "pii-extraction"

	// An auto-accepted document is drawn for audit, and counts at once.
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: taskType, Content: sample(t, taskType, "email-maria-gonzalez.txt")})
	if err != nil {
		t.Fatal(err)
	}
	docID := sub.ID
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	doc, err := u.submitter.WaitFinal(waitCtx, docID, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("waiting for the audited document to be final: %v", err)
	}
	if doc.Status != countersign.StatusAccepted || doc.Route == nil || doc.Route.Outcome != countersign.OutcomeAutoAcceptWithAudit || doc.Final == nil {
		t.Fatalf("document at audit_sample_rate 1: status %s, route %+v, final %+v; want accepted, auto_accept_with_audit, with a final", doc.Status, doc.Route, doc.Final)
	}
	drafted, _ := doc.Final.Fields["email"].(string)
	if drafted != "maria.gonzalez@example.com" {
		t.Fatalf("final email before the audit = %v, want the drafted maria.gonzalez@example.com", doc.Final.Fields["email"])
	}
	var audit countersign.Review
	waitUntil(t, "the audit review of "+docID+" in GET /v1/reviews?kind=audit", func() (bool, string) {
		page, err := u.reviewer.Reviews(ctx, apiclient.ReviewQuery{Kind: string(countersign.ReviewAudit), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reviews {
			if r.DocumentID == docID {
				audit = r
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d audit reviews, none of %s", len(page.Reviews), docID)
	})
	if audit.Kind != countersign.ReviewAudit || audit.Status != countersign.ReviewPending {
		t.Fatalf("audit review = %+v, want kind audit, pending", audit)
	}

	// Stats are for supervisors; before any audit the policy is as written.
	if _, err := u.submitter.Stats(ctx, taskType); status(err) != http.StatusForbidden {
		t.Fatalf("submitter GET /v1/stats: %v, want 403", err)
	}
	stats, err := u.auditor.Stats(ctx, taskType)
	if err != nil {
		t.Fatalf("auditor GET /v1/stats: %v", err)
	}
	if stats.Supervision.State != api.StateNormal || stats.Supervision.Override != nil || stats.Supervision.Budget != 0.2 {
		t.Fatalf("stats before any audit = %+v, want state normal, no override, budget 0.2", stats.Supervision)
	}

	// The audit corrects the email: the document stays accepted, marked.
	const corrected = "maria.gonzalez@home.example"
	decided, err := u.reviewer.Decide(ctx, audit.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"email": corrected}})
	if err != nil {
		t.Fatalf("the audit correction: %v", err)
	}
	if decided.Document.Status != countersign.StatusAccepted || decided.Decision.Actor != "rita" {
		t.Fatalf("audit decision = %+v, want the document still accepted, decided by rita", decided)
	}
	doc, err = u.submitter.Document(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != countersign.StatusAccepted || doc.Final == nil || !doc.Final.CorrectedAfterAudit || doc.Final.AuditedBy != "rita" || doc.Final.Fields["email"] != corrected {
		t.Fatalf("document after the audit: status %s, final %+v; want accepted, corrected_after_audit, audited_by rita, email %s", doc.Status, doc.Final, corrected)
	}
	receiver.waitFor(t, "document.finalized", docID)
	receiver.waitFor(t, "document.corrected_after_audit", docID)
	trail, err := u.auditor.Audit(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(trail, func(e countersign.AuditEvent) bool { return e.Type == countersign.EventCorrectedAfterAudit }) {
		t.Fatalf("audit trail of %s has no %s: %v", docID, countersign.EventCorrectedAfterAudit, eventTypes(trail))
	}

	// The supervisor tightens the policy: every document goes to a person.
	waitUntil(t, "the supervisor to tighten the policy (GET /v1/stats state tightened)", func() (bool, string) {
		if stats, err = u.auditor.Stats(ctx, taskType); err != nil {
			t.Fatal(err)
		}
		return stats.Supervision.State == api.StateTightened, fmt.Sprintf("%+v", stats.Supervision)
	})
	o := stats.Supervision.Override
	if o == nil || o.Mode != countersign.ModeHITL || !strings.Contains(o.Reason, "budget") || o.Audits != 1 || o.Escaped != 1 {
		t.Fatalf("override = %+v, want mode hitl after 1 escaped audit of 1, with a reason naming the budget", o)
	}
	if stats.Supervision.Policy.Mode != countersign.ModeHITL {
		t.Fatalf("policy in force while tightened = %+v, want mode hitl", stats.Supervision.Policy)
	}
	receiver.waitFor(t, "policy.tightened", "")

	// The next document goes to a person instead, though the rules accept
	// it at the policy as written (TestPipelineSQLite).
	claim, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: taskType, Content: sample(t, taskType, "claim-form-daniel-obrien.txt")})
	if err != nil {
		t.Fatal(err)
	}
	gate := waitForReview(t, u.reviewer, claim.ID)
	if gate.Kind != countersign.ReviewGate {
		t.Fatalf("review of the document submitted while tightened = %+v, want kind review", gate)
	}
	held, err := u.reviewer.Document(ctx, gate.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	if held.Route == nil || held.Route.Outcome != countersign.OutcomeHumanReview || !strings.Contains(held.Route.PolicyVersion, "+") || held.Route.Mode != countersign.ModeHITL {
		t.Fatalf("route under the override = %+v, want human_review in mode hitl, with a policy version naming the override (+)", held.Route)
	}
	if _, err := u.approver.Decide(ctx, gate.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatalf("approving the held document: %v", err)
	}
	heldCtx, cancelHeld := context.WithTimeout(ctx, 30*time.Second)
	defer cancelHeld()
	if held, err = u.reviewer.WaitFinal(heldCtx, gate.DocumentID, 50*time.Millisecond); err != nil || held.Status != countersign.StatusAccepted {
		t.Fatalf("held document after approval: %+v, %v; want accepted", held, err)
	}

	// Only an approver lifts the tightening, with a reason, once.
	if _, err := u.reviewer.ResetPolicy(ctx, taskType, "fixed the rules"); status(err) != http.StatusForbidden {
		t.Fatalf("reviewer POST /v1/policy/reset: %v, want 403", err)
	}
	if _, err := u.approver.ResetPolicy(ctx, taskType, ""); status(err) != http.StatusUnprocessableEntity {
		t.Fatalf("approver POST /v1/policy/reset without a reason: %v, want 422", err)
	}
	const reason = "email rule now prefers the address the sender asks to be reached at"
	reset, err := u.approver.ResetPolicy(ctx, taskType, reason)
	if err != nil {
		t.Fatalf("approver POST /v1/policy/reset with a reason: %v", err)
	}
	if reset.ID != o.ID || reset.ResetBy != "anna" || reset.ResetReason != reason || reset.ResetAt == nil {
		t.Fatalf("reset override = %+v, want %s reset by anna for %q", reset, o.ID, reason)
	}
	if stats, err = u.auditor.Stats(ctx, taskType); err != nil {
		t.Fatal(err)
	}
	if stats.Supervision.State != api.StateNormal || stats.Supervision.Override != nil || stats.Supervision.Policy.Mode != countersign.ModeHOTL {
		t.Fatalf("stats after the reset = %+v, want state normal, no override, mode hotl", stats.Supervision)
	}
	if _, err := u.approver.ResetPolicy(ctx, taskType, reason); status(err) != http.StatusConflict {
		t.Fatalf("second POST /v1/policy/reset: %v, want 409", err)
	}
	receiver.waitFor(t, "policy.reset", "")

	// The export: what people signed off, with or without the contested.
	sft := exportLines(t, u.auditor, url.Values{"format": {"sft"}, "task_type": {taskType}, "human_only": {"true"}, "exclude_flagged": {"false"}})
	ids := sftDocuments(t, sft)
	if !slices.Contains(ids, docID) || !slices.Contains(ids, gate.DocumentID) {
		t.Fatalf("sft human_only export has documents %v, want the audited %s and the approved %s", ids, docID, gate.DocumentID)
	}
	ids = sftDocuments(t, exportLines(t, u.auditor, url.Values{"format": {"sft"}, "task_type": {taskType}, "human_only": {"true"}, "exclude_flagged": {"true"}}))
	if slices.Contains(ids, docID) || !slices.Contains(ids, gate.DocumentID) {
		t.Fatalf("sft export excluding flagged documents has %v, want %s without the corrected-after-audit %s", ids, gate.DocumentID, docID)
	}
	rows := exportLines(t, u.auditor, url.Values{"format": {"csv"}, "task_type": {taskType}})
	if len(rows) < 2 || !strings.HasPrefix(rows[0], "document_id,") {
		t.Fatalf("csv export = %q, want a header starting with document_id and rows", rows)
	}
	records, err := csv.NewReader(strings.NewReader(strings.Join(rows, "\n"))).ReadAll()
	if err != nil {
		t.Fatalf("csv export does not parse: %v", err)
	}
	if !slices.ContainsFunc(records[1:], func(r []string) bool { return r[0] == docID && r[3] == "email" && r[6] == `"`+corrected+`"` }) {
		t.Fatalf("csv export has no row with the audit's correction of %s's email to %s:\n%s", docID, corrected, strings.Join(rows, "\n"))
	}
	if _, err := u.auditor.Export(ctx, url.Values{"format": {"parquet"}}, io.Discard, nil); status(err) != http.StatusBadRequest {
		t.Fatalf("export in an unknown format: %v, want 400", err)
	}

	report, err := u.auditor.VerifyAudit(ctx)
	if err != nil || !report.OK {
		t.Fatalf("GET /v1/audit/verify = %+v, %v; want ok", report, err)
	}
}

// exportLines runs an export through the client and returns its lines.
func exportLines(t *testing.T, c *apiclient.Client, q url.Values) []string {
	t.Helper()
	var buf bytes.Buffer
	n, err := c.Export(context.Background(), q, &buf, nil)
	if err != nil {
		t.Fatalf("export %s: %v", q.Encode(), err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if buf.Len() == 0 {
		lines = nil
	}
	if n != len(lines) {
		t.Fatalf("export %s: the client counted %d lines, the body has %d", q.Encode(), n, len(lines))
	}
	return lines
}

// sftDocuments checks that every line is an SFT record (system, user and
// assistant messages, and the document in the metadata) and returns the
// documents, in order.
func sftDocuments(t *testing.T, lines []string) []string {
	t.Helper()
	var ids []string
	for i, line := range lines {
		var rec struct {
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
			Metadata struct {
				DocumentID string `json:"document_id"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("sft line %d is not JSON: %v: %s", i+1, err, line)
		}
		var roles []string
		for _, m := range rec.Messages {
			if m.Content == "" {
				t.Fatalf("sft line %d has an empty %s message: %s", i+1, m.Role, line)
			}
			roles = append(roles, m.Role)
		}
		if strings.Join(roles, ",") != "system,user,assistant" || rec.Metadata.DocumentID == "" {
			t.Fatalf("sft line %d has messages %v and document %q, want system, user, assistant and a document_id: %s", i+1, roles, rec.Metadata.DocumentID, line)
		}
		ids = append(ids, rec.Metadata.DocumentID)
	}
	return ids
}

func eventTypes(events []countersign.AuditEvent) []string {
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = e.Type
	}
	return types
}
