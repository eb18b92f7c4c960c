package api

import (
	"net/http"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/rest"
)

func (h *handlers) submit(w http.ResponseWriter, r *http.Request) {
	req, err := parseSubmit(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes), h.MaxMetadataKeys)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	doc, created, err := h.Dispatch.Submit(r.Context(), dispatch.Submission{
		TaskType:    req.TaskType,
		ExternalID:  req.ExternalID,
		Content:     req.Content,
		Metadata:    req.Metadata,
		SubmittedBy: principal(r).User,
		Channel:     channel(r),
		Batch:       req.Batch,
		Prelabel:    req.Prelabel,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusAccepted, SubmitResponse{ID: doc.ID, Status: doc.Status, Created: created, Batch: doc.Batch})
}

// channel is the channel a request came through: the CLI says so in a header.
func channel(r *http.Request) countersign.Channel {
	if r.Header.Get("X-Countersign-Channel") == string(countersign.ChannelCLI) {
		return countersign.ChannelCLI
	}
	return countersign.ChannelAPI
}

func (h *handlers) getDocument(w http.ResponseWriter, r *http.Request) {
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
	view := DocumentView{Document: doc, Decisions: []countersign.Decision{}, Disposition: doc.Final.Disposition()}
	reviews, err := h.Store.ReviewsForDocument(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(reviews) > 0 {
		view.Review = &reviews[len(reviews)-1]
	}
	decisions, err := h.Store.Decisions(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if decisions, view.Hidden = countersign.Visible(reviews, decisions, principal(r)); decisions != nil {
		view.Decisions = decisions
	}
	rest.WriteJSON(w, http.StatusOK, view)
}
