package scoring

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/evidence"
	"github.com/countersign/countersign/internal/jsonptr"
)

// jsonDocument is a JSON document (an alert) decoded once, when the first
// evidence pointer into it is checked.
type jsonDocument struct {
	decoded bool
	value   any
	err     error
}

func (j *jsonDocument) read(content string) (any, error) {
	if !j.decoded {
		j.value, j.err = jsonptr.Decode([]byte(content))
		j.decoded = true
	}
	return j.value, j.err
}

// groundPointer scores evidence that names a field of a JSON document by
// JSON Pointer, as grounding scores a quote in text: the field holds the
// quote (1.0), holds a value the quote is part of (0.8), or either only
// after folding case and white space (0.6); a pointer to no field, or to a
// field that holds something else, grounds nothing (0), and the reason says
// which.
func (j *jsonDocument) groundPointer(content string, ev countersign.Evidence) (float64, []string) {
	if err := jsonptr.Check(ev.Pointer); err != nil {
		return 0, []string{fmt.Sprintf("evidence pointer %q is not a JSON Pointer: it %v", ev.Pointer, err)}
	}
	doc, err := j.read(content)
	if err != nil {
		return 0, []string{fmt.Sprintf("evidence pointer %s: the document is not JSON", ev.Pointer)}
	}
	v, found := jsonptr.Resolve(doc, ev.Pointer)
	if !found {
		return 0, []string{fmt.Sprintf("evidence pointer %s is not in the alert", ev.Pointer)}
	}
	held, quote := jsonptr.Text(v), strings.TrimSpace(ev.Quote)
	switch {
	case held == quote:
		return groundExact, nil
	case strings.Contains(held, quote):
		return groundMoved, []string{fmt.Sprintf("the quote is part of the value at %s", ev.Pointer)}
	case strings.Contains(evidence.Fold(held), evidence.Fold(quote)):
		return groundFolded, []string{fmt.Sprintf("the quote matches the value at %s only after folding case and white space", ev.Pointer)}
	}
	return 0, []string{fmt.Sprintf("evidence pointer %s holds %s, not the quote", ev.Pointer, clipQuote(held))}
}

// clipQuote quotes a value for a reason, cut short when long.
func clipQuote(s string) string {
	const limit = 80
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
