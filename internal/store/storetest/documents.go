package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

func testDocuments(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	if _, err := s.GetDocument(ctx, "nope"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("GetDocument(unknown) = %v, want not found", err)
	}
	doc := newDocument("d1")
	stored, created, err := s.CreateDocument(ctx, doc)
	if err != nil || !created {
		t.Fatalf("CreateDocument = created %v, %v", created, err)
	}
	if stored.Content != doc.Content || stored.Metadata["source"] != "email" || stored.ExternalID != "ext-d1" {
		t.Fatalf("stored document differs: %+v", stored)
	}
	if !stored.CreatedAt.Equal(t0.Truncate(time.Microsecond)) || stored.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want %v in UTC to the microsecond", stored.CreatedAt, t0)
	}

	again := newDocument("d1")
	again.Content = "something else"
	stored, created, err = s.CreateDocument(ctx, again)
	if err != nil || created {
		t.Fatalf("second CreateDocument = created %v, %v; want the existing document", created, err)
	}
	if stored.Content != doc.Content {
		t.Fatalf("second CreateDocument replaced the content")
	}

	draft := &countersign.Draft{
		Fields:    countersign.Fields{"party_a": "Acme Corp", "amount": 1250000.5},
		Evidence:  map[string]countersign.Evidence{"party_a": {Quote: "Acme Corp", Start: 31, End: 40}},
		Extractor: countersign.ExtractorRules,
	}
	status := countersign.StatusAwaitingReview
	if err := s.UpdateDocument(ctx, "d1", countersign.DocumentUpdate{Draft: draft, Status: &status}); err != nil {
		t.Fatal(err)
	}
	conf := &countersign.Confidence{Overall: 0.5, Weakest: "party_a", Fields: map[string]countersign.FieldScore{
		"party_a": {Score: 0.5, Signals: map[string]float64{"grounding": 0.5}, Required: true, Reasons: []string{"moved"}},
	}}
	if err := s.UpdateDocument(ctx, "d1", countersign.DocumentUpdate{Confidence: conf}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetDocument(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != status || got.Draft == nil || got.Draft.Fields["party_a"] != "Acme Corp" ||
		got.Draft.Fields["amount"] != 1250000.5 || got.Draft.Evidence["party_a"].End != 40 {
		t.Fatalf("draft or status not kept: %+v %+v", got.Status, got.Draft)
	}
	if got.Confidence == nil || got.Confidence.Fields["party_a"].Reasons[0] != "moved" || got.Route != nil || got.Final != nil {
		t.Fatalf("partial updates mixed up: confidence %+v route %+v final %+v", got.Confidence, got.Route, got.Final)
	}
	if err := s.UpdateDocument(ctx, "nope", countersign.DocumentUpdate{Status: &status}); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("UpdateDocument(unknown) = %v, want not found", err)
	}
}

