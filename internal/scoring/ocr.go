package scoring

import (
	"fmt"
	"sort"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/evidence"
)

// unsureOCR is the word confidence below which the ocr_confidence signal
// comes with a reason: OCR may have misread the word.
const unsureOCR = 0.6

// ocrLayout is a document's layout when some of its pages were read by OCR
// and it was made for the document's text; nil otherwise.
type ocrLayout struct {
	layout  *countersign.Layout
	content string
}

func newOCRLayout(l *countersign.Layout, content string) *ocrLayout {
	if l == nil || l.TextSHA256 != countersign.ContentSHA256(content) {
		return nil
	}
	for _, p := range l.Pages {
		if p.OCR {
			return &ocrLayout{layout: l, content: content}
		}
	}
	return nil
}

// confidence records the ocr_confidence signal of a drafted field: the
// lowest confidence OCR gave a word under its quote, where the quote
// stands (at its offsets, or else where grounding finds it). A quote on
// text-layer pages only, or not in the document, records nothing. Below
// unsureOCR the reason names the word, its confidence and its page.
func (o *ocrLayout) confidence(ev countersign.Evidence, signals map[string]float64) []string {
	quote := strings.TrimSpace(ev.Quote)
	if o == nil || quote == "" || ev.Pointer != "" {
		return nil
	}
	span := evidence.Span{Start: ev.Start, End: ev.End}
	if from, to := byteOffset(o.content, ev.Start), byteOffset(o.content, ev.End); from < 0 || to < from || o.content[from:to] != ev.Quote {
		var m evidence.Match
		if span, m = evidence.Locate(o.content, quote); m == evidence.None {
			return nil
		}
	}
	words := o.layout.Words
	first := sort.Search(len(words), func(i int) bool { return words[i].End > span.Start })
	var weakest *countersign.Word
	for i := first; i < len(words) && words[i].Start < span.End; i++ {
		w := &words[i]
		if w.Page < 1 || w.Page > len(o.layout.Pages) || !o.layout.Pages[w.Page-1].OCR {
			continue
		}
		if weakest == nil || w.Confidence < weakest.Confidence {
			weakest = w
		}
	}
	if weakest == nil {
		return nil
	}
	signals[countersign.SignalOCRConfidence] = round(weakest.Confidence)
	if weakest.Confidence >= unsureOCR {
		return nil
	}
	word := o.content[byteOffset(o.content, weakest.Start):byteOffset(o.content, weakest.End)]
	return []string{fmt.Sprintf("OCR was unsure of the scanned text under the quote: it read %s with confidence %.2f on page %d; check it on the page",
		clipQuote(word), weakest.Confidence, weakest.Page)}
}
