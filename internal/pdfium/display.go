package pdfium

import (
	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"

	"github.com/countersign/countersign"
)

// display maps a page's user space (where PDFium puts its characters) to
// the page as RenderPage draws it: the page's bounding box (its crop box
// within its media box, as PDFium bounds it) turned clockwise by its
// /Rotate, in points from the top left. Boxes in a layout are in this
// space, so the viewer's SVG lies over the rendered image.
type display struct {
	left, bottom, right, top float64
	rotation                 enums.FPDF_PAGE_ROTATION
}

// pageDisplay reads the bounding box and rotation of page index of doc.
func (r *reader) pageDisplay(doc references.FPDF_DOCUMENT, index int) (display, error) {
	page := requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: index}}
	bbox, err := r.inst.FPDF_GetPageBoundingBox(&requests.FPDF_GetPageBoundingBox{Page: page})
	if err != nil {
		return display{}, err
	}
	rot, err := r.inst.FPDFPage_GetRotation(&requests.FPDFPage_GetRotation{Page: page})
	if err != nil {
		return display{}, err
	}
	b := bbox.Rect
	return display{
		left: float64(min(b.Left, b.Right)), right: float64(max(b.Left, b.Right)),
		bottom: float64(min(b.Bottom, b.Top)), top: float64(max(b.Bottom, b.Top)),
		rotation: rot.PageRotation,
	}, nil
}

// point maps (x, y) in user space to the displayed page.
func (d display) point(x, y float64) (float64, float64) {
	switch d.rotation {
	case enums.FPDF_PAGE_ROTATION_90_CW: // the page's top edge is shown on the right
		return y - d.bottom, x - d.left
	case enums.FPDF_PAGE_ROTATION_180_CW:
		return d.right - x, y - d.bottom
	case enums.FPDF_PAGE_ROTATION_270_CW: // the page's top edge is shown on the left
		return d.top - y, d.right - x
	default:
		return x - d.left, d.top - y
	}
}

// box maps the rectangle from (left, bottom) to (right, top) in user
// space to the displayed page. The map turns by quarter turns only, so
// two opposite corners bound the result.
func (d display) box(left, bottom, right, top float64) countersign.Box {
	x0, y0 := d.point(left, bottom)
	x1, y1 := d.point(right, top)
	return countersign.Box{X0: min(x0, x1), Y0: min(y0, y1), X1: max(x0, x1), Y1: max(y0, y1)}
}
