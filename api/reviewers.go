package api

import (
	"net/http"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/report"
	"github.com/countersign/countersign/internal/rest"
)

// reviewers reports how each person of a task type decides: approval rate,
// decision times, gold accuracy and rubber-stamping signals. For approvers
// and auditors only; a reviewer does not see their colleagues' scores, nor
// which of their reviews were gold.
func (h *handlers) reviewers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tt, err := h.Dispatch.TaskTypes.Get(q.Get("task_type"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := countersign.DocumentFilter{TaskType: tt.Name}
	if f.Since, f.Until, err = timeRange(q); err != nil {
		h.fail(w, r, err)
		return
	}
	out, err := report.BuildReviewers(r.Context(), h.Store, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, out)
}
