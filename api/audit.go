package api

import (
	"net/http"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/rest"
)

func (h *handlers) documentAudit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	doc, err := h.Store.GetDocument(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.mayReview(principal(r), doc.TaskType); err != nil {
		h.fail(w, r, err)
		return
	}
	events, err := h.Store.DocumentAudit(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	reviews, err := h.Store.ReviewsForDocument(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := AuditEvents{}
	if out.Events, out.Hidden = countersign.VisibleEvents(reviews, events, principal(r)); out.Events == nil {
		out.Events = []countersign.AuditEvent{}
	}
	rest.WriteJSON(w, http.StatusOK, out)
}

// verifyAudit recomputes the whole chain, held to the checkpoints given as
// checkpoint=SEQ:HASH query parameters (see audit.Checkpoint; the caller
// checks their signatures), then holds the stored documents and decisions to
// it (audit.VerifyStore). It answers 200 either way: "ok" says whether both
// hold, "broken" names the first bad event, "mismatch" the first row that
// differs from its events, "rows" counts the rows checked, and
// "checkpoints" echoes the points the chain was held to, so that a caller
// can tell a server that checked them from one that ignored them.
func (h *handlers) verifyAudit(w http.ResponseWriter, r *http.Request) {
	var points []countersign.ChainPoint
	for _, raw := range r.URL.Query()["checkpoint"] {
		p, err := audit.ParsePoint(raw)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		points = append(points, p)
	}
	report, err := audit.VerifyStore(r.Context(), h.Store, points...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, report)
}
