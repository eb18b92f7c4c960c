package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/pdfium"
)

// readOriginal reads the text of a submitted file: the submission with its
// content set to that text, and the original to store with its layout.
func (d *Dispatcher) readOriginal(ctx context.Context, sub Submission) (Submission, *countersign.Original, error) {
	if sub.Content != "" {
		return sub, nil, countersign.Errorf(countersign.CodeInvalid, "give content or a file, not both")
	}
	var (
		content string
		layout  *countersign.Layout
		err     error
	)
	switch {
	case sub.ContentType == countersign.ContentTypePDF:
		content, layout, err = d.readPDF(ctx, sub.Original)
	case ocr.IsImage(sub.ContentType):
		content, layout, err = d.readImage(ctx, sub.Original, sub.ContentType)
	default:
		return sub, nil, countersign.Errorf(countersign.CodeInvalid, "content_type %q is not supported; files may be %s, %s, %s or %s",
			sub.ContentType, countersign.ContentTypePDF, countersign.ContentTypePNG, countersign.ContentTypeJPEG, countersign.ContentTypeTIFF)
	}
	if err != nil {
		return sub, nil, err
	}
	sum := sha256.Sum256(sub.Original)
	sub.Content = content
	return sub, &countersign.Original{
		SHA256: hex.EncodeToString(sum[:]), ContentType: sub.ContentType, Size: int64(len(sub.Original)),
		Data: sub.Original, Layout: layout,
	}, nil
}

// readPDF reads a PDF's text layer; its pages without one that hold an
// image (scans) are read by OCR.
func (d *Dispatcher) readPDF(ctx context.Context, data []byte) (string, *countersign.Layout, error) {
	if d.PDF == nil {
		return "", nil, countersign.Errorf(countersign.CodeInvalid, "this server does not read PDFs")
	}
	pages, err := d.PDF.ExtractPages(ctx, data)
	if err != nil {
		return "", nil, err
	}
	if err := d.ocrPages(ctx, data, pages); err != nil {
		return "", nil, err
	}
	text, err := pdfium.Join(pages)
	if err != nil {
		return "", nil, err
	}
	return text.Content, text.Layout, nil
}

// readImage reads an image's text by OCR, as a document of one page.
func (d *Dispatcher) readImage(ctx context.Context, data []byte, contentType string) (string, *countersign.Layout, error) {
	if d.OCR == nil {
		return "", nil, countersign.Errorf(countersign.CodeInvalid, "this server does not read images")
	}
	page, err := d.OCR.Image(ctx, data, contentType)
	if err != nil {
		return "", nil, err
	}
	if strings.TrimSpace(page.Text) == "" {
		return "", nil, countersign.Errorf(countersign.CodeInvalid, "OCR: no text was read from the image")
	}
	content, layout := countersign.JoinPages([]countersign.PageText{page})
	return content, layout, nil
}

// ocrPages reads by OCR the pages of a PDF that are scans (pages marked
// OCR: no text layer, an image), in place. A server without OCR refuses
// such a PDF, saying what to install.
func (d *Dispatcher) ocrPages(ctx context.Context, data []byte, pages []countersign.PageText) error {
	var scanned []int
	for i, p := range pages {
		if p.OCR {
			scanned = append(scanned, i)
		}
	}
	if len(scanned) == 0 {
		return nil
	}
	if d.OCR == nil {
		return countersign.Errorf(countersign.CodeInvalid, "PDF: page %d is a scan (an image without a text layer), and this server reads no scans", scanned[0]+1)
	}
	if err := d.OCR.Available(); err != nil {
		return err
	}
	if n, limit := len(scanned), d.OCR.Limits().MaxPages; n > limit {
		return countersign.Errorf(countersign.CodeTooLarge, "PDF: %d pages are scans; the limit read by OCR is %d (ocr-max-pages)", n, limit)
	}
	for _, i := range scanned {
		p := pages[i]
		dpi := scanDPI(p.Width, p.Height, min(d.OCR.Limits().MaxPixels, int64(d.PDF.Limits().MaxPagePixels)))
		read, err := d.ocrPage(ctx, data, i+1, dpi)
		if err != nil {
			return err
		}
		// Measured as the PDF measures the page, not from the pixels
		// rounded up.
		read.Width, read.Height = p.Width, p.Height
		pages[i] = read
	}
	return nil
}

// scanDPI is the resolution a scanned PDF page is rendered at for OCR:
// 300 dpi, less where that would be more pixels than maxPixels, and never
// under pdfium.MinDPI.
func scanDPI(width, height float64, maxPixels int64) int {
	dpi := ocrDPI
	if area := width * height / (72 * 72); area > 0 {
		dpi = min(dpi, int(math.Sqrt(float64(maxPixels)/area)))
	}
	return max(dpi, pdfium.MinDPI)
}

// ocrDPI is the resolution scanned PDF pages are rendered at for OCR, the
// usual resolution of a document scan.
const ocrDPI = countersign.ImageDPI

// ocrPage renders page (from 1) of a PDF and reads it by OCR, holding an
// OCR slot from before the render, so that the rendered pages in memory at
// once are bounded by the OCR runs at once.
func (d *Dispatcher) ocrPage(ctx context.Context, data []byte, page, dpi int) (countersign.PageText, error) {
	release, err := d.OCR.Slot(ctx)
	if err != nil {
		return countersign.PageText{}, err
	}
	defer release()
	img, err := d.PDF.RenderPage(ctx, data, page, dpi)
	if err != nil {
		return countersign.PageText{}, err
	}
	return d.OCR.Page(ctx, img, float64(dpi))
}
