// Package scoring measures how far a draft can be trusted. Every signal is
// computed from the document and the task type, never from what the model
// says about itself, so a document cannot talk its way into a higher score.
package scoring

import (
	"fmt"
	"math"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
)

// Grounding levels: how well a field's quote is anchored in the document.
const (
	groundExact  = 1.0 // the quote stands at its offsets
	groundMoved  = 0.8 // the quote is in the document, at other offsets
	groundFolded = 0.6 // only after folding case and white space
)

// Score computes per-field and document confidence for a draft of tt over
// content. sch is tt's compiled schema.
func Score(tt *countersign.TaskType, sch *schema.Schema, draft *countersign.Draft, content string) *countersign.Confidence {
	c := &countersign.Confidence{Fields: map[string]countersign.FieldScore{}}
	if draft.Failed() {
		for _, name := range tt.Required {
			c.Fields[name] = countersign.FieldScore{Required: true, Signals: map[string]float64{}, Reasons: []string{"no draft: extraction failed"}}
		}
		c.Reasons = []string{"no draft: " + draftError(draft)}
		c.Weakest = firstOr(tt.Required, "")
		return c
	}

	invalid := map[string][]string{}
	if err := sch.Validate(draft.Fields); err != nil {
		if errs, ok := err.(schema.Errors); ok {
			for _, fe := range errs {
				if fe.Field == "" {
					c.Reasons = append(c.Reasons, "fields: "+fe.Message)
					continue
				}
				invalid[fe.Field] = append(invalid[fe.Field], fe.Message)
			}
		} else {
			c.Reasons = append(c.Reasons, "fields: "+err.Error())
		}
	}

	for _, name := range fieldNames(tt, draft) {
		_, present := draft.Fields[name]
		required := tt.IsRequired(name)
		if !present {
			if required {
				c.Fields[name] = countersign.FieldScore{Required: true, Signals: map[string]float64{}, Reasons: []string{"no value found"}}
			}
			continue
		}
		fs := countersign.FieldScore{Required: required, Signals: map[string]float64{}}
		fs.Signals[countersign.SignalSchema] = 1
		for _, msg := range invalid[name] {
			fs.Signals[countersign.SignalSchema] = 0
			fs.Reasons = append(fs.Reasons, "breaks the schema: "+msg)
		}
		grounding, reasons := ground(content, draft.Evidence, name)
		fs.Signals[countersign.SignalGrounding] = grounding
		fs.Reasons = append(fs.Reasons, reasons...)
		fs.Score = combine(fs.Signals, tt.Weights)
		if fs.Signals[countersign.SignalSchema] == 0 {
			fs.Score = 0
		}
		c.Fields[name] = fs
	}

	c.Overall, c.Weakest = weakest(tt, c.Fields)
	if len(c.Reasons) > 0 {
		c.Overall = 0
	}
	return c
}

func draftError(d *countersign.Draft) string {
	if d == nil {
		return "no draft"
	}
	return d.Error
}

func firstOr(list []string, fallback string) string {
	if len(list) > 0 {
		return list[0]
	}
	return fallback
}

// fieldNames lists the task type's fields in declared order, then any field
// the draft has that the task type does not declare.
func fieldNames(tt *countersign.TaskType, draft *countersign.Draft) []string {
	names := append([]string(nil), tt.FieldOrder...)
	for _, name := range draft.Fields.Names() {
		if !contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// combine is the weighted mean of the signals present.
func combine(signals map[string]float64, weights map[string]float64) float64 {
	var sum, total float64
	for _, name := range []string{countersign.SignalSchema, countersign.SignalGrounding} {
		v, ok := signals[name]
		w := weights[name]
		if !ok || w <= 0 {
			continue
		}
		sum += w * v
		total += w
	}
	if total == 0 {
		return 0
	}
	return round(sum / total)
}

// weakest returns the lowest score among required fields (among all scored
// fields when none is required), and its field. Ties go to the field declared
// first.
func weakest(tt *countersign.TaskType, fields map[string]countersign.FieldScore) (float64, string) {
	candidates := tt.Required
	if len(candidates) == 0 {
		candidates = tt.FieldOrder
	}
	low, name := math.Inf(1), ""
	for _, field := range candidates {
		fs, ok := fields[field]
		if !ok {
			continue
		}
		if fs.Score < low {
			low, name = fs.Score, field
		}
	}
	if name == "" {
		return 0, ""
	}
	return low, name
}

// ground scores how well a field's evidence is anchored in the document: the
// quote must really be there, at the offsets given. The value itself may be a
// normalized form of the quote (an ISO date, a currency code), so it is not
// compared with it.
func ground(content string, evidence map[string]countersign.Evidence, field string) (float64, []string) {
	ev, ok := evidence[field]
	if !ok || strings.TrimSpace(ev.Quote) == "" {
		return 0, []string{"no evidence quote"}
	}
	from, to := byteOffset(content, ev.Start), byteOffset(content, ev.End)
	switch {
	case from >= 0 && to >= from && content[from:to] == ev.Quote:
		return groundExact, nil
	case strings.Contains(content, ev.Quote):
		return groundMoved, []string{fmt.Sprintf("quote found in the document, but not at characters %d-%d", ev.Start, ev.End)}
	case strings.Contains(fold(content), fold(ev.Quote)):
		return groundFolded, []string{"quote matches the document only after folding case and white space"}
	}
	return 0, []string{"quote is not in the document"}
}

// fold lowercases s and folds every run of white space into one space.
func fold(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// byteOffset returns the byte offset of the n-th character of s, or -1 when
// s is shorter.
func byteOffset(s string, n int) int {
	if n < 0 {
		return -1
	}
	i := 0
	for b := range s {
		if i == n {
			return b
		}
		i++
	}
	if i == n {
		return len(s)
	}
	return -1
}

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }
