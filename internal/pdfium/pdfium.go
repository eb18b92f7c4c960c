// Package pdfium extracts a PDF's text layer, with each word's page and box,
// by running PDFium compiled to WebAssembly in wazero (pure Go: no cgo, no
// library to install). PDFium runs in a sandbox of its own: no file system,
// a bounded memory, and a deadline per page after which its instance is
// killed and replaced.
package pdfium

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	pdfiumerrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/countersign/countersign"
)

// Limits bound what one PDF may cost.
type Limits struct {
	// MaxBytes is the largest PDF accepted, in bytes.
	MaxBytes int
	// MaxPages is the most pages a PDF may have.
	MaxPages int
	// PageTimeout is how long reading one page's text may take.
	PageTimeout time.Duration
	// MemoryBytes is the memory one PDFium instance may use.
	MemoryBytes int64
	// Instances is how many PDFium instances run at once (each holds up to
	// MemoryBytes); more PDFs wait for one.
	Instances int
	// MaxPagePixels is the most pixels one rendered page image may have
	// (width times height); a page or resolution asking for more is
	// refused before PDFium allocates its bitmap.
	MaxPagePixels int
}

// Defaults for Limits: generous for contracts and statements, small enough
// that a hostile file costs seconds and a few hundred MiB.
const (
	DefaultMaxBytes    = 20 << 20
	DefaultMaxPages    = 500
	DefaultPageTimeout = 5 * time.Second
	DefaultMemoryBytes = 256 << 20
	DefaultInstances   = 2
	// DefaultMaxPagePixels is 25 megapixels (100 MiB as RGBA, within
	// DefaultMemoryBytes): an A4 page at 400 DPI, a US Letter page at 450.
	DefaultMaxPagePixels = 25_000_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	if l.PageTimeout <= 0 {
		l.PageTimeout = DefaultPageTimeout
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	if l.Instances <= 0 {
		l.Instances = DefaultInstances
	}
	if l.MaxPagePixels <= 0 {
		l.MaxPagePixels = DefaultMaxPagePixels
	}
	return l
}

// IsPDF reports whether data starts with a PDF's header, %PDF-. (Readers
// accept the header anywhere in the first KiB; intake asks for it first, so
// a text file that quotes it is not taken for a PDF.)
func IsPDF(data []byte) bool {
	return bytes.HasPrefix(data, []byte("%PDF-"))
}

// Extractor reads PDFs' text layers. The WebAssembly module is compiled on
// first use (it takes a second or two) and its instances are pooled and
// reused; Close releases them.
type Extractor struct {
	limits Limits

	mu   sync.Mutex
	pool pdfium.Pool
}

// New returns an Extractor within limits (zero parts take the defaults).
func New(limits Limits) *Extractor {
	return &Extractor{limits: limits.withDefaults()}
}

// Limits returns the limits in force.
func (e *Extractor) Limits() Limits { return e.limits }

// Close releases the PDFium instances.
func (e *Extractor) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool == nil {
		return nil
	}
	err := e.pool.Close()
	e.pool = nil
	return err
}

