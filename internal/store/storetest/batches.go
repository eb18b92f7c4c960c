package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// batched stores a document of a batch, submitted at, with a status and a
// route outcome ("" for none).
func batched(t *testing.T, s countersign.Store, id, batch string, at time.Time, status countersign.Status, route countersign.Outcome) {
	t.Helper()
	ctx := context.Background()
	doc := newDocument(id)
	doc.Batch, doc.CreatedAt = batch, at
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	setStatus(t, s, id, status, route)
}

func setStatus(t *testing.T, s countersign.Store, id string, status countersign.Status, route countersign.Outcome) {
	t.Helper()
	u := countersign.DocumentUpdate{Status: &status}
	if route != "" {
		u.Route = &countersign.Route{Outcome: route, Reasons: []string{}}
	}
	if err := s.UpdateDocument(context.Background(), id, u); err != nil {
		t.Fatal(err)
	}
}

func testBatches(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	batched(t, s, "a1", "room-1", t0, countersign.StatusAccepted, countersign.OutcomeAutoAccept)
	batched(t, s, "a2", "room-1", t0.Add(2*time.Minute), countersign.StatusAwaitingReview, countersign.OutcomeHumanReview)
	batched(t, s, "a3", "room-1", t0.Add(time.Minute), countersign.StatusProcessing, "")
	batched(t, s, "b1", "alerts:2026-03-14", t0.Add(time.Hour), countersign.StatusRejected, countersign.OutcomeHumanReview)
	mustCreate(t, s, "loose")
	if err := s.OpenReview(ctx, newReview("a2", 1, t0)); err != nil {
		t.Fatal(err)
	}
	// Storing a document again does not count it twice.
	again := newDocument("a1")
	again.Batch = "room-1"
	if _, created, err := s.CreateDocument(ctx, again); err != nil || created {
		t.Fatalf("CreateDocument(a1 again) = created %v, %v", created, err)
	}

	doc, err := s.GetDocument(ctx, "a2")
	if err != nil || doc.Batch != "room-1" {
		t.Fatalf("GetDocument(a2).Batch = %q, %v; want room-1", doc.Batch, err)
	}
	if got := scanIDs(t, s, countersign.DocumentFilter{Batch: "room-1"}); fmt.Sprint(got) != "[a1 a3 a2]" {
		t.Fatalf("ScanDocuments(batch room-1) = %v, want [a1 a3 a2]", got)
	}

	p, err := s.BatchProgress(ctx, "room-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "room-1" || p.Documents != 3 || p.Unfinished != 2 || p.Done || p.OpenReviews != 1 {
		t.Fatalf("progress = %+v; want room-1 with 3 documents, 2 unfinished, 1 open review, not done", p.Batch)
	}
	if !p.FirstSubmittedAt.Equal(t0) || !p.LastSubmittedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("submitted %s to %s, want %s to %s", p.FirstSubmittedAt, p.LastSubmittedAt, t0, t0.Add(2*time.Minute))
	}
	wantStatus := map[countersign.Status]int{countersign.StatusProcessing: 1, countersign.StatusAwaitingReview: 1, countersign.StatusAccepted: 1,
		countersign.StatusRejected: 0, countersign.StatusFailed: 0}
	if fmt.Sprint(p.ByStatus) != fmt.Sprint(wantStatus) {
		t.Fatalf("by status %v, want %v", p.ByStatus, wantStatus)
	}
	wantRoute := map[countersign.Outcome]int{countersign.OutcomeAutoAccept: 1, countersign.OutcomeHumanReview: 1}
	if fmt.Sprint(p.ByRoute) != fmt.Sprint(wantRoute) {
		t.Fatalf("by route %v, want %v", p.ByRoute, wantRoute)
	}
	if _, err := s.BatchProgress(ctx, "nope"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("BatchProgress(unknown) = %v, want not found", err)
	}

	page, err := s.ListBatches(ctx, countersign.BatchFilter{Limit: 1})
	if err != nil || len(page.Batches) != 1 || page.Batches[0].Name != "alerts:2026-03-14" || !page.Batches[0].Done || page.NextCursor == "" {
		t.Fatalf("ListBatches(limit 1) = %+v, %v; want the alerts batch, done, and a cursor", page, err)
	}
	page, err = s.ListBatches(ctx, countersign.BatchFilter{Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(page.Batches) != 1 || page.Batches[0].Name != "room-1" || page.Batches[0].Unfinished != 2 || page.Batches[0].Done {
		t.Fatalf("ListBatches(page 2) = %+v, %v; want room-1 with 2 unfinished", page, err)
	}
	if page, err = s.ListBatches(ctx, countersign.BatchFilter{Limit: 1, Cursor: page.NextCursor}); err != nil || len(page.Batches) != 0 || page.NextCursor != "" {
		t.Fatalf("ListBatches(page 3) = %+v, %v; want an empty last page", page, err)
	}
	if _, err := s.ListBatches(ctx, countersign.BatchFilter{Cursor: "not a cursor"}); countersign.ErrorCode(err) != countersign.CodeBadRequest {
		t.Fatalf("ListBatches(bad cursor) = %v, want a bad request", err)
	}

	// Completion: only the batch whose documents are all final, once.
	at := t0.Add(2 * time.Hour)
	done, err := s.CompleteBatches(ctx, at, 10)
	if err != nil || len(done) != 1 || done[0].Batch != "alerts:2026-03-14" || done[0].Documents != 1 {
		t.Fatalf("CompleteBatches = %+v, %v; want the alerts batch with 1 document", done, err)
	}
	if done, err := s.CompleteBatches(ctx, at, 10); err != nil || len(done) != 0 {
		t.Fatalf("CompleteBatches again = %+v, %v; want none", done, err)
	}
	setStatus(t, s, "a2", countersign.StatusAccepted, "")
	setStatus(t, s, "a3", countersign.StatusFailed, "")
	if done, err := s.CompleteBatches(ctx, at, 10); err != nil || len(done) != 1 || done[0].Batch != "room-1" || done[0].Documents != 3 {
		t.Fatalf("CompleteBatches after room-1's last document = %+v, %v; want room-1 with 3", done, err)
	}
	// A document added to a completed batch opens it again; it completes
	// again, with more documents, once that one is final.
	batched(t, s, "a4", "room-1", t0.Add(3*time.Hour), countersign.StatusProcessing, "")
	if done, err := s.CompleteBatches(ctx, at, 10); err != nil || len(done) != 0 {
		t.Fatalf("CompleteBatches with a4 processing = %+v, %v; want none", done, err)
	}
	if p, err := s.BatchProgress(ctx, "room-1"); err != nil || p.Done || len(p.Completions) != 1 {
		t.Fatalf("room-1 reopened: %+v, %v; want not done, one completion", p, err)
	}
	setStatus(t, s, "a4", countersign.StatusRejected, "")
	if done, err := s.CompleteBatches(ctx, at.Add(time.Hour), 10); err != nil || len(done) != 1 || done[0].Documents != 4 {
		t.Fatalf("CompleteBatches after a4 = %+v, %v; want room-1 with 4", done, err)
	}

	// A batch that stays unfinished does not crowd out one that can
	// complete, however small the round.
	batched(t, s, "s1", "aa-stuck", t0, countersign.StatusProcessing, "")
	batched(t, s, "z1", "zz-done", t0, countersign.StatusAccepted, "")
	if done, err := s.CompleteBatches(ctx, at, 1); err != nil || len(done) != 1 || done[0].Batch != "zz-done" {
		t.Fatalf("CompleteBatches(limit 1) beside an unfinished batch = %+v, %v; want zz-done", done, err)
	}

	// Deliveries: taken once each until the lease passes, finished for good.
	taken, err := s.TakeBatchDeliveries(ctx, at, time.Minute, 10)
	if err != nil || len(taken) != 4 || taken[0].Attempts != 1 {
		t.Fatalf("TakeBatchDeliveries = %+v, %v; want the 4 completions, first attempt", taken, err)
	}
	if again, err := s.TakeBatchDeliveries(ctx, at.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("TakeBatchDeliveries within the lease = %+v, %v; want none", again, err)
	}
	delivered := at.Add(time.Second)
	if err := s.FinishBatchDelivery(ctx, taken[0].Batch, taken[0].Documents, countersign.BatchDelivery{DeliveredAt: &delivered, Status: 204}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishBatchDelivery(ctx, taken[1].Batch, taken[1].Documents, countersign.BatchDelivery{Status: 410, Error: "webhook answered 410"}); err != nil {
		t.Fatal(err)
	}
	again2, err := s.TakeBatchDeliveries(ctx, at.Add(2*time.Minute), time.Minute, 10)
	if err != nil || len(again2) != 2 || again2[0].Batch != taken[2].Batch || again2[0].Documents != taken[2].Documents || again2[0].Attempts != 2 {
		t.Fatalf("TakeBatchDeliveries after the lease = %+v, %v; want %s/%d and one more, second attempt", again2, err, taken[2].Batch, taken[2].Documents)
	}
	p, err = s.BatchProgress(ctx, taken[0].Batch)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, c := range p.Completions {
		if c.Documents == taken[0].Documents {
			found = c.DeliveredAt != nil && c.DeliveredAt.Equal(delivered) && c.Status == 204
		}
	}
	if !found {
		t.Fatalf("completions of %s = %+v; want %d delivered at %s with 204", taken[0].Batch, p.Completions, taken[0].Documents, delivered)
	}
}

// testBatchesConcurrent: documents stored while several callers complete
// batches. Each completion is recorded once, and a batch is never
// completed while one of its documents is unfinished.
func testBatchesConcurrent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const docs, completers = 20, 4
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		completed []countersign.BatchCompletion
	)
	stop := make(chan struct{})
	for range completers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				done, err := s.CompleteBatches(ctx, t0, 10)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				completed = append(completed, done...)
				mu.Unlock()
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	// Each document is stored final but one, the last, which stays
	// processing: the batch may complete with any count of them below
	// docs, but never with docs.
	for i := range docs {
		status := countersign.StatusAccepted
		if i == docs-1 {
			status = countersign.StatusProcessing
		}
		doc := newDocument(fmt.Sprintf("c%02d", i))
		doc.Batch, doc.Status = "busy", status
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	seen := map[int]bool{}
	for _, c := range completed {
		if seen[c.Documents] {
			t.Fatalf("batch busy completed twice with %d documents: %+v", c.Documents, completed)
		}
		seen[c.Documents] = true
		if c.Documents >= docs {
			t.Fatalf("batch busy completed with %d documents while c%02d is processing", c.Documents, docs-1)
		}
	}
	taken := make(chan countersign.BatchCompletion, 100)
	for range completers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.TakeBatchDeliveries(ctx, t0, time.Minute, 100)
			if err != nil {
				t.Error(err)
			}
			for _, c := range got {
				taken <- c
			}
		}()
	}
	wg.Wait()
	close(taken)
	delivered := map[int]int{}
	for c := range taken {
		delivered[c.Documents]++
	}
	for n := range seen {
		if delivered[n] != 1 {
			t.Fatalf("completion with %d documents taken %d times by %d callers, want once", n, delivered[n], completers)
		}
	}
}
