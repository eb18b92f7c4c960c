package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/fieldview"
)

// queuePage is how many pending reviews a page of the queue shows; the
// store sorts them (countersign.ReviewsByDue) and the page links to the
// next, so the queue is right at any number of pending reviews.
const queuePage = 100

// queueView is the queue page's data.
type queueView struct {
	TaskTypes []string
	TaskType  string
	// Order is the rows' order: countersign.ReviewsByValue, the default,
	// or ReviewsByDue.
	Order countersign.ReviewOrder
	Rows  []queueRow
	// After is the cursor the page starts after (empty for the first);
	// Next the one the next page starts after, empty on the last.
	After, Next string
	// First is the position of the page's first row, counting from 1.
	First     int
	CanDecide bool
	// CanClaim is whether the page offers the next review to take; None
	// that the person asked for it and none was left for them.
	CanClaim bool
	None     bool
	At       time.Time
}

// PageURL is the queue page with its filter, at its page.
func (v queueView) PageURL() string { return v.url("/ui/queue", v.After, v.First) }

// RowsURL is the queue's table alone, with the page's filter and page.
func (v queueView) RowsURL() string { return v.url("/ui/queue/rows", v.After, v.First) }

// NextURL is the next page of the queue.
func (v queueView) NextURL() string { return v.url("/ui/queue", v.Next, v.First+len(v.Rows)) }

// FirstURL is the first page of the queue.
func (v queueView) FirstURL() string { return v.url("/ui/queue", "", 1) }

// Last is the position of the page's last row.
func (v queueView) Last() int { return v.First + len(v.Rows) - 1 }

