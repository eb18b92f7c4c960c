// Package pageimage renders the pages of documents' originals as PNG images
// for the people who review them (the web page and GET
// /v1/documents/{id}/pages/{page}), and keeps the most recent in memory.
//
// The cache is in memory only, bounded in bytes: a page image is the
// document in another form, and a disk cache would have to be sealed as
// the originals are when encryption is on. Rendering a page again after a
// restart costs tens of milliseconds.
package pageimage

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/pdfium"
)

// DefaultDPI is the resolution pages are shown at unless asked otherwise:
// about twice a screen's 72 points per inch, sharp on a high-density
// display.
const DefaultDPI = 144

// DefaultCacheBytes bounds the cache unless configured otherwise: about
// fifty US Letter pages at DefaultDPI.
const DefaultCacheBytes = 64 << 20

// Originals reads stored originals (countersign.Store does).
type Originals interface {
	GetOriginal(ctx context.Context, sha256 string, data bool) (*countersign.Original, error)
}

// Images decodes submitted images within their limits (internal/ocr's
// Reader does), holding a Slot while it does.
type Images interface {
	Slot(ctx context.Context) (release func(), err error)
	Decode(data []byte, contentType string) (image.Image, error)
}

// Renderer renders and caches page images.
type Renderer struct {
	// Images, when set, shows an original that is an image (a scan
	// submitted as PNG, JPEG or TIFF) as its one page; without it only a
	// PDF's pages are shown.
	Images Images

	originals Originals
	pdf       *pdfium.Extractor
	group     singleflight.Group

	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	order    *list.List // of *entry, most recently used first
	entries  map[string]*list.Element
	hits     int64
	misses   int64
}

type entry struct {
	key string
	png []byte
}

// New returns a Renderer reading originals and rendering them with pdf,
// caching up to maxBytes of images (DefaultCacheBytes when zero; negative
// turns the cache off).
func New(originals Originals, pdf *pdfium.Extractor, maxBytes int64) *Renderer {
	if maxBytes == 0 {
		maxBytes = DefaultCacheBytes
	}
	return &Renderer{originals: originals, pdf: pdf, maxBytes: max(maxBytes, 0), order: list.New(), entries: map[string]*list.Element{}}
}

// Stats are the cache's counts since the Renderer was made.
type Stats struct {
	Hits, Misses int64
	Bytes        int64
	Images       int
}

// Stats returns the cache's counts.
func (r *Renderer) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Hits: r.hits, Misses: r.misses, Bytes: r.bytes, Images: r.order.Len()}
}

// PNG returns page (from 1) of doc's original rendered at dpi (DefaultDPI
// when zero), as PNG. A document submitted as text has no pages
// (CodeNotFound), nor has a page past the last (CodeNotFound, saying how
// many there are).
func (r *Renderer) PNG(ctx context.Context, doc *countersign.Document, page, dpi int) ([]byte, error) {
	if dpi == 0 {
		dpi = DefaultDPI
	}
	if doc.OriginalSHA256 == "" {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s was submitted as text; it has no pages to show", doc.ID)
	}
	key := doc.OriginalSHA256 + "/" + strconv.Itoa(page) + "/" + strconv.Itoa(dpi)
	if png := r.get(key, true); png != nil {
		return png, nil
	}
	// The render is shared by every request for the page, so it runs
	// without the first one's cancellation (a reviewer scrolling past a
	// lazily loaded page must not fail the others waiting for it; PDFium's
	// page timeout still bounds it); each request waits on its own context.
	shared := context.WithoutCancel(ctx)
	ch := r.group.DoChan(key, func() (any, error) {
		ctx := shared
		// Another request may have rendered it since.
		if png := r.get(key, false); png != nil {
			return png, nil
		}
		o, err := r.originals.GetOriginal(ctx, doc.OriginalSHA256, true)
		if err != nil {
			return nil, fmt.Errorf("read the original of document %s: %w", doc.ID, err)
		}
		if o.ContentType != countersign.ContentTypePDF {
			return r.imagePage(ctx, doc, o, page)
		}
		png, err := r.pdf.RenderPagePNG(ctx, o.Data, page, dpi)
		if err != nil {
			var ce *countersign.Error
			if errors.As(err, &ce) && ce.Code == countersign.CodeNotFound {
				return nil, countersign.Errorf(countersign.CodeNotFound, "document %s: %s", doc.ID, ce.Message)
			}
			return nil, err
		}
		r.put(key, png)
		return png, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]byte), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// get returns the cached image of key, or nil; count counts the hit or
// miss.
func (r *Renderer) get(key string, count bool) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.entries[key]
	switch {
	case ok && count:
		r.hits++
	case !ok && count:
		r.misses++
	}
	if !ok {
		return nil
	}
	r.order.MoveToFront(el)
	return el.Value.(*entry).png
}

// put caches png, dropping the least recently used images past the bound;
// an image larger than the whole bound is not cached.
func (r *Renderer) put(key string, png []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if int64(len(png)) > r.maxBytes {
		return
	}
	if _, ok := r.entries[key]; ok {
		return
	}
	r.entries[key] = r.order.PushFront(&entry{key: key, png: png})
	r.bytes += int64(len(png))
	for r.bytes > r.maxBytes {
		old := r.order.Back()
		e := old.Value.(*entry)
		r.order.Remove(old)
		delete(r.entries, e.key)
		r.bytes -= int64(len(e.png))
	}
}

// Write answers a request with png. It is not cached on the way: a page
// image is the document itself, as the original is.
func Write(w http.ResponseWriter, png []byte) {
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(len(png)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(png)
}

// imagePage is an image original as its one page, in PNG: a PNG as it
// was submitted, another format decoded within the OCR limits and
// encoded. Its resolution is its own (the page's boxes are in points at
// countersign.ImageDPI, which the page scales), so dpi does not apply.
func (r *Renderer) imagePage(ctx context.Context, doc *countersign.Document, o *countersign.Original, page int) ([]byte, error) {
	if r.Images == nil || !ocr.IsImage(o.ContentType) {
		return nil, countersign.Errorf(countersign.CodeInvalid, "document %s's original is %s; only a PDF's or an image's pages are shown", doc.ID, o.ContentType)
	}
	if page != 1 {
		return nil, countersign.Errorf(countersign.CodeNotFound, "document %s: page %d is past the last; the image has 1 page", doc.ID, page)
	}
	release, err := r.Images.Slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	// Decoded within the limits in force, a PNG too, though it is then
	// shown as it was stored.
	img, err := r.Images.Decode(o.Data, o.ContentType)
	if err != nil {
		return nil, err
	}
	if o.ContentType == countersign.ContentTypePNG {
		return o.Data, nil
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("document %s: encode its image as PNG: %w", doc.ID, err)
	}
	return buf.Bytes(), nil
}
