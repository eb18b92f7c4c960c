// Package storetest is the conformance suite every countersign.Store must
// pass. Each store's tests call Run with a Harness that opens a fresh, empty
// store on the real database.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store"
)

// Harness opens stores for the suite.
type Harness struct {
	// New returns a new, empty store; the harness closes and removes it when
	// the test ends.
	New func(t *testing.T) countersign.Store
	// Exec runs a literal SQL statement on the store's database, behind the
	// store's back: this is how the tamper tests change the audit table.
	Exec func(t *testing.T, s countersign.Store, statement string)
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	t.Run("Documents", func(t *testing.T) { testDocuments(t, h.New(t)) })
	t.Run("ScanDocuments", func(t *testing.T) { testScanDocuments(t, h.New(t)) })
	t.Run("ScanDocumentBatches", func(t *testing.T) { testScanDocumentBatches(t, h.New(t)) })
	t.Run("Reviews", func(t *testing.T) { testReviews(t, h.New(t)) })
	t.Run("ReviewPaging", func(t *testing.T) { testReviewPaging(t, h.New(t)) })
	t.Run("ReviewKinds", func(t *testing.T) { testReviewKinds(t, h.New(t)) })
	t.Run("Decisions", func(t *testing.T) { testDecisions(t, h.New(t)) })
	t.Run("BatchReads", func(t *testing.T) { testBatchReads(t, h.New(t)) })
	t.Run("AuditChain", func(t *testing.T) { testAuditChain(t, h.New(t)) })
	t.Run("AuditIdempotent", func(t *testing.T) { testAuditIdempotent(t, h.New(t)) })
	t.Run("AuditConcurrent", func(t *testing.T) { testAuditConcurrent(t, h.New(t)) })
	t.Run("AuditScanBatches", func(t *testing.T) { testAuditScanBatches(t, h.New(t)) })
	t.Run("AuditTamper", func(t *testing.T) { testAuditTamper(t, h) })
	t.Run("TaskTypes", func(t *testing.T) { testTaskTypes(t, h.New(t)) })
	t.Run("Calibrations", func(t *testing.T) { testCalibrations(t, h.New(t)) })
	t.Run("ActiveCalibration", func(t *testing.T) { testActiveCalibration(t, h) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, h.New(t)) })
	t.Run("Overrides", func(t *testing.T) { testOverrides(t, h.New(t)) })
	t.Run("OverridesConcurrent", func(t *testing.T) { testOverridesConcurrent(t, h.New(t)) })
	t.Run("AuditDraws", func(t *testing.T) { testAuditDraws(t, h.New(t)) })
	t.Run("AuditDrawsConcurrent", func(t *testing.T) { testAuditDrawsConcurrent(t, h.New(t)) })
	t.Run("Certificates", func(t *testing.T) { testCertificates(t, h.New(t)) })
	t.Run("PolicyVersions", func(t *testing.T) { testPolicyVersions(t, h.New(t)) })
	t.Run("PolicyVersionsConcurrent", func(t *testing.T) { testPolicyVersionsConcurrent(t, h.New(t)) })
	t.Run("Gold", func(t *testing.T) { testGold(t, h.New(t)) })
	t.Run("UnstartedDocuments", func(t *testing.T) { testUnstartedDocuments(t, h.New(t)) })
	t.Run("SlackUsers", func(t *testing.T) { testSlackUsers(t, h.New(t)) })
	t.Run("SlackRequests", func(t *testing.T) { testSlackRequests(t, h, h.New(t)) })
	t.Run("SlackRequestsConcurrent", func(t *testing.T) { testSlackRequestsConcurrent(t, h.New(t)) })
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func newDocument(id string) *countersign.Document {
	return &countersign.Document{
		ID:              id,
		TaskType:        "contract-review",
		TaskTypeVersion: "abc123",
		ExternalID:      "ext-" + id,
		Content:         "This Agreement is made between Acme Corp and Globex Ltd. ünïcödé",
		ContentSHA256:   countersign.ContentSHA256(id),
		Metadata:        map[string]string{"source": "email"},
		Status:          countersign.StatusProcessing,
		SubmittedBy:     "alice",
		CreatedAt:       t0,
	}
}

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

