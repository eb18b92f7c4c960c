package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/reconcile"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/webhook"
)

// hooks is a webhook receiver that checks signatures and keeps what it
// accepted; while down is above zero it answers 503 and counts down.
type hooks struct {
	secret string

	mu     sync.Mutex
	down   int
	events []map[string]any
	ids    []string
}

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !webhook.Claims(r) {
		// not ours: another process on this machine may reach this port
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(h.secret, r.Header.Get("X-Countersign-Timestamp"), r.Header.Get("X-Countersign-Signature"), body, time.Now(), time.Hour); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down > 0 {
		h.down--
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.events = append(h.events, e)
	h.ids = append(h.ids, r.Header.Get("X-Countersign-Delivery"))
	w.WriteHeader(http.StatusNoContent)
}

func (h *hooks) received() ([]map[string]any, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.events...), append([]string(nil), h.ids...)
}

// TestBatchCompletedOnce: two workers' reconcilers run rounds at once over
// one store while a batch's documents become final. The batch.completed
// webhook is sent once, when the last is final, signed; a document added
// later makes the batch complete, and its webhook leave, once more; a
// receiver that is down is tried again in a later round.
func TestBatchCompletedOnce(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "batches.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	receiver := &hooks{secret: "batch-secret"}
	srv := httptest.NewServer(receiver)
	t.Cleanup(srv.Close)

	var (
		clockMu sync.Mutex
		clock   = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	)
	now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	advance := func(d time.Duration) { clockMu.Lock(); clock = clock.Add(d); clockMu.Unlock() }
	workers := make([]*reconcile.Reconciler, 2)
	for i := range workers {
		workers[i] = &reconcile.Reconciler{Store: s, Now: now, Logger: slog.New(slog.DiscardHandler),
			Webhook: &webhook.Client{URL: srv.URL, Secret: receiver.secret}}
	}
	round := func() {
		t.Helper()
		var wg sync.WaitGroup
		for _, r := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.CompleteBatches(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	submit := func(id string) {
		t.Helper()
		_, _, err := s.CreateDocument(ctx, &countersign.Document{ID: id, TaskType: "contract-review", TaskTypeVersion: "v1",
			Content: "text of " + id, ContentSHA256: countersign.ContentSHA256("text of " + id), Status: countersign.StatusProcessing,
			SubmittedBy: "sam", CreatedAt: now(), Batch: "room-1"})
		if err != nil {
			t.Fatal(err)
		}
	}
	finish := func(id string, status countersign.Status) {
		t.Helper()
		if err := s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &status}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(n int) []map[string]any {
		t.Helper()
		events, ids := receiver.received()
		if len(events) != n {
			t.Fatalf("%d batch webhooks received (%v), want %d", len(events), ids, n)
		}
		return events
	}

	submit("d1")
	submit("d2")
	submit("d3")
	finish("d1", countersign.StatusAccepted)
	finish("d2", countersign.StatusRejected)
	round()
	want(0) // d3 is still processing
	finish("d3", countersign.StatusFailed)
	for range 3 {
		round()
	}
	events := want(1)
	e := events[0]
	data, _ := e["data"].(map[string]any)
	if e["type"] != reconcile.WebhookBatchCompleted || e["id"] != "batch/room-1/3" || data["batch"] != "room-1" || data["documents"] != 3.0 {
		t.Fatalf("webhook = %v; want batch.completed of room-1 with 3 documents, ID batch/room-1/3", e)
	}
	if byStatus, _ := data["by_status"].(map[string]any); byStatus["accepted"] != 1.0 || byStatus["rejected"] != 1.0 || byStatus["failed"] != 1.0 {
		t.Fatalf("webhook by_status = %v; want 1 accepted, 1 rejected, 1 failed", data["by_status"])
	}

	// More documents: the batch is open again, and completes again with
	// four; the receiver is down for the first attempt.
	submit("d4")
	round()
	receiver.mu.Lock()
	receiver.down = 1
	receiver.mu.Unlock()
	finish("d4", countersign.StatusAccepted)
	round()
	want(1) // the attempt got a 503
	round()
	want(1) // the lease of the failed attempt holds
	advance(3 * time.Minute)
	round()
	round()
	events = want(2)
	if events[1]["id"] != "batch/room-1/4" {
		t.Fatalf("second webhook ID = %v, want batch/room-1/4", events[1]["id"])
	}
	p, err := s.BatchProgress(ctx, "room-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Completions) != 2 || p.Completions[1].Attempts != 2 || p.Completions[1].DeliveredAt == nil || p.Completions[1].Status != http.StatusNoContent {
		t.Fatalf("completions = %s; want the second delivered on its second attempt", fmt.Sprint(p.Completions))
	}
}
