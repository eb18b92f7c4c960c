package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// TestBatchCompletesOnce: a batch of two documents, one auto-accepted and
// one that waits for a person, through the real server, worker and
// reconciler. Its progress shows the open review; batch.completed reaches
// the webhook, signed, once the person decides, and only once however many
// reconcile rounds follow; each document's receipt in the audit trail
// names the batch, and so does its document.finalized webhook.
func TestBatchCompletesOnce(t *testing.T) {
	ctx := context.Background()
	const secret = "batch-test-secret"
	receiver := &webhookReceiver{secret: secret}
	hook := httptest.NewServer(receiver)
	t.Cleanup(hook.Close)
	a := startAppWith(t, config.Config{WebhookURL: hook.URL, WebhookSecret: secret, ReconcileInterval: time.Second},
		app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	const batch = "data-room:7"

	auto, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", Content: sample(t, "pii-extraction", "email-maria-gonzalez.txt"), Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	held, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "nda-blueheron-cedarridge.txt"), Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	if auto.Batch != batch || held.Batch != batch {
		t.Fatalf("submit answered batches %q and %q, want %q", auto.Batch, held.Batch, batch)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if doc, err := u.submitter.WaitFinal(waitCtx, auto.ID, 50*time.Millisecond); err != nil || doc.Status != countersign.StatusAccepted || doc.Batch != batch {
		t.Fatalf("the auto-accepted document: %+v, %v; want accepted in %s", doc, err, batch)
	}
	review := waitForReview(t, u.reviewer, held.ID)

	batchEvents := func() []receivedEvent {
		receiver.mu.Lock()
		defer receiver.mu.Unlock()
		var out []receivedEvent
		for _, e := range receiver.events {
			if e.Type == "batch.completed" {
				out = append(out, e)
			}
		}
		return out
	}
	p, err := u.submitter.Batch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if p.Documents != 2 || p.Unfinished != 1 || p.Done || p.OpenReviews != 1 || p.ByStatus[countersign.StatusAwaitingReview] != 1 || p.ByStatus[countersign.StatusAccepted] != 1 {
		t.Fatalf("progress with one review open = %+v; want 2 documents, 1 awaiting review, 1 accepted, 1 open review", p)
	}
	time.Sleep(3 * time.Second) // three reconcile rounds
	if got := batchEvents(); len(got) != 0 {
		t.Fatalf("batch.completed sent while a document awaits review: %+v", got)
	}

	if _, err := u.approver.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "batch.completed of "+batch, func() (bool, string) {
		got := batchEvents()
		return len(got) > 0, fmt.Sprintf("received %+v, refused %q", receiver.events, receiver.refusals)
	})
	time.Sleep(3 * time.Second) // three more rounds
	if got := batchEvents(); len(got) != 1 || got[0].Batch != batch || got[0].Documents != 2 {
		t.Fatalf("batch.completed events = %+v; want one, of %s with 2 documents", got, batch)
	}
	p, err = u.submitter.Batch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Done || len(p.Completions) != 1 || p.Completions[0].DeliveredAt == nil || p.Completions[0].Status != 204 {
		t.Fatalf("progress after the decision = %+v; want done, one completion delivered with 204", p)
	}

	for _, id := range []string{auto.ID, held.ID} {
		events, err := u.auditor.Audit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var named string
		for _, e := range events {
			if e.Type == countersign.EventDocumentReceived {
				var data struct {
					Batch string `json:"batch"`
				}
				if err := json.Unmarshal(e.Data, &data); err != nil {
					t.Fatal(err)
				}
				named = data.Batch
			}
		}
		if named != batch {
			t.Fatalf("document.received of %s names batch %q, want %q", id, named, batch)
		}
	}
	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	if !containsEvent(receiver.events, receivedEvent{Type: "document.finalized", DocumentID: held.ID, Batch: batch}) {
		t.Fatalf("no document.finalized of %s naming its batch among %+v", held.ID, receiver.events)
	}
}

func containsEvent(events []receivedEvent, want receivedEvent) bool {
	for _, e := range events {
		if e == want {
			return true
		}
	}
	return false
}
