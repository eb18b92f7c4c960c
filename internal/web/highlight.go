package web

import (
	"slices"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/evidence"
)

// span is where one field's evidence stands in the document, in characters
// (Unicode code points), end exclusive. Field is the field's index in the
// page's list, which names its anchor and marks.
type span struct {
	Field      int
	Start, End int
}

// segment is a run of the document's text that the same fields' evidence
// covers (none: plain text). Anchors are the fields whose evidence starts
// here; the page puts their anchors before the text.
type segment struct {
	Text    string
	Fields  []int
	Anchors []int
}

// Marked reports whether any evidence covers the segment.
func (s segment) Marked() bool { return len(s.Fields) > 0 }

// FieldList is the covering fields as the marks' data-f attribute holds
// them, space-separated, so that a selector [data-f~="3"] finds field 3.
func (s segment) FieldList() string {
	parts := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		parts[i] = strconv.Itoa(f)
	}
	return strings.Join(parts, " ")
}

// highlight cuts text into segments at every span's start and end. Spans
// may overlap or nest: a segment lists every field that covers it, so
// nothing is cut twice and marks never nest. Spans outside the text are
// clipped to it; empty ones are left out.
func highlight(text string, spans []span) []segment {
	runes := []rune(text)
	n := len(runes)
	cuts := []int{0, n}
	var kept []span
	for _, s := range spans {
		s.Start, s.End = max(s.Start, 0), min(s.End, n)
		if s.Start >= s.End {
			continue
		}
		kept = append(kept, s)
		cuts = append(cuts, s.Start, s.End)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var out []segment
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		seg := segment{Text: string(runes[from:to])}
		for _, s := range kept {
			if s.Start <= from && to <= s.End {
				seg.Fields = append(seg.Fields, s.Field)
			}
			if s.Start == from {
				seg.Anchors = append(seg.Anchors, s.Field)
			}
		}
		out = append(out, seg)
	}
	return out
}

// locate finds where a field's evidence stands in the document: at its
// offsets when the quote is there, else where the quote is found (as
// scoring's grounding signal does). note says what a reviewer should know
// when it is not where the extractor said, or not found at all.
func locate(runes []rune, text string, ev countersign.Evidence) (start, end int, found bool, note string) {
	quote := ev.Quote
	if strings.TrimSpace(quote) == "" {
		return 0, 0, false, "no quote given"
	}
	if 0 <= ev.Start && ev.Start < ev.End && ev.End <= len(runes) && string(runes[ev.Start:ev.End]) == quote {
		return ev.Start, ev.End, true, ""
	}
	at, match := evidence.Locate(text, quote)
	switch match {
	case evidence.Exact:
		return at.Start, at.End, true, "the quote is in the document, but not at the place the draft gave"
	case evidence.Folded:
		return at.Start, at.End, true, "the quote is in the document only with other case or spacing"
	}
	return 0, 0, false, "the quote is not in the document"
}