func (v queueView) url(path, after string, first int) string {
	q := url.Values{}
	if v.TaskType != "" {
		q.Set("task_type", v.TaskType)
	}
	if v.Order == countersign.ReviewsByDue {
		q.Set("order", string(v.Order))
	}
	if after != "" {
		q.Set("after", after)
		q.Set("from", strconv.Itoa(first))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// queueRow is one pending review, with how long it has waited and how long
// it has left.
type queueRow struct {
	countersign.Review
	// Name names the document to people: its title, file name or
	// external ID (countersign.DocumentLabel.Name); empty when it has none.
	Name string
	// Why is the review's reasons in plain words (fieldview.Explain).
	Why     []fieldview.Reason
	Age     time.Duration
	DueIn   time.Duration
	Overdue bool
	// HeldBy is who holds a live claim on the review, "" for nobody; Mine
	// whether it is the person looking.
	HeldBy string
	Mine   bool
	// Place says why the row stands where it does in the queue's order.
	Place string
}

func (h *handler) queue(w http.ResponseWriter, r *http.Request, sess *session) {
	h.serveQueue(w, r, sess, "")
}

// queueRows is the queue's table alone, which the page polls for.
func (h *handler) queueRows(w http.ResponseWriter, r *http.Request, sess *session) {
	h.serveQueue(w, r, sess, "queue-table")
}

func (h *handler) serveQueue(w http.ResponseWriter, r *http.Request, sess *session, fragment string) {
	query := r.URL.Query()
	v := queueView{TaskType: query.Get("task_type"), After: query.Get("after"), First: 1, CanDecide: sess.Role.CanDecide(), At: h.Now(), Order: countersign.ReviewsByValue}
	if query.Get("order") == string(countersign.ReviewsByDue) {
		v.Order = countersign.ReviewsByDue
	}
	v.CanClaim, v.None = v.CanDecide && h.Claims != nil, query.Get("none") == "1"
	if n, err := strconv.Atoi(query.Get("from")); err == nil && n > 0 && v.After != "" {
		v.First = n
	}
	var all int
	v.TaskTypes, all = h.reviewable(sess)
	// Someone outside a task type's review groups reads only the task types
	// they may review, filtered in the store so that a page is full.
	var only []string
	if len(v.TaskTypes) < all {
		only = v.TaskTypes
		if len(only) == 0 {
			only = []string{""} // none: no review has an empty task type
		}
	}
	if v.TaskType != "" && !slices.Contains(v.TaskTypes, v.TaskType) {
		v.TaskTypes = append(v.TaskTypes, v.TaskType)
	}
	var err error
	v.Rows, v.Next, err = h.pending(r, v.Order, v.TaskType, only, v.After)
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	for i := range v.Rows {
		v.Rows[i].HeldBy = v.Rows[i].Holder(v.At)
		v.Rows[i].Mine = v.Rows[i].HeldBy == sess.User
	}
	h.render(w, r, http.StatusOK, "queue", fragment, view{Title: "Review queue", Nav: "queue", Session: sess, Data: v})
}

// reviewable names the task types configured now that the person may
// review, and says how many are configured.
func (h *handler) reviewable(sess *session) (names []string, all int) {
	types := h.TaskTypes.All()
	for _, tt := range types {
		if sess.MayReview(tt) {
			names = append(names, tt.Name)
		}
	}
	return names, len(types)
}

// pending reads a page of the pending reviews a person is asked to decide
// (the gate and audits; a veto is closed as it opens), the soonest due
// first, then the least confident, as the store sorts them, starting after
// the cursor after; it returns the cursor of the next page, empty on the
// last. taskType, when set, and only, when not empty, narrow the task
// types.
func (h *handler) pending(r *http.Request, order countersign.ReviewOrder, taskType string, only []string, after string) ([]queueRow, string, error) {
	now := h.Now()
	rows := make([]queueRow, 0, queuePage)
	filter := countersign.ReviewFilter{Status: countersign.ReviewPending, TaskType: taskType, TaskTypes: only, Order: order, Cursor: after, Now: now}
	for {
		filter.Limit = queuePage - len(rows)
		page, err := h.Store.ListReviews(r.Context(), filter)
		if err != nil {
			return nil, "", err
		}
		for _, rv := range page.Reviews {
			if rv.Kind == countersign.ReviewVeto {
				continue
			}
			row := queueRow{Review: rv, Age: now.Sub(rv.CreatedAt), DueIn: rv.DueAt.Sub(now), Overdue: !rv.DueAt.After(now)}
			row.Place = place(order, row)
			rows = append(rows, row)
		}
		if page.NextCursor == "" || len(rows) == queuePage {
			return rows, page.NextCursor, h.name(r, rows)
		}
		filter.Cursor = page.NextCursor
	}
}

// place says why row stands where it does in order.
func place(order countersign.ReviewOrder, row queueRow) string {
	switch {
	case row.Overdue:
		return "overdue: the most overdue first"
	case order == countersign.ReviewsByValue && row.Risk:
		return fmt.Sprintf("confidence %s, sent by a risk rule, so ranked as %s: an error here costs more", score(row.Confidence), score(row.Rank()))
	case order == countersign.ReviewsByValue:
		return fmt.Sprintf("confidence %s: the least confident next, the likeliest to be wrong", score(row.Confidence))
	}
	return "due in " + span2words(row.DueIn) + ": the soonest due first"
}

// name sets each row's document name, read for the page's documents at
// once, without their bodies, and its reasons in plain words.
func (h *handler) name(r *http.Request, rows []queueRow) error {
	ids := make([]string, 0, len(rows))
	for _, row := range rows {
		ids = append(ids, row.DocumentID)
	}
	labels, err := h.Store.DocumentLabels(r.Context(), ids)
	if err != nil {
		return err
	}
	types := map[string]*countersign.TaskType{}
	for i := range rows {
		rows[i].Name = labels[rows[i].DocumentID].Name()
		name := rows[i].TaskType
		if _, ok := types[name]; !ok {
			types[name] = h.taskType(name)
		}
		rows[i].Why = fieldview.Explain(rows[i].Reasons, types[name])
	}
	return nil
}

// taskType is the current version of a task type, nil when it is not
// configured any more.
func (h *handler) taskType(name string) *countersign.TaskType {
	tt, err := h.TaskTypes.Get(name)
	if err != nil {
		return nil
	}
	return tt
}
