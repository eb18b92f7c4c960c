package pdfium

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"

	"github.com/klippa-app/go-pdfium/requests"

	"github.com/countersign/countersign"
)

// Resolutions a page may be rendered at, in dots per inch. Below MinDPI a
// page is unreadable; above MaxDPI the pixel limit decides sooner or later
// anyway, and OCR gains nothing.
const (
	MinDPI = 18
	MaxDPI = 600
)

// RenderPage renders page (1-based) of the PDF in data at dpi, on white,
// as an *image.RGBA the caller owns; one PDF point is dpi/72 pixels, with
// the image's origin at the page's top left. It runs under the same limits
// as Extract (pdf-max-bytes, pdf-max-pages, pdf-page-timeout,
// pdf-memory-bytes) and pdf-max-page-pixels. A page number out of range is
// refused with CodeNotFound, a resolution out of range with CodeInvalid.
func (e *Extractor) RenderPage(ctx context.Context, data []byte, page, dpi int) (image.Image, error) {
	if dpi < MinDPI || dpi > MaxDPI {
		return nil, countersign.Errorf(countersign.CodeInvalid, "resolution %d DPI is out of range: from %d to %d", dpi, MinDPI, MaxDPI)
	}
	if page < 1 {
		return nil, countersign.Errorf(countersign.CodeNotFound, "page %d: pages are numbered from 1", page)
	}
	var out *image.RGBA
	err := e.withReader(ctx, data, func(r *reader) error {
		doc, pages, err := r.open(ctx, data)
		if err != nil {
			return err
		}
		defer r.closeDocument(doc)
		if page > pages {
			return countersign.Errorf(countersign.CodeNotFound, "page %d: the PDF has %d pages", page, pages)
		}
		index := page - 1
		return r.guard(ctx, fmt.Sprintf("rendering page %d", page), r.limits.PageTimeout, func() error {
			size, err := r.inst.FPDF_GetPageSizeByIndexF(&requests.FPDF_GetPageSizeByIndexF{Document: doc, Index: index})
			if err != nil {
				return err
			}
			w, h := float64(size.Size.Width), float64(size.Size.Height)
			pw, ph := math.Ceil(w*float64(dpi)/72), math.Ceil(h*float64(dpi)/72)
			if pixels := pw * ph; pixels > float64(r.limits.MaxPagePixels) {
				return refuse(countersign.CodeTooLarge, "page %d at %d DPI would be %.0f×%.0f = %.0f pixels; the limit is %d (pdf-max-page-pixels)",
					page, dpi, pw, ph, pixels, r.limits.MaxPagePixels)
			}
			res, err := r.inst.RenderPageInDPI(&requests.RenderPageInDPI{
				Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: index}},
				DPI:  dpi,
			})
			if err != nil {
				return err
			}
			// The WebAssembly backend's pixels live in the instance's
			// memory until Cleanup: copy them out first.
			defer res.Cleanup()
			src := res.Result.RenderedImage
			out = image.NewRGBA(image.Rect(0, 0, src.Bounds().Dx(), src.Bounds().Dy()))
			draw.Draw(out, out.Bounds(), src, src.Bounds().Min, draw.Src)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RenderPagePNG renders a page as RenderPage does and encodes it as PNG.
func (e *Extractor) RenderPagePNG(ctx context.Context, data []byte, page, dpi int) ([]byte, error) {
	img, err := e.RenderPage(ctx, data, page, dpi)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode page %d as PNG: %w", page, err)
	}
	return buf.Bytes(), nil
}