func (e *Extractor) getPool() (pdfium.Pool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool != nil {
		return e.pool, nil
	}
	pages := uint32(e.limits.MemoryBytes / 65536)
	pool, err := webassembly.Init(webassembly.Config{
		MinIdle:      1,
		MaxIdle:      e.limits.Instances,
		MaxTotal:     e.limits.Instances,
		ReuseWorkers: true,
		// No file system: documents are opened from memory.
		FSConfig: wazero.NewFSConfig(),
		RuntimeConfig: wazero.NewRuntimeConfig().
			WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
			WithMemoryLimitPages(pages).
			WithCloseOnContextDone(true),
		Stdout: discard{},
		Stderr: discard{},
	})
	if err != nil {
		return nil, fmt.Errorf("start PDFium: %w", err)
	}
	e.pool = pool
	return pool, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Text is a PDF's text layer: the text of its pages joined with
// countersign.PageSeparator, and where each word stands.
type Text struct {
	Content string
	Layout  *countersign.Layout
}

// refuse is an error about the file, for the person who submitted it.
func refuse(code countersign.Code, format string, args ...any) error {
	return countersign.Errorf(code, "PDF: "+format, args...)
}

// Extract reads data's text layer. A file that is not a PDF, is encrypted,
// is corrupt, or goes over a limit is refused with an error saying which;
// so is a PDF with a page that has no text layer but an image (a scan),
// as needing OCR (ExtractPages leaves such pages for OCR), and one with
// no text at all.
func (e *Extractor) Extract(ctx context.Context, data []byte) (*Text, error) {
	pages, err := e.ExtractPages(ctx, data)
	if err != nil {
		return nil, err
	}
	for i, p := range pages {
		if p.OCR {
			return nil, refuse(countersign.CodeInvalid, "page %d has no text layer but an image (a scan): it needs OCR", i+1)
		}
	}
	return Join(pages)
}

// Join joins pages' texts into a document's text, refusing a file with no
// text on any page.
func Join(pages []countersign.PageText) (*Text, error) {
	content, layout := countersign.JoinPages(pages)
	if strings.TrimSpace(strings.ReplaceAll(content, "\f", "")) == "" {
		return nil, refuse(countersign.CodeInvalid, "the file has no text on any page")
	}
	return &Text{Content: content, Layout: layout}, nil
}

// ExtractPages reads the text layer of data's pages, page by page, within
// the limits; a file that is not a PDF, is encrypted, is corrupt, or goes
// over a limit is refused with an error saying which. A page without text
// comes back empty, marked OCR when it holds an image (a scan) for the
// caller to read by OCR.
func (e *Extractor) ExtractPages(ctx context.Context, data []byte) ([]countersign.PageText, error) {
	var pages []countersign.PageText
	err := e.withReader(ctx, data, func(r *reader) (err error) {
		pages, err = r.read(ctx, data)
		return err
	})
	return pages, err
}

// withReader checks data's size and header, then runs f with a reader on a
// pooled instance, which goes back to the pool unless f killed it.
func (e *Extractor) withReader(ctx context.Context, data []byte, f func(*reader) error) error {
	l := e.limits
	if len(data) > l.MaxBytes {
		return refuse(countersign.CodeTooLarge, "the file is %d bytes; the limit is %d (pdf-max-bytes)", len(data), l.MaxBytes)
	}
	if !IsPDF(data) {
		return refuse(countersign.CodeInvalid, "the file does not start with %%PDF-, as a PDF does")
	}
	pool, err := e.getPool()
	if err != nil {
		return err
	}
	inst, err := pool.GetInstanceWithContext(ctx)
	if err != nil {
		return fmt.Errorf("wait for a PDFium instance: %w", err)
	}
	r := &reader{inst: inst, limits: l}
	err = f(r)
	if r.killed {
		return err
	}
	if cerr := inst.Close(); err == nil && cerr != nil {
		return fmt.Errorf("release PDFium instance: %w", cerr)
	}
	return err
}

// reader reads one PDF with one instance.
type reader struct {
	inst   pdfium.Pdfium
	limits Limits
	// killed is set when the instance was killed (a deadline passed or it
	// trapped); it is then not returned to the pool.
	killed bool
}

// guard runs f under a deadline; past it, or if PDFium traps (out of
// memory, a crash in its code), the instance is killed and replaced, and
// the error names what happened.
func (r *reader) guard(ctx context.Context, what string, timeout time.Duration, f func() error) error {
	done := make(chan struct{})
	// finished is set once f has returned: a timer that fires after that
	// must not kill the instance, which the next step uses. The kill and
	// the flags it sets happen under mu, so either the kill comes first
	// (and f's error is read as the timeout or the cancellation) or
	// finished does (and nothing is killed).
	var timedOut, cancelled, finished bool
	var mu sync.Mutex
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		var flag *bool
		select {
		case <-done:
			return
		case <-t.C:
			flag = &timedOut
		case <-ctx.Done():
			flag = &cancelled
		}
		mu.Lock()
		defer mu.Unlock()
		if finished {
			return
		}
		*flag = true
		r.inst.Kill()
	}()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("PDFium panicked: %v", p)
			}
		}()
		return f()
	}()
	mu.Lock()
	defer mu.Unlock()
	finished = true
	close(done)
	switch {
	case timedOut:
		r.killed = true
		return refuse(countersign.CodeInvalid, "%s took longer than %s (pdf-page-timeout)", what, timeout)
	case cancelled:
		r.killed = true
		return ctx.Err()
	case err != nil && !isPDFiumError(err):
		// A trap: PDFium ran out of its memory or crashed. The instance
		// is not trusted again.
		r.inst.Kill()
		r.killed = true
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return refuse(countersign.CodeInvalid, "%s failed within the memory limit of %d MiB (pdf-memory-bytes): %s", what, r.limits.MemoryBytes>>20, msg)
	}
	return err
}