// scanIDs scans the documents f selects and returns their IDs in the order
// the scan gave them, checking that each is read exactly as GetDocument
// reads it, body included.
func scanIDs(t *testing.T, s countersign.Store, f countersign.DocumentFilter) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	err := s.ScanDocuments(ctx, f, func(d *countersign.Document) error {
		want, err := s.GetDocument(ctx, d.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(d, want) {
			return fmt.Errorf("scanned document differs from GetDocument:\n got %+v\nwant %+v", d, want)
		}
		ids = append(ids, d.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func testScanDocuments(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	// Created out of order; d0 and d4, and d2 and d3, share a creation time.
	for _, d := range []struct {
		id, taskType string
		status       countersign.Status
		created      time.Duration
	}{
		{"d4", "contract-review", countersign.StatusRejected, 2 * time.Hour},
		{"d1", "contract-review", countersign.StatusProcessing, 0},
		{"d3", "pii-extraction", countersign.StatusAccepted, time.Hour},
		{"d2", "contract-review", countersign.StatusAccepted, time.Hour},
		{"d0", "contract-review", countersign.StatusAwaitingReview, 2 * time.Hour},
	} {
		doc := newDocument(d.id)
		doc.TaskType, doc.Status, doc.CreatedAt = d.taskType, d.status, t0.Add(d.created)
		doc.Content = "body of " + d.id
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	// A document with its whole state, to check it is decoded as GetDocument does.
	if err := s.UpdateDocument(ctx, "d1", countersign.DocumentUpdate{
		Draft:      &countersign.Draft{Fields: countersign.Fields{"party_a": "Acme Corp"}, Extractor: countersign.ExtractorRules},
		Confidence: &countersign.Confidence{Overall: 0.5, Weakest: "party_a"},
	}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		filter countersign.DocumentFilter
		want   string
	}{
		{"everything", countersign.DocumentFilter{}, "d1,d2,d3,d0,d4"},
		{"task type", countersign.DocumentFilter{TaskType: "contract-review"}, "d1,d2,d0,d4"},
		{"unknown task type", countersign.DocumentFilter{TaskType: "nope"}, ""},
		{"statuses", countersign.DocumentFilter{Statuses: []countersign.Status{countersign.StatusAccepted, countersign.StatusRejected}}, "d2,d3,d4"},
		{"one status", countersign.DocumentFilter{Statuses: []countersign.Status{countersign.StatusProcessing}}, "d1"},
		{"since is inclusive", countersign.DocumentFilter{Since: t0.Add(time.Hour)}, "d2,d3,d0,d4"},
		{"until is exclusive", countersign.DocumentFilter{Until: t0.Add(2 * time.Hour)}, "d1,d2,d3"},
		{"since and until", countersign.DocumentFilter{Since: t0.Add(time.Minute), Until: t0.Add(2 * time.Hour)}, "d2,d3"},
		{"all parts", countersign.DocumentFilter{
			TaskType: "contract-review",
			Statuses: []countersign.Status{countersign.StatusAccepted, countersign.StatusAwaitingReview},
			Since:    t0.Add(time.Hour),
			Until:    t0.Add(3 * time.Hour),
		}, "d2,d0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(scanIDs(t, s, tc.filter), ","); got != tc.want {
				t.Fatalf("scanned %q, want %q", got, tc.want)
			}
		})
	}

	stop := errors.New("stop")
	calls := 0
	err := s.ScanDocuments(ctx, countersign.DocumentFilter{}, func(*countersign.Document) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("scan whose fn fails at the second document = %v after %d calls, want fn's error after 2", err, calls)
	}
}

// testScanDocumentBatches scans more documents than two batches hold, with
// equal creation times across the batch boundaries, so that paging must
// break ties by ID to neither skip nor repeat a document.
func testScanDocumentBatches(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	n := 2*store.DocumentBatch + 3
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("doc%04d", i)
	}
	for i := n - 1; i >= 0; i-- {
		doc := newDocument(want[i])
		// The last document of each batch and the first of the next tie.
		doc.CreatedAt = t0.Add(time.Duration((i+1)/store.DocumentBatch) * time.Second)
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	other := newDocument("other")
	other.TaskType = "pii-extraction"
	if _, _, err := s.CreateDocument(ctx, other); err != nil {
		t.Fatal(err)
	}

	var got []string
	err := s.ScanDocuments(ctx, countersign.DocumentFilter{TaskType: "contract-review"}, func(d *countersign.Document) error {
		if len(got) == n {
			return errors.New("the scan gives more documents than there are")
		}
		got = append(got, d.ID)
		// A caller may change what it is given; the scan must not care.
		d.ID, d.CreatedAt = "", time.Time{}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("scanned %d documents, want %d in (created_at, id) order:\n got %v\nwant %v", len(got), n, got, want)
	}

	stop := errors.New("stop")
	calls := 0
	err = s.ScanDocuments(ctx, countersign.DocumentFilter{}, func(*countersign.Document) error {
		calls++
		if calls == store.DocumentBatch+1 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != store.DocumentBatch+1 {
		t.Fatalf("scan whose fn fails in the second batch = %v after %d calls, want fn's error after %d", err, calls, store.DocumentBatch+1)
	}
}

// testDocumentLabels: the labels of the documents asked for, with their
// external IDs and metadata, and none for an unknown ID or no IDs.
func testDocumentLabels(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	named := newDocument("d1")
	named.Metadata = map[string]string{"filename": "msa.txt", "title": "Master services agreement"}
	plain := newDocument("d2")
	plain.ExternalID, plain.Metadata = "", nil
	for _, d := range []*countersign.Document{named, plain, newDocument("d3")} {
		if _, _, err := s.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	labels, err := s.DocumentLabels(ctx, []string{"d1", "d2", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 2 || labels["d1"].ExternalID != "ext-d1" || labels["d1"].Metadata["filename"] != "msa.txt" ||
		labels["d1"].Name() != "Master services agreement" || labels["d2"].Name() != "" {
		t.Fatalf("labels = %+v; want d1's and d2's only, d1 named by its title, d2 by nothing", labels)
	}
	if none, err := s.DocumentLabels(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("labels of no documents = %v, %v", none, err)
	}
}

// testMarkDelivered: the delivery time is set once, by the first of any
// number of deliveries, however they overlap, nothing else of the final
// record changes, and the document comes back as GetDocument reads it.
func testMarkDelivered(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	if _, err := s.MarkDelivered(ctx, "nope", t0); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("MarkDelivered(unknown) = %v, want not found", err)
	}
	mustCreate(t, s, "d1")
	got, err := s.MarkDelivered(ctx, "d1", t0)
	if err != nil || got.Final != nil {
		t.Fatalf("MarkDelivered(no final record) = %+v, %v; want the document as it is, without a final record", got, err)
	}
	status := countersign.StatusAccepted
	final := &countersign.Final{
		Fields: countersign.Fields{"party_a": "Acme Corp"}, Outcome: countersign.OutcomeAutoAccept,
		DecidedBy: countersign.SystemActor, DecidedAt: t0, Vetoed: true,
		Lineage: &countersign.Lineage{TaskTypeVersion: "abc123", AuditEvents: []string{"e1"}},
	}
	if err := s.UpdateDocument(ctx, "d1", countersign.DocumentUpdate{Status: &status, Final: final}); err != nil {
		t.Fatal(err)
	}
	first := t0.Add(90 * time.Second).Add(1234 * time.Nanosecond)
	got, err = s.MarkDelivered(ctx, "d1", first)
	if err != nil {
		t.Fatal(err)
	}
	want := *final
	at := first.Truncate(time.Microsecond)
	want.DeliveredAt = &at
	if got.Status != status || got.Final == nil || got.Final.DeliveredAt == nil || !got.Final.DeliveredAt.Equal(at) {
		t.Fatalf("MarkDelivered = status %s, final %+v; want accepted, delivered at %v", got.Status, got.Final, at)
	}
	// Deliver posts the returned document's fields; its body, read
	// through whatever wraps the store, is the one submitted.
	if want := newDocument("d1").Content; got.Content != want {
		t.Fatalf("MarkDelivered returned body %q, want %q as submitted", got.Content, want)
	}
	if !reflect.DeepEqual(withUTC(got.Final), withUTC(&want)) {
		t.Fatalf("final record after MarkDelivered = %+v, want %+v", got.Final, want)
	}
	again, err := s.MarkDelivered(ctx, "d1", first.Add(time.Hour))
	if err != nil || again.Final == nil || again.Final.DeliveredAt == nil || !again.Final.DeliveredAt.Equal(at) {
		t.Fatalf("second MarkDelivered = %+v, %v; want the first delivery's time %v kept", again.Final, err, at)
	}
	stored, err := s.GetDocument(ctx, "d1")
	if err != nil || stored.Final == nil || stored.Final.DeliveredAt == nil || !stored.Final.DeliveredAt.Equal(at) {
		t.Fatalf("stored final after two deliveries = %+v, %v; want delivered at %v", stored.Final, err, at)
	}

	// Deliveries that overlap all see the one time the first stored.
	mustCreate(t, s, "d2")
	if err := s.UpdateDocument(ctx, "d2", countersign.DocumentUpdate{Status: &status, Final: final}); err != nil {
		t.Fatal(err)
	}
	const runs = 8
	times := make([]time.Time, runs)
	errs := make(chan error, runs)
	for i := range runs {
		go func() {
			doc, err := s.MarkDelivered(ctx, "d2", t0.Add(time.Duration(i+1)*time.Minute))
			if err == nil {
				if doc.Final == nil || doc.Final.DeliveredAt == nil {
					err = fmt.Errorf("MarkDelivered returned final %+v, without a delivery time", doc.Final)
				} else {
					times[i] = *doc.Final.DeliveredAt
				}
			}
			errs <- err
		}()
	}
	for range runs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, at := range times {
		if !at.Equal(times[0]) {
			t.Fatalf("overlapping MarkDelivered answered %v and %v (runs 0 and %d); want one time", times[0], at, i)
		}
	}
	stored, err = s.GetDocument(ctx, "d2")
	if err != nil || stored.Final == nil || stored.Final.DeliveredAt == nil || !stored.Final.DeliveredAt.Equal(times[0]) {
		t.Fatalf("stored final after overlapping deliveries = %+v, %v; want delivered at %v", stored.Final, err, times[0])
	}
}

// withUTC is f with its times in UTC, to compare with reflect.DeepEqual.
func withUTC(f *countersign.Final) *countersign.Final {
	c := *f
	c.DecidedAt = c.DecidedAt.UTC()
	if c.DeliveredAt != nil {
		at := c.DeliveredAt.UTC()
		c.DeliveredAt = &at
	}
	return &c
}
