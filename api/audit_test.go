package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// TestVerifyAgainstCheckpoints: GET /v1/audit/verify holds the chain to the
// checkpoint=SEQ:HASH parameters and says which points it held it to.
func TestVerifyAgainstCheckpoints(t *testing.T) {
	s := newServer(t, 0) // its tokens' creations are the first events
	var head countersign.AuditEvent
	for i := 1; i <= 3; i++ {
		e, err := s.store.AppendAudit(context.Background(), countersign.AuditEvent{
			ID: fmt.Sprintf("ev-%d", i), Type: countersign.EventDecisionRecorded, Actor: "rita",
			Channel: countersign.ChannelAPI, At: time.Now(), Data: json.RawMessage(`{}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		head = e
	}
	auditor := s.tokens[countersign.RoleAuditor]
	verify := func(checkpoints ...string) answer {
		q := url.Values{"checkpoint": checkpoints}
		return s.do("GET", "/v1/audit/verify?"+q.Encode(), auditor, "")
	}

	plain := s.do("GET", "/v1/audit/verify", auditor, "")
	if _, ok := plain.body["checkpoints"]; plain.status != http.StatusOK || plain.body["ok"] != true || ok {
		t.Fatalf("without checkpoints: %d %v", plain.status, plain.body)
	}

	at := func(seq int64, hash string) string { return fmt.Sprintf("%d:%s", seq, hash) }
	n := float64(head.Seq)
	held := verify(at(head.Seq, head.Hash), at(head.Seq, head.Hash))
	points, _ := held.body["checkpoints"].([]any)
	if held.status != http.StatusOK || held.body["ok"] != true || held.body["events"] != n || len(points) != 2 {
		t.Fatalf("held to the head: %d %v", held.status, held.body)
	}
	if p, _ := points[0].(map[string]any); p["seq"] != n || p["hash"] != head.Hash {
		t.Fatalf("checkpoints echoed as %v", points)
	}

	for _, tc := range []struct {
		name, checkpoint string
		seq              float64
		reason           string
	}{
		{"another hash", at(head.Seq, strings.Repeat("ab", 32)), n, "rewritten"},
		{"beyond the end", at(head.Seq+2, head.Hash), n + 1, fmt.Sprintf("events %d to %d are missing", head.Seq+1, head.Seq+2)},
	} {
		got := verify(tc.checkpoint)
		broken, _ := got.body["broken"].(map[string]any)
		if got.status != http.StatusOK || got.body["ok"] != false || broken["seq"] != tc.seq || !strings.Contains(fmt.Sprint(broken["reason"]), tc.reason) {
			t.Errorf("%s: %d %v, want broken at %v with %q", tc.name, got.status, got.body, tc.seq, tc.reason)
		}
	}

	for _, bad := range []string{"3", "x:" + head.Hash, "0:" + head.Hash, "3:abc"} {
		if got := verify(bad); got.status != http.StatusBadRequest || got.code() != "bad_request" {
			t.Errorf("checkpoint=%s: %d %v, want 400 bad_request", bad, got.status, got.body)
		}
	}
}

// TestVerifyNamesARowTheChainDoesNotBind: GET /v1/audit/verify also holds
// the stored rows to the chain, and answers the first row that differs in
// "mismatch", with ok false.
func TestVerifyNamesARowTheChainDoesNotBind(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	doc := &countersign.Document{ID: "d1", TaskType: "contract-review", TaskTypeVersion: "v1", Content: "text", Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: time.Now()}
	if _, _, err := s.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	auditor := s.tokens[countersign.RoleAuditor]
	ok := s.do("GET", "/v1/audit/verify", auditor, "")
	if rows, _ := ok.body["rows"].(map[string]any); ok.status != http.StatusOK || ok.body["ok"] != true || rows["documents"] != 1.0 || ok.body["mismatch"] != nil {
		t.Fatalf("an untouched store: %d %v", ok.status, ok.body)
	}

	// Nothing recorded this document's acceptance: no workflow ever ran.
	if _, err := s.store.DB().ExecContext(ctx, `UPDATE documents SET status = 'accepted' WHERE id = 'd1'`); err != nil {
		t.Fatal(err)
	}
	got := s.do("GET", "/v1/audit/verify", auditor, "")
	m, _ := got.body["mismatch"].(map[string]any)
	if got.status != http.StatusOK || got.body["ok"] != false || got.body["broken"] != nil || m == nil {
		t.Fatalf("after editing the status: %d %v, want ok false with a mismatch", got.status, got.body)
	}
	if m["table"] != "documents" || m["id"] != "d1" || m["column"] != "status" || m["chain"] != "processing" || m["row"] != "accepted" ||
		!strings.Contains(fmt.Sprint(m["reason"]), "d1") {
		t.Fatalf("mismatch = %v", m)
	}
}
