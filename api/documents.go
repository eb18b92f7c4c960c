package api

import (
	"net/http"
	"strconv"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/pageimage"
	"github.com/countersign/countersign/internal/rest"
)

func (h *handlers) submit(w http.ResponseWriter, r *http.Request) {
	// A PDF comes base64 in the body: the body may be as large as the
	// largest PDF takes, whatever the limit on other requests.
	limit := h.MaxBodyBytes
	if h.Dispatch.PDF != nil {
		limit = max(limit, int64(h.Dispatch.PDF.Limits().MaxBytes)/3*4+64<<10)
	}
	if h.Dispatch.OCR != nil {
		limit = max(limit, int64(h.Dispatch.OCR.Limits().MaxBytes)/3*4+64<<10)
	}
	req, err := parseSubmit(http.MaxBytesReader(w, r.Body, limit), h.MaxMetadataKeys)
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
		Original:    req.ContentBase64,
		ContentType: req.ContentType,
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
	if doc.OriginalSHA256 != "" {
		o, err := h.Store.GetOriginal(r.Context(), doc.OriginalSHA256, false)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		view.Original = originalView(o, doc)
	}
	rest.WriteJSON(w, http.StatusOK, view)
}

// originalView describes doc's original and locates its draft's evidence
// on the pages. A layout made for other text than doc's locates nothing.
func originalView(o *countersign.Original, doc *countersign.Document) *OriginalView {
	v := &OriginalView{SHA256: o.SHA256, ContentType: o.ContentType, Size: o.Size}
	if o.Layout == nil || o.Layout.TextSHA256 != doc.ContentSHA256 {
		return v
	}
	v.Pages = o.Layout.Pages
	if doc.Draft != nil {
		for name, ev := range doc.Draft.Evidence {
			if boxes := o.Layout.Locate(ev.Start, ev.End); boxes != nil {
				if v.Evidence == nil {
					v.Evidence = map[string][]countersign.PageBoxes{}
				}
				v.Evidence[name] = boxes
			}
		}
	}
	return v
}

// getOriginal returns the file a document was extracted from, as it was
// submitted, to whoever may audit.
func (h *handlers) getOriginal(w http.ResponseWriter, r *http.Request) {
	doc, err := h.Store.GetDocument(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.mayReview(principal(r), doc.TaskType); err != nil {
		h.fail(w, r, err)
		return
	}
	if doc.OriginalSHA256 == "" {
		h.fail(w, r, countersign.Errorf(countersign.CodeNotFound, "document %s was submitted as text; it has no original file", doc.ID))
		return
	}
	o, err := h.Store.GetOriginal(r.Context(), doc.OriginalSHA256, true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", o.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(o.Data)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", `attachment; filename="`+doc.ID+extension(o.ContentType)+`"`)
	w.Header().Set("X-Content-SHA256", o.SHA256)
	w.WriteHeader(http.StatusOK)
	w.Write(o.Data)
}

// extension is the file name extension of an original's media type.
func extension(contentType string) string {
	switch contentType {
	case countersign.ContentTypePNG:
		return ".png"
	case countersign.ContentTypeJPEG:
		return ".jpg"
	case countersign.ContentTypeTIFF:
		return ".tiff"
	}
	return ".pdf"
}

// getPage returns one page of a document's original as a PNG image, to
// whoever may read the original; ?dpi= sets the resolution (default
// pageimage.DefaultDPI).
func (h *handlers) getPage(w http.ResponseWriter, r *http.Request) {
	page, err := strconv.Atoi(r.PathValue("page"))
	if err != nil {
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "page %q is not a page number: pages are numbered from 1", r.PathValue("page")))
		return
	}
	dpi := 0
	if s := r.URL.Query().Get("dpi"); s != "" {
		if dpi, err = strconv.Atoi(s); err != nil || dpi == 0 {
			h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "dpi %q is not a resolution in dots per inch", s))
			return
		}
	}
	doc, err := h.Store.GetDocument(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.mayReview(principal(r), doc.TaskType); err != nil {
		h.fail(w, r, err)
		return
	}
	if h.Pages == nil {
		h.fail(w, r, countersign.Errorf(countersign.CodeNotFound, "this server does not render pages"))
		return
	}
	png, err := h.Pages.PNG(r.Context(), doc, page, dpi)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pageimage.Write(w, png)
}
