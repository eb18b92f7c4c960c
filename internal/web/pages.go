package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/pageimage"
)

// pagesView is a document's original laid out page by page, as the review
// and document pages show it: each page's image with the boxes of the
// draft's evidence over it.
type pagesView struct {
	DocID string
	Pages []pageView
	// First is the first page each field's evidence is on, by field index.
	First map[int]int
}

// pageView is one page: its number, its size in points (the boxes' unit
// and the overlay's viewBox) and in pixels at pageimage.DefaultDPI (the
// image's), and the evidence boxes on it.
type pageView struct {
	N             int
	Width, Height float64
	PxW, PxH      int
	Boxes         []boxView
}

// boxView is one box of a field's evidence, in points from the page's top
// left corner; ID is set on the field's first box, the place a field's
// link jumps to.
type boxView struct {
	Field      int
	Name       string
	X, Y, W, H float64
	ID         string
}

// pagesOf lays out doc's original with fields' evidence boxed, or returns
// nil when there is nothing to show: no page renderer, a document
// submitted as text, or a layout read for other text than doc's.
func (h *handler) pagesOf(ctx context.Context, doc *countersign.Document, fields []fieldView) (*pagesView, error) {
	if h.Pages == nil || doc.OriginalSHA256 == "" {
		return nil, nil
	}
	o, err := h.Store.GetOriginal(ctx, doc.OriginalSHA256, false)
	if err != nil {
		return nil, err
	}
	shown := o.ContentType == countersign.ContentTypePDF || h.Pages.Images != nil && ocr.IsImage(o.ContentType)
	if !shown || o.Layout == nil || o.Layout.TextSHA256 != doc.ContentSHA256 {
		return nil, nil
	}
	scale := float64(pageimage.DefaultDPI) / 72
	v := &pagesView{DocID: doc.ID, First: map[int]int{}}
	for i, p := range o.Layout.Pages {
		v.Pages = append(v.Pages, pageView{N: i + 1, Width: p.Width, Height: p.Height, PxW: int(p.Width*scale + 0.5), PxH: int(p.Height*scale + 0.5)})
	}
	if doc.Draft == nil {
		return v, nil
	}
	for _, f := range fields {
		ev, ok := doc.Draft.Evidence[f.Name]
		if !ok {
			continue
		}
		for _, pb := range o.Layout.Locate(ev.Start, ev.End) {
			if pb.Page < 1 || pb.Page > len(v.Pages) {
				continue
			}
			page := &v.Pages[pb.Page-1]
			for _, b := range pb.Boxes {
				box := boxView{Field: f.Index, Name: f.Name, X: b.X0, Y: b.Y0, W: b.X1 - b.X0, H: b.Y1 - b.Y0}
				if _, seen := v.First[f.Index]; !seen {
					v.First[f.Index] = pb.Page
					box.ID = "pbox-" + strconv.Itoa(f.Index)
				}
				page.Boxes = append(page.Boxes, box)
			}
		}
	}
	return v, nil
}

// pageImage answers one page of a document's original as a PNG image, to
// whoever may see the document, as GET /v1/documents/{id}/pages/{page}
// does.
func (h *handler) pageImage(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	page, err := strconv.Atoi(r.PathValue("page"))
	if err != nil {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeBadRequest, "Page %q is not a page number: pages are numbered from 1.", r.PathValue("page")))
		return
	}
	doc, err := h.Store.GetDocument(r.Context(), id)
	if err != nil {
		if errors.Is(err, countersign.ErrNotFound) {
			err = countersign.Errorf(countersign.CodeNotFound, "There is no document %s.", id)
		}
		h.fail(w, r, sess, err)
		return
	}
	if err := h.mayReview(sess, doc.TaskType); err != nil {
		h.fail(w, r, sess, err)
		return
	}
	if h.Pages == nil {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeNotFound, "This server does not show pages."))
		return
	}
	png, err := h.Pages.PNG(r.Context(), doc, page, pageimage.DefaultDPI)
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	pageimage.Write(w, png)
}
