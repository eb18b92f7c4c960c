package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

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
	if got.Blind {
		t.Fatalf("a review opened without blind came back blind: %+v", got)
	}
	mustCreate(t, s, "d1b")
	blind := newReview("d1b", 1, t0)
	blind.Blind = true
	if err := s.OpenReview(ctx, blind); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetReview(ctx, blind.ID); err != nil || !got.Blind {
		t.Fatalf("a blind review came back %+v, %v", got, err)
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

// testReviewsByDue pages through pending reviews the soonest due first,
// then the least confident, then the oldest, with ties in due time and in
// confidence across page boundaries, and a review closed between pages.
func testReviewsByDue(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	// id: due in hours, confidence, created in seconds.
	reviews := []struct {
		id   string
		due  int
		conf float64
		at   int
	}{
		{"a", 5, 0.9, 0}, {"b", 1, 0.8, 1}, {"c", 1, 0.3, 2}, {"d", -2, 0.95, 3}, {"e", 1, 0.3, 1},
		{"f", 3, math.Nextafter(0.3, 1), 4}, {"g", 3, 0.3, 5}, {"h", 5, 0.9, 0}, {"i", 8, 0.5, 6},
	}
	for _, r := range reviews {
		mustCreate(t, s, r.id)
		rv := newReview(r.id, 1, t0.Add(time.Duration(r.at)*time.Second))
		rv.DueAt, rv.Confidence = t0.Add(time.Duration(r.due)*time.Hour), r.conf
		if err := s.OpenReview(ctx, rv); err != nil {
			t.Fatal(err)
		}
	}
	// d is overdue; b, c and e share a due time, c and e a confidence too
	// (e is older); f's confidence is the float64 after g's 0.3, so g
	// comes first only when confidences are kept and compared exactly; a
	// and h share everything but the ID.
	want := "d,e,c,b,g,f,a,h,i"
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(reviews) {
			t.Fatal("paging does not end")
		}
		page, err := s.ListReviews(ctx, countersign.ReviewFilter{Status: countersign.ReviewPending, Order: countersign.ReviewsByDue, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reviews {
			seen = append(seen, r.DocumentID)
		}
		if pages == 0 {
			// Closed while the first page is shown: the pages after it
			// go on from where it ended.
			closeReview(t, s, "b", countersign.ActionApprove)
			want = "d,e,c,g,f,a,h,i"
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if got := strings.Join(seen, ","); got != want {
		t.Fatalf("pending reviews by due = %s, want %s", got, want)
	}
	first, err := s.ListReviews(ctx, countersign.ReviewFilter{Status: countersign.ReviewPending, Order: countersign.ReviewsByDue, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	// A cursor of one order does not continue the other.
	if _, err := s.ListReviews(ctx, countersign.ReviewFilter{Cursor: first.NextCursor}); !errors.Is(err, countersign.ErrBadRequest) || !strings.Contains(err.Error(), "continues the due order, not the creation one") {
		t.Fatalf("a due cursor in creation order = %v, want a bad request naming the orders", err)
	}
	byCreation, err := s.ListReviews(ctx, countersign.ReviewFilter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListReviews(ctx, countersign.ReviewFilter{Order: countersign.ReviewsByDue, Cursor: byCreation.NextCursor}); !errors.Is(err, countersign.ErrBadRequest) {
		t.Fatalf("a creation cursor in due order = %v, want a bad request", err)
	}
	if _, err := s.ListReviews(ctx, countersign.ReviewFilter{Order: "worth"}); !errors.Is(err, countersign.ErrBadRequest) || !strings.Contains(err.Error(), `unknown review order "worth"`) {
		t.Fatalf("an unknown order = %v, want a bad request naming it", err)
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

// testReviewsByValue pages through pending reviews in value order: the
// overdue ones the most overdue first, then the rest the least confident
// first (then the soonest due), across page boundaries that fall inside
// each part and between them; a cursor of another order is refused.
func testReviewsByValue(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	now := t0.Add(10 * time.Hour)
	// id: due in hours from now, confidence, created in seconds.
	reviews := []struct {
		id   string
		due  int
		conf float64
		at   int
	}{
		{"a", -1, 0.9, 0}, {"b", -3, 0.95, 1}, {"c", -1, 0.2, 2}, {"d", 4, 0.6, 3}, {"e", 2, 0.1, 4},
		{"f", 1, 0.6, 5}, {"g", 6, 0.1, 6}, {"h", 3, 0.99, 7}, {"i", 5, 0.75, 8},
	}
	for _, r := range reviews {
		mustCreate(t, s, r.id)
		rv := newReview(r.id, 1, t0.Add(time.Duration(r.at)*time.Second))
		rv.DueAt, rv.Confidence = now.Add(time.Duration(r.due)*time.Hour), r.conf
		// A risk rule sent i: at 0.75 it ranks as a draft at 0.5.
		rv.Risk = r.id == "i"
		if err := s.OpenReview(ctx, rv); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.GetReview(ctx, countersign.ReviewID("i", 1)); err != nil || !got.Risk || got.Rank() != 0.5 {
		t.Fatalf("the risk review came back %+v, %v", got, err)
	}
	// Overdue: b (3h), then c before a (same due, c less confident). Then
	// e and g (0.1; e due sooner), i (a risk review at 0.75, ranked 0.5),
	// f and d (0.6; f due sooner), h.
	const want = "b,c,a,e,g,i,f,d,h"
	for _, limit := range []int{1, 2, 3, 100} {
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > len(reviews) {
				t.Fatal("paging does not end")
			}
			page, err := s.ListReviews(ctx, countersign.ReviewFilter{Status: countersign.ReviewPending, Order: countersign.ReviewsByValue, Limit: limit, Cursor: cursor, Now: now})
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
		if got := strings.Join(seen, ","); got != want {
			t.Fatalf("pending reviews by value, %d a page = %s, want %s", limit, got, want)
		}
	}
	first, err := s.ListReviews(ctx, countersign.ReviewFilter{Status: countersign.ReviewPending, Order: countersign.ReviewsByValue, Limit: 2, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListReviews(ctx, countersign.ReviewFilter{Order: countersign.ReviewsByDue, Cursor: first.NextCursor}); !errors.Is(err, countersign.ErrBadRequest) || !strings.Contains(err.Error(), "continues the value order, not the due one") {
		t.Fatalf("a value cursor in due order = %v, want a bad request naming the orders", err)
	}
	nan := base64.RawURLEncoding.EncodeToString([]byte("value|rest|" + store.FormatTime(now) + "|NaN|" + store.FormatTime(t0) + "|x"))
	if _, err := s.ListReviews(ctx, countersign.ReviewFilter{Order: countersign.ReviewsByValue, Cursor: nan}); !errors.Is(err, countersign.ErrBadRequest) {
		t.Fatalf("a cursor holding NaN = %v, want a bad request", err)
	}
	if _, err := s.ListReviews(ctx, countersign.ReviewFilter{Order: "best"}); !errors.Is(err, countersign.ErrBadRequest) || !strings.Contains(err.Error(), `"value"`) {
		t.Fatalf("an unknown order = %v, want a bad request naming the known ones", err)
	}
}