// isPDFiumError reports whether err is PDFium's own answer (a bad file, a
// password) or a refusal of ours, rather than a trap of its instance.
func isPDFiumError(err error) bool {
	if _, ok := errors.AsType[*countersign.Error](err); ok {
		return true
	}
	for _, known := range []error{pdfiumerrors.ErrFile, pdfiumerrors.ErrFormat, pdfiumerrors.ErrPassword,
		pdfiumerrors.ErrSecurity, pdfiumerrors.ErrPage, pdfiumerrors.ErrUnknown} {
		if errors.Is(err, known) {
			return true
		}
	}
	return false
}

func (r *reader) read(ctx context.Context, data []byte) ([]countersign.PageText, error) {
	doc, pages, err := r.open(ctx, data)
	if err != nil {
		return nil, err
	}
	defer r.closeDocument(doc)
	out := make([]countersign.PageText, pages)
	for i := range pages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := r.guard(ctx, fmt.Sprintf("reading page %d", i+1), r.limits.PageTimeout, func() error {
			var err error
			out[i], err = r.page(doc, i)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// open opens data and reads its page count, refusing an encrypted or
// corrupt file and one over pdf-max-pages. The caller closes the document
// with closeDocument.
func (r *reader) open(ctx context.Context, data []byte) (references.FPDF_DOCUMENT, int, error) {
	var doc references.FPDF_DOCUMENT
	err := r.guard(ctx, "opening the file", r.limits.PageTimeout, func() error {
		opened, err := r.inst.OpenDocument(&requests.OpenDocument{File: &data})
		if err != nil {
			return err
		}
		doc = opened.Document
		return nil
	})
	switch {
	case errors.Is(err, pdfiumerrors.ErrPassword), errors.Is(err, pdfiumerrors.ErrSecurity):
		return doc, 0, refuse(countersign.CodeInvalid, "the file is encrypted; submit it without a password or encryption")
	case errors.Is(err, pdfiumerrors.ErrFormat), errors.Is(err, pdfiumerrors.ErrFile), errors.Is(err, pdfiumerrors.ErrUnknown):
		return doc, 0, refuse(countersign.CodeInvalid, "the file is corrupt or not a PDF (%v)", err)
	case err != nil:
		return doc, 0, err
	}
	var pages int
	err = r.guard(ctx, "reading the page tree", r.limits.PageTimeout, func() error {
		// A file opened without a password may still be encrypted (with
		// an empty user password): refused all the same, since what it
		// may be used for is restricted and the text is hidden from
		// other tools.
		sec, err := r.inst.FPDF_GetSecurityHandlerRevision(&requests.FPDF_GetSecurityHandlerRevision{Document: doc})
		if err != nil {
			return err
		}
		if sec.SecurityHandlerRevision != -1 {
			return refuse(countersign.CodeInvalid, "the file is encrypted (security handler revision %d); submit it without encryption", sec.SecurityHandlerRevision)
		}
		n, err := r.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc})
		if err != nil {
			return err
		}
		pages = n.PageCount
		return nil
	})
	if err == nil {
		switch {
		case pages > r.limits.MaxPages:
			err = refuse(countersign.CodeTooLarge, "the file has %d pages; the limit is %d (pdf-max-pages)", pages, r.limits.MaxPages)
		case pages == 0:
			err = refuse(countersign.CodeInvalid, "the file has no pages")
		}
	}
	if err != nil {
		r.closeDocument(doc)
		return doc, 0, err
	}
	return doc, pages, nil
}

// closeDocument closes doc unless its instance was killed (and the
// document with it).
func (r *reader) closeDocument(doc references.FPDF_DOCUMENT) {
	if !r.killed {
		r.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc})
	}
}

