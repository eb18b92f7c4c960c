package api

import (
	"net/http"
	"strconv"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/rest"
)

// getBatch answers where a batch stands (countersign.BatchProgress).
func (h *handlers) getBatch(w http.ResponseWriter, r *http.Request) {
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

// batchParam reads a batch name a request asks about: a name that could
// not be one is a bad request, rather than a batch not found.
func batchParam(name string) (string, error) {
	if err := countersign.CheckBatchName(name); err != nil {
		return "", countersign.Errorf(countersign.CodeBadRequest, "%v", err)
	}
	return name, nil
}
