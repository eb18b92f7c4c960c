package store_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

const pageQuery = `SELECT * FROM documents WHERE /* filter */ TRUE ORDER BY created_at, id LIMIT $1`

// TestFilterApply: the conditions take the marker's place, numbered after
// the query's own arguments, lists and times as each database takes them.
func TestFilterApply(t *testing.T) {
	since := time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)
	f := store.DocumentConditions(countersign.DocumentFilter{
		TaskType: "contract-review",
		Statuses: []countersign.Status{countersign.StatusAccepted, countersign.StatusRejected},
		Since:    since,
	}, &store.DocumentKey{CreatedAt: since.Add(time.Hour), ID: "d9"})
	for _, tc := range []struct {
		name    string
		dialect store.Dialect
		where   string
		args    []any
	}{
		{"postgres", store.Postgres,
			"task_type = $2 AND status = ANY($3) AND created_at >= $4 AND (created_at, id) > ($5, $6)",
			[]any{100, "contract-review", []string{"accepted", "rejected"}, since, since.Add(time.Hour), "d9"}},
		{"sqlite", store.SQLite,
			"task_type = ?2 AND status IN (?3, ?4) AND created_at >= ?5 AND (created_at, id) > (?6, ?7)",
			[]any{100, "contract-review", "accepted", "rejected", "2026-03-14T09:26:53.589793Z", "2026-03-14T10:26:53.589793Z", "d9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, args, err := tc.dialect.Apply(f, pageQuery, []any{100})
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Replace(pageQuery, store.FilterMarker, tc.where, 1); query != want {
				t.Errorf("query\n got %s\nwant %s", query, want)
			}
			if !reflect.DeepEqual(args, tc.args) {
				t.Errorf("arguments\n got %#v\nwant %#v", args, tc.args)
			}
		})
	}
}

// TestFilterApplyNothing: no condition leaves the query selecting every
// row, and a query without the marker is refused rather than run unfiltered.
func TestFilterApplyNothing(t *testing.T) {
	query, args, err := store.SQLite.Apply(store.DocumentConditions(countersign.DocumentFilter{}, nil), pageQuery, []any{100})
	if err != nil || query != pageQuery || !reflect.DeepEqual(args, []any{100}) {
		t.Fatalf("no filter = %q %v, %v; want the query as it is", query, args, err)
	}
	f := store.DocumentConditions(countersign.DocumentFilter{TaskType: "t"}, nil)
	if _, _, err := store.Postgres.Apply(f, `SELECT * FROM documents LIMIT $1`, []any{100}); err == nil {
		t.Fatal("a query without the filter marker ran")
	}
}

// TestReviewConditionsCursor: a page after a cursor starts after the
// review it names; a cursor that is not one is a bad request.
func TestReviewConditionsCursor(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	cursor := store.EncodeCursor(countersign.Review{ID: "d1-r1", CreatedAt: at}, countersign.ReviewsByCreation)
	f, err := store.ReviewConditions(countersign.ReviewFilter{Status: countersign.ReviewPending, TaskTypes: []string{"a", "b"}, Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	query, args, err := store.Postgres.Apply(f, `SELECT * FROM reviews WHERE /* filter */ TRUE LIMIT $1`, []any{51})
	if err != nil {
		t.Fatal(err)
	}
	if want := `SELECT * FROM reviews WHERE status = $2 AND task_type = ANY($3) AND (created_at, id) > ($4, $5) LIMIT $1`; query != want {
		t.Errorf("query\n got %s\nwant %s", query, want)
	}
	if want := []any{51, "pending", []string{"a", "b"}, at, "d1-r1"}; !reflect.DeepEqual(args, want) {
		t.Errorf("arguments\n got %#v\nwant %#v", args, want)
	}
	if _, err := store.ReviewConditions(countersign.ReviewFilter{Cursor: "not a cursor"}); !errors.Is(err, countersign.ErrBadRequest) {
		t.Fatalf("a bad cursor = %v, want a bad request", err)
	}
}
