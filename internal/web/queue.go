package web

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/countersign/countersign"
)

// maxQueue bounds how many pending reviews the queue reads and sorts; past
// it the page says the list is cut.
const maxQueue = 1000

// queueView is the queue page's data.
type queueView struct {
	TaskTypes []string
	TaskType  string
	Rows      []queueRow
	// Cut is set when more reviews are pending than the page reads.
	Cut       bool
	CanDecide bool
	At        time.Time
}

// PageURL is the queue page with its filter.
func (v queueView) PageURL() string { return v.url("/ui/queue") }

// RowsURL is the queue's table alone, with the page's filter.
func (v queueView) RowsURL() string { return v.url("/ui/queue/rows") }

func (v queueView) url(path string) string {
	if v.TaskType == "" {
		return path
	}
	return path + "?" + url.Values{"task_type": {v.TaskType}}.Encode()
}

// queueRow is one pending review, with how long it has waited and how long
// it has left.
type queueRow struct {
	countersign.Review
	Age     time.Duration
	DueIn   time.Duration
	Overdue bool
}

func (h *handler) queue(w http.ResponseWriter, r *http.Request, sess *session) {
	h.serveQueue(w, r, sess, "")
}

// queueRows is the queue's table alone, which the page polls for.
func (h *handler) queueRows(w http.ResponseWriter, r *http.Request, sess *session) {
	h.serveQueue(w, r, sess, "queue-table")
}

func (h *handler) serveQueue(w http.ResponseWriter, r *http.Request, sess *session, fragment string) {
	taskType := r.URL.Query().Get("task_type")
	rows, cut, err := h.pending(r, sess, taskType)
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	var names []string
	for _, tt := range h.TaskTypes.All() {
		if sess.MayReview(tt) {
			names = append(names, tt.Name)
		}
	}
	if taskType != "" && !slices.Contains(names, taskType) {
		names = append(names, taskType)
	}
	v := queueView{TaskTypes: names, TaskType: taskType, Rows: rows, Cut: cut, CanDecide: sess.Role.CanDecide(), At: h.Now()}
	h.render(w, r, http.StatusOK, "queue", fragment, view{Title: "Review queue", Nav: "queue", Session: sess, Data: v})
}

// pending reads the pending reviews a person is asked to decide (the gate
// and audits of the task types whose review groups they are in; a veto is
// closed as it opens) and sorts them by due time, then the least confident
// first.
func (h *handler) pending(r *http.Request, sess *session, taskType string) ([]queueRow, bool, error) {
	now := h.Now()
	var rows []queueRow
	filter := countersign.ReviewFilter{Status: countersign.ReviewPending, TaskType: taskType, Limit: 200}
	for {
		page, err := h.Store.ListReviews(r.Context(), filter)
		if err != nil {
			return nil, false, err
		}
		for _, rv := range page.Reviews {
			if rv.Kind == countersign.ReviewVeto {
				continue
			}
			if tt, err := h.TaskTypes.Get(rv.TaskType); err == nil && !sess.MayReview(tt) {
				continue
			}
			rows = append(rows, queueRow{Review: rv, Age: now.Sub(rv.CreatedAt), DueIn: rv.DueAt.Sub(now), Overdue: now.After(rv.DueAt)})
		}
		if page.NextCursor == "" {
			break
		}
		if len(rows) >= maxQueue {
			rows = rows[:maxQueue]
			return sortQueue(rows), true, nil
		}
		filter.Cursor = page.NextCursor
	}
	return sortQueue(rows), false, nil
}

func sortQueue(rows []queueRow) []queueRow {
	slices.SortStableFunc(rows, func(a, b queueRow) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		switch {
		case a.Confidence < b.Confidence:
			return -1
		case a.Confidence > b.Confidence:
			return 1
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
	return rows
}
