package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/webhook"
)

// hookReceiver is an incident target: it keeps each request it verifies
// and refuses any whose signature does not.
type hookReceiver struct {
	mu       sync.Mutex
	events   []webhook.Event
	delivery []string
	bad      []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !webhook.Claims(r) {
		// not ours: another process on this machine may reach this port
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := webhook.Verify("s3cret", r.Header.Get("X-Countersign-Timestamp"), r.Header.Get("X-Countersign-Signature"), body, time.Now(), 5*time.Minute); err != nil {
		h.bad = append(h.bad, err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e webhook.Event
	if err := json.Unmarshal(body, &e); err != nil {
		h.bad = append(h.bad, err.Error())
	}
	h.events = append(h.events, e)
	h.delivery = append(h.delivery, r.Header.Get("X-Countersign-Delivery"))
}

// TestEscalate: a reviewer escalates an alert; the escalation is recorded
// (document.escalated, with the draft's label and severity) and sent,
// signed, to the incident target as incident.escalated; a retry with the
// same idempotency key records it once, a second escalation is another
// event; an empty reason, an unknown document and a reviewer outside the
// task type's groups are refused.
func TestEscalate(t *testing.T) {
	recv := &hookReceiver{}
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)
	s := newServerWith(t, 0, func(d *dispatch.Dispatcher) {
		d.Webhook = &webhook.Client{URL: hook.URL, Secret: "s3cret"}
	})
	ctx := context.Background()
	now := time.Now().UTC()
	doc := &countersign.Document{
		ID: "a1", TaskType: "soc-alert-triage", TaskTypeVersion: "v", Content: "{}", ContentSHA256: "a1",
		ExternalID: "alert-42", Metadata: map[string]string{"source": "edr"},
		Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: now,
		Draft: &countersign.Draft{Fields: countersign.Fields{"label": "true_positive", "severity": 4}, Extractor: "rules"},
	}
	if _, _, err := s.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	escalate := func(tok, id, key, body string) answer {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/documents/"+id+"/escalate", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		a := answer{status: resp.StatusCode, header: resp.Header}
		if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
			t.Fatal(err)
		}
		return a
	}
	rev := s.tokens[countersign.RoleReviewer]
	first := escalate(rev, "a1", "k1", `{"reason":"lateral movement from this host","severity":5}`)
	if first.status != http.StatusOK {
		t.Fatalf("escalate: %d %v", first.status, first.body)
	}
	inc := first.body["incident"].(map[string]any)
	if inc["configured"] != true || inc["delivered"] != true {
		t.Fatalf("incident: %v", inc)
	}
	if again := escalate(rev, "a1", "k1", `{"reason":"lateral movement from this host","severity":5}`); again.body["event_id"] != first.body["event_id"] {
		t.Fatalf("a retry is another event: %v then %v", first.body["event_id"], again.body["event_id"])
	}
	second := escalate(s.tokens[countersign.RoleApprover], "a1", "", `{"reason":"confirmed by the on-call"}`)
	if second.status != http.StatusOK || second.body["event_id"] == first.body["event_id"] {
		t.Fatalf("second escalation: %d %v", second.status, second.body)
	}

	events, err := s.store.DocumentAudit(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	var escalated []countersign.AuditEvent
	for _, e := range events {
		if e.Type == countersign.EventDocumentEscalated {
			escalated = append(escalated, e)
		}
	}
	if len(escalated) != 2 {
		t.Fatalf("%d document.escalated events, want 2: %v", len(escalated), escalated)
	}
	var data map[string]any
	if err := json.Unmarshal(escalated[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if escalated[0].Actor != "user-reviewer" || escalated[0].Channel != countersign.ChannelAPI ||
		data["reason"] != "lateral movement from this host" || data["severity"] != float64(5) ||
		data["document_label"] != "true_positive" || data["document_severity"] != float64(4) {
		t.Errorf("first escalation recorded as %s by %s: %v", escalated[0].Channel, escalated[0].Actor, data)
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.bad) > 0 {
		t.Fatalf("receiver refused: %v", recv.bad)
	}
	if len(recv.events) != 3 { // the retry is sent again, under the same delivery ID
		t.Fatalf("%d webhooks, want 3", len(recv.events))
	}
	e := recv.events[0]
	if e.Type != dispatch.WebhookIncidentEscalated || e.ID != escalated[0].ID || recv.delivery[1] != escalated[0].ID {
		t.Errorf("webhook %s %s (deliveries %v), want incident.escalated %s", e.Type, e.ID, recv.delivery, escalated[0].ID)
	}
	got := e.Data.(map[string]any)
	esc := got["escalation"].(map[string]any)
	if got["document_id"] != "a1" || got["external_id"] != "alert-42" || got["task_type"] != "soc-alert-triage" ||
		got["escalated_by"] != "user-reviewer" || got["metadata"].(map[string]any)["source"] != "edr" ||
		esc["reason"] != "lateral movement from this host" || esc["document_label"] != "true_positive" {
		t.Errorf("webhook data: %v", got)
	}

	// Refusals.
	if a := escalate(rev, "a1", "", `{"reason":"  "}`); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.message(), "reason") {
		t.Errorf("empty reason: %d %v", a.status, a.body)
	}
	if a := escalate(rev, "nope", "", `{"reason":"x"}`); a.status != http.StatusNotFound {
		t.Errorf("unknown document: %d %v", a.status, a.body)
	}
	soc, err := s.types.Get("soc-alert-triage")
	if err != nil {
		t.Fatal(err)
	}
	soc.ReviewGroups = []string{"soc"}
	outsider, _, err := auth.Issue(ctx, s.store, "test", countersign.ChannelCLI, "pete", countersign.RoleReviewer, 0, now, "claims")
	if err != nil {
		t.Fatal(err)
	}
	if a := escalate(outsider, "a1", "", `{"reason":"x"}`); a.status != http.StatusForbidden {
		t.Errorf("reviewer outside the groups: %d %v", a.status, a.body)
	}
}

// TestEscalateWithoutTarget: with no webhook configured the escalation is
// still recorded, and the answer says nothing was sent.
func TestEscalateWithoutTarget(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	doc := &countersign.Document{ID: "a2", TaskType: "soc-alert-triage", TaskTypeVersion: "v", Content: "{}", ContentSHA256: "a2", Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: time.Now().UTC()}
	if _, _, err := s.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	a := s.do(http.MethodPost, "/v1/documents/a2/escalate", s.tokens[countersign.RoleAdmin], `{"reason":"exfiltration"}`)
	inc, _ := a.body["incident"].(map[string]any)
	if a.status != http.StatusOK || inc["configured"] != false || !strings.Contains(inc["message"].(string), "no incident target is configured") {
		t.Fatalf("escalate: %d %v", a.status, a.body)
	}
	events, err := s.store.DocumentAudit(ctx, "a2")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Type != countersign.EventDocumentEscalated {
		t.Fatalf("trail: %v", events)
	}
}