func newReview(docID string, n int, created time.Time) *countersign.Review {
	return &countersign.Review{
		ID:         countersign.ReviewID(docID, n),
		DocumentID: docID,
		TaskType:   "contract-review",
		CreatedAt:  created,
		DueAt:      created.Add(24 * time.Hour),
		Confidence: 0.42,
		Reasons:    []string{"policy mode hitl: every document is reviewed by a person"},
	}
}

func testReviews(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d1")
	r := newReview("d1", 1, t0)
	if err := s.OpenReview(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenReview(ctx, r); err != nil {
		t.Fatalf("opening the same review again: %v", err)
	}
	got, err := s.GetReview(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != countersign.ReviewPending || got.DocumentID != "d1" || got.Kind != countersign.ReviewGate || got.Confidence != 0.42 ||
		len(got.Reasons) != 1 || !got.DueAt.Equal(t0.Add(24*time.Hour).Truncate(time.Microsecond)) || got.ClosedAt != nil {
		t.Fatalf("review not kept: %+v", got)
	}
	if _, err := s.GetReview(ctx, "nope"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("GetReview(unknown) = %v, want not found", err)
	}
	list, err := s.ReviewsForDocument(ctx, "d1")
	if err != nil || len(list) != 1 {
		t.Fatalf("ReviewsForDocument = %d reviews, %v", len(list), err)
	}

	// A failed document's pending reviews leave the queue without a decision.
	if err := s.CloseReviews(ctx, "d1", t0.Add(time.Hour), countersign.SystemActor); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetReview(ctx, r.ID)
	if err != nil || got.Status != countersign.ReviewClosed || got.ClosedBy != countersign.SystemActor || got.Outcome != "" || got.ClosedAt == nil {
		t.Fatalf("review after CloseReviews = %+v, %v", got, err)
	}
	decisions, err := s.Decisions(ctx, "d1")
	if err != nil || len(decisions) != 0 {
		t.Fatalf("CloseReviews recorded decisions: %+v, %v", decisions, err)
	}
}

func testReviewPaging(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const n = 7
	for i := range n {
		id := fmt.Sprintf("d%d", i)
		mustCreate(t, s, id)
		// Two reviews share a creation time: the ID breaks the tie.
		if err := s.OpenReview(ctx, newReview(id, 1, t0.Add(time.Duration(i/2)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	closeReview(t, s, "d3", countersign.ActionApprove)

	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("paging does not end")
		}
		page, err := s.ListReviews(ctx, countersign.ReviewFilter{Status: countersign.ReviewPending, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reviews {
			seen = append(seen, r.DocumentID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if got, want := strings.Join(seen, ","), "d0,d1,d2,d4,d5,d6"; got != want {
		t.Fatalf("pending reviews paged = %s, want %s", got, want)
	}
	all, err := s.ListReviews(ctx, countersign.ReviewFilter{})
	if err != nil || len(all.Reviews) != n || all.NextCursor != "" {
		t.Fatalf("all reviews = %d (next %q), %v", len(all.Reviews), all.NextCursor, err)
	}
	other, err := s.ListReviews(ctx, countersign.ReviewFilter{TaskType: "pii-extraction"})
	if err != nil || len(other.Reviews) != 0 {
		t.Fatalf("task type filter = %d reviews, %v", len(other.Reviews), err)
	}
	for _, tc := range []struct {
		types []string
		want  int
	}{{[]string{"pii-extraction"}, 0}, {[]string{"pii-extraction", "contract-review"}, n}, {[]string{"contract-review"}, n}} {
		got, err := s.ListReviews(ctx, countersign.ReviewFilter{TaskTypes: tc.types})
		if err != nil || len(got.Reviews) != tc.want {
			t.Fatalf("task types %v = %d reviews, %v; want %d", tc.types, len(got.Reviews), err, tc.want)
		}
	}
	if _, err := s.ListReviews(ctx, countersign.ReviewFilter{Cursor: "not a cursor"}); !errors.Is(err, countersign.ErrBadRequest) {
		t.Fatalf("bad cursor = %v, want bad request", err)
	}
}

// testReviewKinds pages through reviews of one kind, interleaved with
// reviews of the other and sharing creation times across page boundaries,
// so that the kind filter and the cursor must work together.
func testReviewKinds(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const n = 9
	for i := range n {
		id := fmt.Sprintf("d%d", i)
		mustCreate(t, s, id)
		r := newReview(id, 1, t0.Add(time.Duration(i/2)*time.Second))
		if i%3 != 0 {
			r.Kind = countersign.ReviewAudit
		}
		if err := s.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	closeReview(t, s, "d4", countersign.ActionApprove)

	got, err := s.GetReview(ctx, countersign.ReviewID("d1", 1))
	if err != nil || got.Kind != countersign.ReviewAudit {
		t.Fatalf("GetReview of an audit = kind %q, %v", got.Kind, err)
	}
	list, err := s.ReviewsForDocument(ctx, "d2")
	if err != nil || len(list) != 1 || list[0].Kind != countersign.ReviewAudit {
		t.Fatalf("ReviewsForDocument of an audit = %+v, %v", list, err)
	}

	pages := func(t *testing.T, f countersign.ReviewFilter) string {
		t.Helper()
		var seen []string
		for range n + 1 {
			page, err := s.ListReviews(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Reviews {
				if f.Kind != "" && r.Kind != f.Kind {
					t.Fatalf("review %s of kind %q listed under kind %q", r.ID, r.Kind, f.Kind)
				}
				seen = append(seen, r.DocumentID)
			}
			if page.NextCursor == "" {
				return strings.Join(seen, ",")
			}
			f.Cursor = page.NextCursor
		}
		t.Fatal("paging does not end")
		return ""
	}
	cases := []struct {
		name   string
		filter countersign.ReviewFilter
		want   string
	}{
		{"audits", countersign.ReviewFilter{Kind: countersign.ReviewAudit, Limit: 2}, "d1,d2,d4,d5,d7,d8"},
		{"pending audits", countersign.ReviewFilter{Kind: countersign.ReviewAudit, Status: countersign.ReviewPending, Limit: 2}, "d1,d2,d5,d7,d8"},
		{"gates", countersign.ReviewFilter{Kind: countersign.ReviewGate, Limit: 2}, "d0,d3,d6"},
		{"gates of another task type", countersign.ReviewFilter{Kind: countersign.ReviewGate, TaskType: "pii-extraction"}, ""},
		{"every kind", countersign.ReviewFilter{Limit: 4}, "d0,d1,d2,d3,d4,d5,d6,d7,d8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := pages(t, tc.filter); got != tc.want {
				t.Fatalf("reviews paged = %q, want %q", got, tc.want)
			}
		})
	}
}

func closeReview(t *testing.T, s countersign.Store, docID string, action countersign.Action) *countersign.Decision {
	t.Helper()
	d := &countersign.Decision{
		ID: countersign.ReviewID(docID, 1) + "/1", ReviewID: countersign.ReviewID(docID, 1), DocumentID: docID,
		Action: action, Actor: "bob", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: t0.Add(time.Hour),
	}
	if action == countersign.ActionCorrect {
		d.Fields = countersign.Fields{"party_a": "Acme Corporation"}
	}
	if err := s.RecordDecision(context.Background(), d, true); err != nil {
		t.Fatal(err)
	}
	return d
}

func testDecisions(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d1")
	if err := s.OpenReview(ctx, newReview("d1", 1, t0)); err != nil {
		t.Fatal(err)
	}
	d := closeReview(t, s, "d1", countersign.ActionCorrect)
	// A retried activity records the same decision again: nothing changes.
	retry := *d
	retry.Actor = "mallory"
	if err := s.RecordDecision(ctx, &retry, true); err != nil {
		t.Fatal(err)
	}
	got, err := s.Decisions(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Actor != "bob" || got[0].Fields["party_a"] != "Acme Corporation" || got[0].Action != countersign.ActionCorrect {
		t.Fatalf("decisions = %+v", got)
	}
	r, err := s.GetReview(ctx, d.ReviewID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != countersign.ReviewClosed || r.ClosedBy != "bob" || r.Outcome != countersign.ActionCorrect || r.ClosedAt == nil {
		t.Fatalf("review not closed by the decision: %+v", r)
	}
}

func mustCreate(t *testing.T, s countersign.Store, id string) {
	t.Helper()
	if _, _, err := s.CreateDocument(context.Background(), newDocument(id)); err != nil {
		t.Fatal(err)
	}
}

func event(id, doc string, data any) countersign.AuditEvent {
	raw, err := audit.Canonical(data)
	if err != nil {
		panic(err)
	}
	return countersign.AuditEvent{
		ID: id, DocumentID: doc, Type: countersign.EventDraftCreated, Actor: countersign.SystemActor,
		Channel: countersign.ChannelWorkflow, At: t0, Data: raw, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
	}
}

func appendN(t *testing.T, s countersign.Store, n int) []countersign.AuditEvent {
	t.Helper()
	var out []countersign.AuditEvent
	for i := 1; i <= n; i++ {
		e, err := s.AppendAudit(context.Background(), event(fmt.Sprintf("review/d/%d", i), "d", map[string]any{"n": i}))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func testAuditChain(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	events := appendN(t, s, 3)
	if events[0].Seq != 1 || events[0].PrevHash != audit.Genesis || events[2].Seq != 3 || events[2].PrevHash != events[1].Hash {
		t.Fatalf("chain not linked: %+v", events)
	}
	other, err := s.AppendAudit(ctx, event("review/e/1", "e", map[string]any{"html": "<b>&</b>", "z": 1, "a": []int{1}}))
	if err != nil {
		t.Fatal(err)
	}
	docEvents, err := s.DocumentAudit(ctx, "d")
	if err != nil || len(docEvents) != 3 {
		t.Fatalf("DocumentAudit = %d events, %v", len(docEvents), err)
	}
	for i, e := range docEvents {
		if e.Hash != events[i].Hash || string(e.Data) != string(events[i].Data) || !e.At.Equal(events[i].At) || e.TraceID != events[i].TraceID {
			t.Fatalf("event %d read back differs:\n got %+v\nwant %+v", i, e, events[i])
		}
	}
	if got := string(other.Data); got != `{"a":[1],"html":"<b>&</b>","z":1}` {
		t.Fatalf("canonical data = %s", got)
	}
	report, err := audit.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK || report.Events != 4 || report.Head != other.Hash {
		t.Fatalf("verify = %+v", report)
	}
}

func testAuditIdempotent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	first := appendN(t, s, 2)
	retry := event("review/d/2", "d", map[string]any{"n": "a retry may carry other data"})
	retry.At = t0.Add(time.Minute)
	got, err := s.AppendAudit(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 2 || got.Hash != first[1].Hash {
		t.Fatalf("retried append = seq %d hash %s, want the stored event (seq 2, %s)", got.Seq, got.Hash, first[1].Hash)
	}
	report, _ := audit.Verify(ctx, s)
	if !report.OK || report.Events != 2 {
		t.Fatalf("after a retried append: %+v", report)
	}
}

func testAuditConcurrent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Every event is appended twice, as a retried activity would.
				e := event(fmt.Sprintf("review/w%d/%d", w, i), fmt.Sprintf("w%d", w), map[string]int{"i": i})
				for range 2 {
					if _, err := s.AppendAudit(ctx, e); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	report, err := audit.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK || report.Events != writers*each {
		t.Fatalf("concurrent appends: %+v, want %d events in one unbroken chain", report, writers*each)
	}
}

func testAuditScanBatches(t *testing.T, s countersign.Store) {
	n := store.ScanBatch + 3
	appendN(t, s, n)
	var seqs []int64
	err := s.ScanAudit(context.Background(), 2, func(e countersign.AuditEvent) error {
		seqs = append(seqs, e.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != n-2 || seqs[0] != 3 || seqs[len(seqs)-1] != int64(n) {
		t.Fatalf("scan after 2 read %d events (%d..%d), want %d", len(seqs), seqs[0], seqs[len(seqs)-1], n-2)
	}
}

// testAuditTamper changes the audit table behind the store's back and checks
// that verification names the right event.
func testAuditTamper(t *testing.T, h Harness) {
	cases := []struct {
		name    string
		tamper  func(t *testing.T, s countersign.Store, events []countersign.AuditEvent) []string
		wantSeq int64
		reason  string
		// verified is how many events verify before the break.
		verified int64
	}{
		{
			name: "changed byte",
			tamper: func(t *testing.T, s countersign.Store, _ []countersign.AuditEvent) []string {
				return []string{`UPDATE audit_events SET data = '{"n":9}' WHERE seq = 3`}
			},
			wantSeq: 3, reason: "does not match its hash", verified: 2,
		},
		{
			name: "changed actor",
			tamper: func(t *testing.T, s countersign.Store, _ []countersign.AuditEvent) []string {
				return []string{`UPDATE audit_events SET actor = 'mallory' WHERE seq = 4`}
			},
			wantSeq: 4, reason: "does not match its hash", verified: 3,
		},
		{
			name: "deleted event",
			tamper: func(t *testing.T, s countersign.Store, _ []countersign.AuditEvent) []string {
				return []string{`DELETE FROM audit_events WHERE seq = 3`}
			},
			wantSeq: 4, reason: "events 3 to 3 are missing", verified: 2,
		},
		{
			name: "reordered events",
			tamper: func(t *testing.T, s countersign.Store, _ []countersign.AuditEvent) []string {
				return []string{
					`UPDATE audit_events SET seq = 1003 WHERE seq = 3`,
					`UPDATE audit_events SET seq = 3 WHERE seq = 4`,
					`UPDATE audit_events SET seq = 4 WHERE seq = 1003`,
				}
			},
			wantSeq: 3, reason: "reordered", verified: 2,
		},
		{
			name: "rewritten event with its hash recomputed",
			tamper: func(t *testing.T, s countersign.Store, events []countersign.AuditEvent) []string {
				forged := events[2]
				forged.Data = json.RawMessage(`{"n":33}`)
				forged.Hash = audit.Hash(forged)
				return []string{fmt.Sprintf(`UPDATE audit_events SET data = '%s', hash = '%s' WHERE seq = 3`, forged.Data, forged.Hash)}
			},
			wantSeq: 4, reason: "prev_hash", verified: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.New(t)
			events := appendN(t, s, 5)
			if report, _ := audit.Verify(context.Background(), s); !report.OK {
				t.Fatalf("untouched chain does not verify: %+v", report)
			}
			for _, stmt := range tc.tamper(t, s, events) {
				h.Exec(t, s, stmt)
			}
			report, err := audit.Verify(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if report.OK || report.Broken == nil {
				t.Fatalf("tampering not detected: %+v", report)
			}
			if report.Broken.Seq != tc.wantSeq || !strings.Contains(report.Broken.Reason, tc.reason) {
				t.Fatalf("broken at seq %d (%s), want seq %d with %q", report.Broken.Seq, report.Broken.Reason, tc.wantSeq, tc.reason)
			}
			if report.Events != tc.verified {
				t.Fatalf("verified %d events before the break, want %d", report.Events, tc.verified)
			}
		})
	}
}

func testTaskTypes(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	snap := countersign.TaskTypeSnapshot{Name: "contract-review", Version: "v1", Source: []byte("name: contract-review\n"), CreatedAt: t0}
	for range 2 {
		if err := s.PutTaskType(ctx, snap); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetTaskType(ctx, "v1")
	if err != nil || string(got.Source) != string(snap.Source) || got.Name != snap.Name {
		t.Fatalf("GetTaskType = %+v, %v", got, err)
	}
	if _, err := s.GetTaskType(ctx, "v2"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("GetTaskType(unknown) = %v, want not found", err)
	}
}

func newCalibration(taskType, version string, created time.Time) *countersign.Calibration {
	return &countersign.Calibration{
		TaskType: taskType,
		Version:  version,
		Fields: map[string]countersign.Curve{
			"party_a": {X: []float64{0.1, 0.30000000000000004, 0.9}, Y: []float64{1e-7, 0.5, 0.97}},
		},
		Pooled:    countersign.Curve{X: []float64{0, 1}, Y: []float64{0.2, 0.8}},
		CreatedAt: created,
		CreatedBy: "calibrate",
		Active:    true,
		Report: countersign.CalibrationReport{
			Documents:        42,
			TaskTypeVersions: []string{"abc123"},
			Fields:           []countersign.FieldReliability{{Field: "party_a", Samples: 42, Accuracy: 0.9, ECEBefore: 0.12, ECEAfter: 0.03, Own: true}},
			Pooled:           countersign.FieldReliability{Field: "*", Samples: 42, Accuracy: 0.9, ECEBefore: 0.1, ECEAfter: 0.04},
		},
	}
}

func testCalibrations(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	if _, err := s.LatestCalibration(ctx, "contract-review"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("LatestCalibration before any = %v, want not found", err)
	}
	latest := func(taskType string) *countersign.Calibration {
		t.Helper()
		c, err := s.LatestCalibration(ctx, taskType)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	put := func(c *countersign.Calibration) {
		t.Helper()
		if err := s.PutCalibration(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	v1 := newCalibration("contract-review", "v1", t0.Add(500*time.Nanosecond))
	put(v1)
	want := *v1
	want.CreatedAt = t0 // kept to the microsecond, as every stored time
	if got := latest("contract-review"); !reflect.DeepEqual(got, &want) {
		t.Fatalf("LatestCalibration = %+v, want %+v", got, &want)
	}

	// Storing a known version again changes nothing, even with other content.
	again := newCalibration("contract-review", "v1", t0.Add(24*time.Hour))
	again.CreatedBy = "mallory"
	put(again)
	if got := latest("contract-review"); got.CreatedBy != "calibrate" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("storing v1 again replaced it: %+v", got)
	}

	// The newest by creation time wins; of two created at the same time, the
	// one stored last. Storing an older one later does not make it the latest.
	put(newCalibration("contract-review", "v2", t0.Add(time.Hour)))
	put(newCalibration("contract-review", "v3", t0.Add(time.Hour)))
	put(newCalibration("contract-review", "v0", t0.Add(-time.Hour)))
	if got := latest("contract-review"); got.Version != "v3" {
		t.Fatalf("latest calibration = %s, want v3", got.Version)
	}

	// Task types keep their own calibrations, even under the same version.
	put(newCalibration("pii-extraction", "v1", t0.Add(48*time.Hour)))
	if got := latest("pii-extraction"); got.TaskType != "pii-extraction" || got.Version != "v1" {
		t.Fatalf("latest pii-extraction calibration = %s@%s", got.TaskType, got.Version)
	}
	if got := latest("contract-review"); got.Version != "v3" {
		t.Fatalf("another task type's calibration changed the latest: %s", got.Version)
	}
	if _, err := s.LatestCalibration(ctx, "nope"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("LatestCalibration(unknown) = %v, want not found", err)
	}
}

// newModel is a calibration with a learned model, as calibrate fits them.
func newModel(taskType, version string, created time.Time, active bool) *countersign.Calibration {
	auc := 0.8125
	c := &countersign.Calibration{
		TaskType:  taskType,
		Version:   version,
		CreatedAt: created,
		CreatedBy: "calibrate",
		Model: &countersign.ConfidenceModel{
			Features: []string{"grounding", "logit:token_prob", "absent:token_prob"},
			Fields:   map[string][]float64{"party_a": {0.5, 1.25, 0.75, -0.3333333333333333}},
			Pooled:   []float64{0.25, 1, 0.5, -0.125},
			Document: countersign.Platt{A: 0.9, B: 0.1},
			Floor:    1.0 / 152,
		},
		Seed:           -7243,
		Holdout:        0.5,
		TrainedThrough: created,
		Active:         active,
		Report: countersign.CalibrationReport{
			Documents: 150, HeldOut: 148, TaskTypeVersions: []string{"abc123"},
			Fields:   []countersign.FieldReliability{{Field: "party_a", Samples: 150, Accuracy: 0.9, ECEBefore: 0.12, ECEAfter: 0.03, Brier: 0.07, AUC: &auc, Own: true}},
			Pooled:   countersign.FieldReliability{Field: "*", Samples: 150, Accuracy: 0.9, ECEBefore: 0.1, ECEAfter: 0.04, Brier: 0.07, AUC: &auc},
			Signals:  []countersign.SignalDiscrimination{{Signal: "grounding", Present: 150, AUC: &auc}, {Signal: "judge"}},
			Document: &countersign.DocumentReliability{Documents: 150, Accuracy: 0.8, ECEBefore: 0.2, ECEAfter: 0.05, BrierBefore: 0.2, BrierAfter: 0.1, AUCBefore: 0.6, AUCAfter: 0.85, BaselineBrier: 0.2},
		},
	}
	if !active {
		c.Inactive = "not better out of sample than the active calibration"
	}
	return c
}

// testActiveCalibration checks that routing's calibration is the newest one
// stored active, that inactive ones are kept (and are the latest), and that
// a calibration stored by a release before calibrations could be inactive
// counts as active.
func testActiveCalibration(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.New(t)
	active := func(taskType string) *countersign.Calibration {
		t.Helper()
		c, err := s.ActiveCalibration(ctx, taskType)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	put := func(c *countersign.Calibration) {
		t.Helper()
		if err := s.PutCalibration(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ActiveCalibration(ctx, "contract-review"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("ActiveCalibration before any = %v, want not found", err)
	}
	put(newModel("contract-review", "m0", t0, false))
	if _, err := s.ActiveCalibration(ctx, "contract-review"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("ActiveCalibration with only an inactive one = %v, want not found", err)
	}

	m1 := newModel("contract-review", "m1", t0.Add(time.Hour), true)
	put(m1)
	put(newModel("contract-review", "m2", t0.Add(2*time.Hour), false))
	if got := active("contract-review"); !reflect.DeepEqual(got, m1) {
		t.Fatalf("ActiveCalibration = %+v, want %+v", got, m1)
	}
	latest, err := s.LatestCalibration(ctx, "contract-review")
	if err != nil || latest.Version != "m2" || latest.Active || latest.Inactive == "" {
		t.Fatalf("LatestCalibration = %+v, %v: want the inactive m2 with its reason", latest, err)
	}
	put(newModel("contract-review", "m3", t0.Add(3*time.Hour), true))
	put(newModel("pii-extraction", "m4", t0.Add(4*time.Hour), true))
	if got := active("contract-review"); got.Version != "m3" || !got.Active {
		t.Fatalf("active calibration = %s (active %v), want m3", got.Version, got.Active)
	}

	// As the previous release stored it: no active column, none in the JSON.
	h.Exec(t, s, `INSERT INTO calibrations (task_type, version, created_at, created_by, calibration)
		VALUES ('claims', 'old', '2026-01-01T00:00:00.000000Z', 'calibrate',
		'{"task_type":"claims","version":"old","fields":{},"pooled":{"x":[0,1],"y":[0.1,0.9]},"created_at":"2026-01-01T00:00:00Z","created_by":"calibrate","report":{"documents":40,"task_type_versions":null,"fields":null,"pooled":{"field":"","samples":0,"accuracy":0,"ece_before":0,"ece_after":0,"own":false}}}')`)
	if got := active("claims"); got.Version != "old" || !got.Active || got.Model != nil || got.Curve("x").Apply(0.5) != 0.5 {
		t.Fatalf("a calibration of the previous release = %+v, want it active with its curve", got)
	}
}

func testTokens(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	expires := t0.Add(30 * 24 * time.Hour)
	tok := &countersign.Token{ID: "t1", Hash: "h1", User: "alice", Role: countersign.RoleReviewer, Groups: []string{"contracts", "claims-eu"}, CreatedAt: t0, ExpiresAt: &expires}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, &countersign.Token{ID: "t2", Hash: "h1", User: "eve", Role: countersign.RoleAdmin, CreatedAt: t0}); err == nil {
		t.Fatal("a second token with the same hash was stored")
	}
	got, err := s.TokenByHash(ctx, "h1")
	if err != nil || got.User != "alice" || got.Role != countersign.RoleReviewer || got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) ||
		strings.Join(got.Groups, ",") != "contracts,claims-eu" {
		t.Fatalf("TokenByHash = %+v, %v", got, err)
	}
	if _, err := s.TokenByHash(ctx, "h2"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("TokenByHash(unknown) = %v, want not found", err)
	}
	if n, err := s.CountTokens(ctx); err != nil || n != 1 {
		t.Fatalf("CountTokens = %d, %v", n, err)
	}
	testTokenRevocation(t, s)
}

// testTokenRevocation continues testTokens: listing tokens without their
// hashes, and revoking one, once.
func testTokenRevocation(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	if got, err := s.TokenByHash(ctx, "h1"); err != nil || got.RevokedAt != nil || got.RevokedBy != "" || got.RevokeReason != "" {
		t.Fatalf("a new token is revoked: %+v, %v", got, err)
	}
	if err := s.CreateToken(ctx, &countersign.Token{ID: "t0", Hash: "h0", User: "bob", Role: countersign.RoleAdmin, CreatedAt: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListTokens(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "t0" || list[1].ID != "t1" {
		t.Fatalf("ListTokens = %+v, %v, want t0 then t1", list, err)
	}
	if list[0].Hash != "" || list[1].Hash != "" {
		t.Fatalf("ListTokens shows hashes: %+v", list)
	}
	if list[1].User != "alice" || list[1].Role != countersign.RoleReviewer || !list[1].CreatedAt.Equal(store.Time(t0)) ||
		list[1].ExpiresAt == nil || !list[1].ExpiresAt.Equal(store.Time(t0.Add(30*24*time.Hour))) || list[0].ExpiresAt != nil {
		t.Fatalf("ListTokens = %+v", list)
	}

	at := t0.Add(time.Hour)
	revoked, err := s.RevokeToken(ctx, "t1", "root", "left the team", at)
	if err != nil || revoked.ID != "t1" || revoked.User != "alice" || revoked.Hash != "" ||
		revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(store.Time(at)) || revoked.RevokedBy != "root" || revoked.RevokeReason != "left the team" {
		t.Fatalf("RevokeToken = %+v, %v", revoked, err)
	}
	got, err := s.TokenByHash(ctx, "h1")
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(store.Time(at)) || got.RevokedBy != "root" || got.RevokeReason != "left the team" {
		t.Fatalf("TokenByHash after revocation = %+v, %v", got, err)
	}
	// A retry changes nothing: the first revocation's time stays.
	again, err := s.RevokeToken(ctx, "t1", "root", "left the team", at.Add(time.Minute))
	if err != nil || !again.RevokedAt.Equal(store.Time(at)) {
		t.Fatalf("RevokeToken retried = %+v, %v", again, err)
	}
	if _, err := s.RevokeToken(ctx, "t1", "other", "leaked", at); !errors.Is(err, countersign.ErrConflict) || !strings.Contains(err.Error(), "already revoked by root") {
		t.Fatalf("RevokeToken of a revoked token by someone else = %v, want a conflict", err)
	}
	if _, err := s.RevokeToken(ctx, "nope", "root", "x", at); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("RevokeToken(unknown) = %v, want not found", err)
	}
	list, err = s.ListTokens(ctx)
	if err != nil || len(list) != 2 || list[0].RevokedAt != nil || list[1].RevokedAt == nil || list[1].RevokedBy != "root" {
		t.Fatalf("ListTokens after revocation = %+v, %v", list, err)
	}
}
