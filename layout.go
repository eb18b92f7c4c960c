package countersign

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Media types of the originals intake reads: a PDF, and the images it
// reads by OCR.
const (
	ContentTypePDF  = "application/pdf"
	ContentTypePNG  = "image/png"
	ContentTypeJPEG = "image/jpeg"
	ContentTypeTIFF = "image/tiff"
)

// ImageDPI is the resolution an image original is taken to have: its
// page's size in points is its size in pixels times 72/ImageDPI, the
// usual resolution of a document scan.
const ImageDPI = 300

// PageSeparator joins the text of a PDF's pages in a document's content: a
// form feed, on a line of its own, so a quote never spans two pages by
// accident and the page of a character can be told from the text alone.
const PageSeparator = "\n\f\n"

// PageOf returns the page (from 1) that character offset (in Unicode code
// points) of a PDF's extracted text stands on, counting PageSeparators
// before it; 0 when offset is outside the text.
func PageOf(text string, offset int) int {
	if offset < 0 {
		return 0
	}
	page, i := 1, 0
	for at, r := range text {
		if i == offset {
			return page
		}
		if r == '\f' && strings.HasPrefix(text[max(at-1, 0):], PageSeparator) {
			page++
		}
		i++
	}
	return 0
}

// Original is the file a document's text was extracted from (a PDF), kept
// content-addressed by its SHA-256: the same file submitted twice is stored
// once. Its layout ties the extracted text back to the pages.
type Original struct {
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	// Data is the file itself; empty where only its description was read.
	Data   []byte  `json:"-"`
	Layout *Layout `json:"-"`
}

// Layout is where a document's text stands on its original's pages: the
// pages' sizes and a box per word, by character offsets into the text (in
// Unicode code points, end exclusive, as Evidence counts them). It holds no
// text itself, so it says nothing a box's position does not.
type Layout struct {
	// TextSHA256 is the hash of the text the offsets count into
	// (ContentSHA256): a layout read for other text (another extractor's)
	// locates nothing.
	TextSHA256 string `json:"text_sha256"`
	Pages      []Page `json:"pages"`
	// Words are in text order, none overlapping.
	Words []Word `json:"words"`
}

// Page is one page of an original, in PDF points (1/72 inch); an image's
// page is measured as if scanned at ImageDPI.
type Page struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	// Start and End are the characters of the text that came from this
	// page (end exclusive), separators left out.
	Start int `json:"start"`
	End   int `json:"end"`
	// OCR is set when the page's text was read from its image by OCR (a
	// scan), not from a text layer: its words' confidences are OCR's.
	OCR bool `json:"ocr,omitempty"`
}

// Word is one word's place: its characters in the text and its box on
// its page.
type Word struct {
	Start int `json:"start"`
	End   int `json:"end"`
	// Page counts from 1.
	Page int `json:"page"`
	Box  Box `json:"box"`
	// Confidence is how sure the text is, from 0 to 1: 1 for a PDF's text
	// layer; OCR gives its own per word.
	Confidence float64 `json:"confidence"`
}

// PageText is one page's text and where its words stand, before pages are
// joined into a document (JoinPages): the words' offsets count into Text
// and their Page is set by JoinPages.
type PageText struct {
	Width  float64
	Height float64
	Text   string
	Words  []Word
	OCR    bool
}

// JoinPages joins pages' texts with PageSeparator into a document's
// content and its layout, moving each word's offsets to the content's.
func JoinPages(pages []PageText) (string, *Layout) {
	var b strings.Builder
	l := &Layout{}
	chars := 0
	for i, p := range pages {
		if i > 0 {
			b.WriteString(PageSeparator)
			chars += utf8.RuneCountInString(PageSeparator)
		}
		b.WriteString(p.Text)
		for _, w := range p.Words {
			w.Start += chars
			w.End += chars
			w.Page = i + 1
			l.Words = append(l.Words, w)
		}
		n := utf8.RuneCountInString(p.Text)
		l.Pages = append(l.Pages, Page{Width: p.Width, Height: p.Height, Start: chars, End: chars + n, OCR: p.OCR})
		chars += n
	}
	content := b.String()
	l.TextSHA256 = ContentSHA256(content)
	return content, l
}

// Box is a rectangle on a page in PDF points, measured from the page's top
// left corner (y grows downwards, as a page image's pixels do).
type Box struct {
	X0 float64 `json:"x0"`
	Y0 float64 `json:"y0"`
	X1 float64 `json:"x1"`
	Y1 float64 `json:"y1"`
}

// PageBoxes are the boxes of a span of text on one page.
type PageBoxes struct {
	// Page counts from 1.
	Page  int   `json:"page"`
	Boxes []Box `json:"boxes"`
	// MinConfidence is the lowest confidence of the words under the span.
	MinConfidence float64 `json:"min_confidence"`
}

// Locate returns the boxes of the words that the characters start to end
// (end exclusive) touch, page by page in page order, one box per line of
// text (the words of a line merged); nil if the span touches no word.
func (l *Layout) Locate(start, end int) []PageBoxes {
	if l == nil || start >= end {
		return nil
	}
	first := sort.Search(len(l.Words), func(i int) bool { return l.Words[i].End > start })
	var out []PageBoxes
	for _, w := range l.Words[first:] {
		if w.Start >= end {
			break
		}
		if len(out) == 0 || out[len(out)-1].Page != w.Page {
			out = append(out, PageBoxes{Page: w.Page, MinConfidence: w.Confidence})
		}
		pb := &out[len(out)-1]
		pb.MinConfidence = min(pb.MinConfidence, w.Confidence)
		if n := len(pb.Boxes); n > 0 && sameLine(pb.Boxes[n-1], w.Box) {
			b := &pb.Boxes[n-1]
			b.X0, b.Y0, b.X1, b.Y1 = min(b.X0, w.Box.X0), min(b.Y0, w.Box.Y0), max(b.X1, w.Box.X1), max(b.Y1, w.Box.Y1)
			continue
		}
		pb.Boxes = append(pb.Boxes, w.Box)
	}
	return out
}

// sameLine reports whether b, to the right of a, sits on a's line: their
// vertical extents overlap by more than half the shorter one.
func sameLine(a, b Box) bool {
	if b.X0 < a.X0 {
		return false
	}
	overlap := min(a.Y1, b.Y1) - max(a.Y0, b.Y0)
	return overlap > 0.5*min(a.Y1-a.Y0, b.Y1-b.Y0)
}
