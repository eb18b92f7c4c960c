package api

import (
	"net/http"
	"strconv"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/fieldview"
	"github.com/countersign/countersign/internal/rest"
)

func (h *handlers) listReviews(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := countersign.ReviewFilter{TaskType: q.Get("task_type"), Cursor: q.Get("cursor")}
	switch status := q.Get("status"); status {
	case "", string(countersign.ReviewPending):
		f.Status = countersign.ReviewPending
	case string(countersign.ReviewClosed):
		f.Status = countersign.ReviewClosed
	case "all":
	default:
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "unknown status %q: use pending, closed or all", status))
		return
	}
	switch kind := countersign.ReviewKind(q.Get("kind")); kind {
	case "", countersign.ReviewGate, countersign.ReviewAudit:
		f.Kind = kind
	default:
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "unknown kind %q: use review or audit", kind))
		return
	}
	// The store refuses an order it does not know, naming it.
	f.Order = countersign.ReviewOrder(q.Get("order"))
	if limit := q.Get("limit"); limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 {
			h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "limit must be a positive whole number, not %q", limit))
			return
		}
		f.Limit = n
	}
	// A reviewer's queue holds only the task types of their groups.
	p := principal(r)
	if f.TaskType != "" {
		if err := h.mayReview(p, f.TaskType); err != nil {
			h.fail(w, r, err)
			return
		}
	} else if f.TaskTypes = h.reviewableBy(p); f.TaskTypes != nil && len(f.TaskTypes) == 0 {
		rest.WriteJSON(w, http.StatusOK, ReviewList{Reviews: []countersign.Review{}})
		return
	}
	page, err := h.Store.ListReviews(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(page.Reviews) == 0 && f.TaskType != "" && f.Cursor == "" {
		// A typo must not read as an empty queue. A task type no longer
		// configured may still have reviews, of any status, so only a name
		// that is neither configured nor has any is refused.
		if err := h.knownTaskType(r.Context(), f.TaskType, p); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if page.Reviews == nil {
		page.Reviews = []countersign.Review{}
	}
	rest.WriteJSON(w, http.StatusOK, ReviewList{Reviews: page.Reviews, NextCursor: page.NextCursor})
}

// getReview answers what a person sees of a review before deciding it
// (ReviewView).
func (h *handlers) getReview(w http.ResponseWriter, r *http.Request) {
	review, err := h.Dispatch.Review(r.Context(), r.PathValue("id"), principal(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	doc, err := h.Store.GetDocument(r.Context(), review.DocumentID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	decisions, err := h.Store.Decisions(r.Context(), doc.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	view := ReviewView{Review: *review, Document: doc, Fields: []ReviewField{}, Decisions: []countersign.Decision{}}
	for _, d := range decisions {
		switch {
		case d.ReviewID != review.ID:
		case review.Hides(d, principal(r)):
			view.Hidden++
		default:
			view.Decisions = append(view.Decisions, d)
		}
	}
	// The fields as the task type version the document ran under lays
	// them out, as the web page does; the rules' descriptions from it,
	// else from the version configured now.
	var pinned, current *countersign.TaskType
	if h.Dispatch.Resolver != nil {
		pinned, _ = h.Dispatch.Resolver.Version(r.Context(), doc.TaskTypeVersion)
	}
	if h.Dispatch.TaskTypes != nil {
		current, _ = h.Dispatch.TaskTypes.Get(doc.TaskType)
	}
	if pinned == nil {
		pinned = current // its snapshot gone: the fields as configured now
	}
	view.Why = []Reason{}
	for _, r := range fieldview.Explain(review.Reasons, pinned, current) {
		view.Why = append(view.Why, Reason{Text: r.Text, Rule: r.Rule})
	}
	for _, f := range fieldview.List(pinned, doc) {
		view.Fields = append(view.Fields, ReviewField{Name: f.Name, Title: f.Title, Required: f.Required, Present: f.Present,
			Value: f.Value, Confidence: f.Confidence, Reasons: f.Reasons, Evidence: f.Evidence})
	}
	rest.WriteJSON(w, http.StatusOK, view)
}

// decide sends the decision to the review's workflow (see
// dispatch.Dispatcher.Decide).
func (h *handlers) decide(w http.ResponseWriter, r *http.Request) {
	req, err := parseDecision(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes), h.inputLimits())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	dec := dispatch.Decision{Action: req.Action, Fields: req.Fields, Reason: req.Reason, Approves: req.Approves}
	decided, err := h.Dispatch.Decide(r.Context(), r.PathValue("id"), principal(r), channel(r), dec, r.Header.Get("Idempotency-Key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, decisionResponse(decided))
}

// decisionResponse is a decision or veto as the API answers it.
func decisionResponse(d *dispatch.Decided) DecisionResponse {
	return DecisionResponse{Decision: d.Decision, Document: DocumentStatus{ID: d.DocumentID, Status: d.Status}}
}

// claimReview claims a review for the caller, or renews their claim (see
// dispatch.Dispatcher.Claim).
func (h *handlers) claimReview(w http.ResponseWriter, r *http.Request) {
	review, err := h.Dispatch.Claim(r.Context(), r.PathValue("id"), principal(r), channel(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, ClaimResponse{Review: *review})
}

// releaseClaim releases a claim (see dispatch.Dispatcher.Release).
func (h *handlers) releaseClaim(w http.ResponseWriter, r *http.Request) {
	review, err := h.Dispatch.Release(r.Context(), r.PathValue("id"), principal(r), channel(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, ClaimResponse{Review: *review})
}

// assignReview assigns a review to a person (see
// dispatch.Dispatcher.Assign); the answer is the review as assigned.
func (h *handlers) assignReview(w http.ResponseWriter, r *http.Request) {
	var req AssignRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	review, err := h.Dispatch.Assign(r.Context(), r.PathValue("id"), req.To, principal(r), channel(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, ClaimResponse{Review: *review})
}

// nextReview claims the best review for the caller (see
// dispatch.Dispatcher.Next), of the task types they may review.
func (h *handlers) nextReview(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := principal(r)
	f := countersign.ReviewFilter{TaskType: q.Get("task_type")}
	switch kind := countersign.ReviewKind(q.Get("kind")); kind {
	case "", countersign.ReviewGate, countersign.ReviewAudit:
		f.Kind = kind
	default:
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "unknown kind %q: use review or audit", kind))
		return
	}
	if f.TaskType != "" {
		if err := h.knownTaskType(r.Context(), f.TaskType, p); err != nil {
			h.fail(w, r, err)
			return
		}
		if err := h.mayReview(p, f.TaskType); err != nil {
			h.fail(w, r, err)
			return
		}
	} else if f.TaskTypes = h.reviewableBy(p); f.TaskTypes != nil && len(f.TaskTypes) == 0 {
		rest.WriteJSON(w, http.StatusOK, NextResponse{})
		return
	}
	review, err := h.Dispatch.Next(r.Context(), p, channel(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, NextResponse{Review: review})
}