// builder accumulates one page's text and words.
type builder struct {
	text  strings.Builder
	chars int // runes written to text
	words []countersign.Word
	// word is the word being read, if any (Start < End).
	word countersign.Word
}

func (b *builder) write(s string) {
	b.text.WriteString(s)
	b.chars += utf8.RuneCountInString(s)
}

// page reads one page's text layer; a page without one is marked as
// needing OCR when it holds an image (a scan), and is left empty when it
// holds none (a blank page).
func (r *reader) page(doc references.FPDF_DOCUMENT, index int) (countersign.PageText, error) {
	size, err := r.inst.FPDF_GetPageSizeByIndexF(&requests.FPDF_GetPageSizeByIndexF{Document: doc, Index: index})
	if err != nil {
		return countersign.PageText{}, err
	}
	shown, err := r.pageDisplay(doc, index)
	if err != nil {
		return countersign.PageText{}, err
	}
	text, err := r.inst.GetPageTextStructured(&requests.GetPageTextStructured{
		Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: index}},
		Mode: requests.GetPageTextStructuredModeChars,
	})
	if err != nil {
		return countersign.PageText{}, err
	}
	b := &builder{}
	endWord := func() {
		if b.word.End > b.word.Start {
			b.words = append(b.words, b.word)
		}
		b.word = countersign.Word{}
	}
	for _, c := range text.Chars {
		s := c.Text
		// PDFium ends lines with CR LF; one LF keeps offsets simple.
		if s == "\r" {
			continue
		}
		if s == "" || s == "\x00" || s == "\f" {
			continue
		}
		r, _ := utf8.DecodeRuneInString(s)
		p := c.PointPosition
		box := shown.box(p.Left, p.Bottom, p.Right, p.Top)
		hasBox := p.Right > p.Left && p.Top > p.Bottom && !math.IsNaN(p.Left)
		if unicode.IsSpace(r) || !hasBox {
			endWord()
			b.write(s)
			continue
		}
		if b.word.End == b.word.Start {
			b.word = countersign.Word{Start: b.chars, End: b.chars, Box: box, Confidence: 1}
		}
		w := &b.word.Box
		w.X0, w.Y0, w.X1, w.Y1 = min(w.X0, box.X0), min(w.Y0, box.Y0), max(w.X1, box.X1), max(w.Y1, box.Y1)
		b.write(s)
		b.word.End = b.chars
	}
	endWord()
	// PDFium's page size is already the displayed one (bounding box,
	// turned), as RenderPage sizes its image.
	page := countersign.PageText{Width: float64(size.Size.Width), Height: float64(size.Size.Height), Text: b.text.String(), Words: b.words}
	if strings.TrimSpace(page.Text) == "" {
		page.Text, page.Words = "", nil
		scanned, err := r.hasImage(doc, index)
		if err != nil {
			return page, err
		}
		page.OCR = scanned
	}
	return page, nil
}

// maxObjectsLooked bounds how many objects of a page without text are
// looked at for an image.
const maxObjectsLooked = 10000

// hasImage reports whether a page holds an image or a form (which may
// hold one) among its first objects.
func (r *reader) hasImage(doc references.FPDF_DOCUMENT, index int) (bool, error) {
	page := requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: index}}
	n, err := r.inst.FPDFPage_CountObjects(&requests.FPDFPage_CountObjects{Page: page})
	if err != nil {
		return false, err
	}
	for i := range min(n.Count, maxObjectsLooked) {
		obj, err := r.inst.FPDFPage_GetObject(&requests.FPDFPage_GetObject{Page: page, Index: i})
		if err != nil {
			return false, err
		}
		t, err := r.inst.FPDFPageObj_GetType(&requests.FPDFPageObj_GetType{PageObject: obj.PageObject})
		if err != nil {
			return false, err
		}
		if t.Type == enums.FPDF_PAGEOBJ_IMAGE || t.Type == enums.FPDF_PAGEOBJ_FORM {
			return true, nil
		}
	}
	return false, nil
}
