package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/rest"
)

// getBatch answers where a batch stands (countersign.BatchProgress).
func (h *handlers) getBatch(w http.ResponseWriter, r *http.Request) {
	if err := h.mayReadBatches(principal(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	name, err := batchParam(r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.Store.BatchProgress(r.Context(), name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, p)
}

// listBatches answers a page of batches, the most recently begun first.
func (h *handlers) listBatches(w http.ResponseWriter, r *http.Request) {
	if err := h.mayReadBatches(principal(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := countersign.BatchFilter{Cursor: q.Get("cursor")}
	if limit := q.Get("limit"); limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 {
			h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "limit must be a positive whole number, not %q", limit))
			return
		}
		f.Limit = n
	}
	page, err := h.Store.ListBatches(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, BatchList{Batches: page.Batches, NextCursor: page.NextCursor})
}

// mayReadBatches refuses batches to a reviewer closed to some task types
// (review groups): a batch's name and counts span every task type its
// documents have, and the store does not count them per task type, so a
// reviewer who may not see all of them sees none. Every other role, and a
// reviewer open to every task type, may read them.
func (h *handlers) mayReadBatches(p countersign.Principal) error {
	if open := h.reviewableBy(p); open != nil {
		return countersign.Errorf(countersign.CodeForbidden, "batches span task types your review groups do not cover (you may review: %s); ask a submitter, approver or auditor for a batch's progress", listOrNone(open))
	}
	return nil
}

// listOrNone joins names, or says none.
func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// batchParam reads a batch name a request asks about: a name that could
// not be one is a bad request, rather than a batch not found.
func batchParam(name string) (string, error) {
	if err := countersign.CheckBatchName(name); err != nil {
		return "", countersign.Errorf(countersign.CodeBadRequest, "%v", err)
	}
	return name, nil
}
