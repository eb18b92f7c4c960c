package scoring_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/scoring"
)

// scanned lays out text as one page, each word a box, with the given
// confidences by word (1 where not given); ocr says whether OCR read it.
func scanned(text string, confidence map[string]float64, ocr bool) *countersign.Layout {
	var pages []countersign.PageText
	page := countersign.PageText{Width: 612, Height: 792, Text: text, OCR: ocr}
	runes := []rune(text)
	for i := 0; i < len(runes); {
		if runes[i] == ' ' || runes[i] == '\n' {
			i++
			continue
		}
		j := i
		for j < len(runes) && runes[j] != ' ' && runes[j] != '\n' {
			j++
		}
		c, ok := confidence[string(runes[i:j])]
		if !ok {
			c = 1
		}
		page.Words = append(page.Words, countersign.Word{Start: i, End: j, Box: countersign.Box{X0: float64(i), Y0: 10, X1: float64(j), Y1: 20}, Confidence: c})
		i = j
	}
	pages = append(pages, page)
	_, l := countersign.JoinPages(pages)
	return l
}

// TestOCRConfidence: a quote on a scanned page records the lowest
// confidence of the words under it, with a reason naming an unsure word;
// a text-layer page, or a layout of other text, records nothing.
func TestOCRConfidence(t *testing.T) {
	tt, sch := setup(t)
	draft := &countersign.Draft{
		Fields: map[string]any{"sender": "Jane Roe", "date": "2025-05-12"},
		Evidence: map[string]countersign.Evidence{
			"sender": ev("Jane Roe", strings.Index(letter, "Jane Roe")),
			// At other offsets than it stands: located as grounding finds it.
			"date": ev("12 May 2025", 3),
		},
	}
	conf := map[string]float64{"May": 0.42, "Jane": 0.91, "Roe": 0.95}
	score := func(l *countersign.Layout) *countersign.Confidence {
		return scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: letter, Layout: l})
	}

	c := score(scanned(letter, conf, true))
	sender, date := c.Fields["sender"], c.Fields["date"]
	if v, ok := sender.Signals[countersign.SignalOCRConfidence]; !ok || v != 0.91 {
		t.Errorf("sender ocr_confidence = %v (%v); want 0.91, Jane's", v, ok)
	}
	if strings.Contains(strings.Join(sender.Reasons, "|"), "OCR") {
		t.Errorf("sender reasons %q; a sure read needs none", sender.Reasons)
	}
	if v := date.Signals[countersign.SignalOCRConfidence]; v != 0.42 {
		t.Errorf("date ocr_confidence = %v; want 0.42, May's", v)
	}
	if r := strings.Join(date.Reasons, "|"); !strings.Contains(r, `OCR was unsure of the scanned text under the quote: it read "May" with confidence 0.42 on page 1`) {
		t.Errorf("date reasons = %q; want the unsure word named", r)
	}
	// Weighing 0 by default, it leaves the raw score as it was.
	if plain := score(nil); plain.Fields["date"].Raw != date.Raw {
		t.Errorf("raw with the signal %v, without %v; want equal under the default weight", date.Raw, plain.Fields["date"].Raw)
	}

	for name, l := range map[string]*countersign.Layout{
		"text layer": scanned(letter, conf, false),
		"other text": scanned(letter+" PS", conf, true),
		"no layout":  nil,
	} {
		for field, fs := range score(l).Fields {
			if _, ok := fs.Signals[countersign.SignalOCRConfidence]; ok {
				t.Errorf("%s: %s has ocr_confidence; want it absent", name, field)
			}
		}
	}
}
