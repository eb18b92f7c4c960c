package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/webhook"
)

// TestDeliverTwiceAtOnce: the workflow tries Deliver as a local activity,
// which runs again after a lost workflow task with the workflow's clock
// read anew, while the first run may still be posting. Two runs of one
// step that overlap, each told another time and each given another answer
// by the receiver, both succeed: the document keeps the first stored
// delivery time, and the trail one document.delivered that records it.
func TestDeliverTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	first := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	s := processingDocument(t, first)

	// The receiver holds the first POST until the second has been answered
	// and recorded, and answers the two differently.
	var (
		mu       sync.Mutex
		ids      []string
		arrived  = make(chan struct{})
		released = make(chan struct{})
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var e webhook.Event
		_ = json.Unmarshal(body, &e)
		mu.Lock()
		ids = append(ids, e.ID)
		n := len(ids)
		mu.Unlock()
		if n == 1 {
			close(arrived)
			<-released
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()

	a := &activities.Activities{Store: s, TaskTypes: oneTaskType{}, Now: time.Now, Webhook: &webhook.Client{URL: hook.URL, Secret: "s"}}
	step := activities.Step{EventID: "review/d1/6", DocumentID: "d1", TaskTypeVersion: "v", PolicyVersion: "p"}
	draft := &countersign.Draft{Fields: countersign.Fields{"party": "Acme"}, Extractor: "rules"}
	if _, err := a.Finalize(ctx, activities.FinalizeInput{Step: activities.Step{EventID: "review/d1/5", DocumentID: "d1", TaskTypeVersion: "v", PolicyVersion: "p"}, Draft: draft, Outcome: countersign.OutcomeAutoAccept, At: first}); err != nil {
		t.Fatal(err)
	}

	in := activities.DeliverInput{Step: step, Event: activities.WebhookFinalized, At: first.Add(time.Second)}
	firstRun := make(chan error, 1)
	go func() { firstRun <- a.Deliver(ctx, in) }()
	<-arrived
	again := in
	again.At = first.Add(4 * time.Second)
	if err := a.Deliver(ctx, again); err != nil {
		t.Fatalf("second run of the delivery, while the first posts: %v", err)
	}
	close(released)
	if err := <-firstRun; err != nil {
		t.Fatalf("first run of the delivery, which the second recorded: %v, want success", err)
	}

	mu.Lock()
	posted := append([]string(nil), ids...)
	mu.Unlock()
	if len(posted) != 2 || posted[0] != step.EventID || posted[1] != step.EventID {
		t.Fatalf("receiver saw events %v, want %s twice", posted, step.EventID)
	}
	doc, err := s.GetDocument(ctx, "d1")
	if err != nil || doc.Final == nil || doc.Final.DeliveredAt == nil || !doc.Final.DeliveredAt.Equal(in.At) {
		t.Fatalf("document after two deliveries: %+v (%v), want delivered at %v, the first run's time", doc.Final, err, in.At)
	}
	events, err := s.DocumentAudit(ctx, "d1")
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
		t.Fatalf("%d document.delivered events, want one", len(delivered))
	}
	var data struct {
		DeliveredAt time.Time `json:"delivered_at"`
		Status      int       `json:"status"`
	}
	if err := json.Unmarshal(delivered[0].Data, &data); err != nil || !data.DeliveredAt.Equal(in.At) || data.Status != http.StatusAccepted {
		t.Fatalf("document.delivered records %+v (%v), want delivered_at %v as the document, and the status of the run that recorded it (202)", data, err, in.At)
	}
	if report, err := audit.Verify(ctx, s); err != nil || !report.OK {
		t.Fatalf("audit chain after two deliveries: %+v, %v", report, err)
	}
}

// TestDeliverUnderAnotherStepsEvent: an event of another type already
// stored under the delivery's event ID (two steps given one ID) is a
// conflict, not a delivery made before: Deliver fails for good, without
// posting or marking the document delivered, rather than leave a document
// taken for delivered with no document.delivered in its trail.
func TestDeliverUnderAnotherStepsEvent(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	s := processingDocument(t, at)
	var posts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer hook.Close()
	a := &activities.Activities{Store: s, TaskTypes: oneTaskType{}, Now: time.Now, Webhook: &webhook.Client{URL: hook.URL, Secret: "s"}}
	draft := &countersign.Draft{Fields: countersign.Fields{"party": "Acme"}, Extractor: "rules"}
	if _, err := a.Finalize(ctx, activities.FinalizeInput{Step: activities.Step{EventID: "review/d1/5", DocumentID: "d1", TaskTypeVersion: "v", PolicyVersion: "p"}, Draft: draft, Outcome: countersign.OutcomeAutoAccept, At: at}); err != nil {
		t.Fatal(err)
	}
	step := activities.Step{EventID: "review/d1/6", DocumentID: "d1", TaskTypeVersion: "v", PolicyVersion: "p"}
	if _, err := s.AppendAudit(ctx, countersign.AuditEvent{ID: step.EventID, DocumentID: "d1", Type: countersign.EventReviewOpened, Actor: countersign.SystemActor, Channel: countersign.ChannelWorkflow, At: at, Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}

	err := a.Deliver(ctx, activities.DeliverInput{Step: step, Event: activities.WebhookFinalized, At: at.Add(time.Second)})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("Deliver under another step's event = %v, want a non-retryable conflict", err)
	}
	if n := posts.Load(); n != 0 {
		t.Fatalf("receiver got %d posts, want none", n)
	}
	if doc, err := s.GetDocument(ctx, "d1"); err != nil || doc.Final == nil || doc.Final.DeliveredAt != nil {
		t.Fatalf("final after the conflict = %+v, %v; want it not delivered", doc.Final, err)
	}
}
