// Package llm holds the extractors that draft a task type's fields from a
// document: the rules extractor here (deterministic patterns declared in the
// task type), and the model-backed extractors.
package llm

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/tasktype"
)

// Rules is the rules extractor: for each field, the first of its patterns
// that matches the document gives the value, and the matched text (or the
// pattern's group named "quote") is the evidence. It needs no model and always
// quotes the document verbatim.
type Rules struct {
	mu       sync.Mutex
	compiled map[string]map[string][]compiledRule // by task type version, then field
}

type compiledRule struct {
	re   *regexp.Regexp
	rule countersign.Rule
}

// NewRules returns a rules extractor.
func NewRules() *Rules {
	return &Rules{compiled: map[string]map[string][]compiledRule{}}
}

// Extract drafts every field that has a matching rule. Fields without a match
// are left out of the draft, for a person to fill.
func (r *Rules) Extract(ctx context.Context, tt *countersign.TaskType, doc *countersign.Document) (*countersign.Draft, error) {
	rules, err := r.rulesFor(tt)
	if err != nil {
		return nil, err
	}
	draft := &countersign.Draft{
		Fields:    countersign.Fields{},
		Evidence:  map[string]countersign.Evidence{},
		Extractor: countersign.ExtractorRules,
	}
	offsets := newRuneOffsets(doc.Content)
	for _, field := range tt.FieldOrder {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, cr := range rules[field] {
			value, ev, ok := cr.first(doc.Content, offsets)
			if ok {
				draft.Fields[field] = value
				draft.Evidence[field] = ev
				break
			}
		}
	}
	return draft, nil
}

func (r *Rules) rulesFor(tt *countersign.TaskType) (map[string][]compiledRule, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rules, ok := r.compiled[tt.Version]; ok {
		return rules, nil
	}
	rules := make(map[string][]compiledRule, len(tt.Rules))
	for field, list := range tt.Rules {
		for i, rule := range list {
			re, err := regexp.Compile(rule.Pattern)
			if err != nil {
				return nil, fmt.Errorf("task type %s: rules.%s[%d]: %w", tt.Name, field, i, err)
			}
			rules[field] = append(rules[field], compiledRule{re: re, rule: rule})
		}
	}
	r.compiled[tt.Version] = rules
	return rules, nil
}

// first returns the value and evidence of the first match whose text the
// rule's transform accepts.
func (cr compiledRule) first(content string, offsets *runeOffsets) (any, countersign.Evidence, bool) {
	valueGroup := cr.re.SubexpIndex("value")
	for _, m := range cr.re.FindAllStringSubmatchIndex(content, -1) {
		groups := map[string]string{}
		for i, name := range cr.re.SubexpNames() {
			if name != "" && m[2*i] >= 0 {
				groups[name] = content[m[2*i]:m[2*i+1]]
			}
		}
		text := content[m[0]:m[1]]
		if valueGroup >= 0 {
			if m[2*valueGroup] < 0 {
				continue
			}
			text = groups["value"]
		}
		value := cr.rule.Value
		if value == nil {
			v, err := tasktype.Transform(cr.rule.Transform, text, groups)
			if err != nil || v == "" {
				continue
			}
			value = v
		}
		start, end := m[0], m[1]
		if q := cr.re.SubexpIndex("quote"); q >= 0 && m[2*q] >= 0 {
			start, end = m[2*q], m[2*q+1]
		}
		start, end = trimSpan(content, start, end)
		return value, countersign.Evidence{
			Quote: content[start:end],
			Start: offsets.at(start),
			End:   offsets.at(end),
		}, true
	}
	return nil, countersign.Evidence{}, false
}

// trimSpan narrows [start, end) so the quote neither starts nor ends with
// white space.
func trimSpan(s string, start, end int) (int, int) {
	for start < end {
		r, size := utf8.DecodeRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += size
	}
	for end > start {
		r, size := utf8.DecodeLastRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= size
	}
	return start, end
}

// runeOffsets converts byte offsets in a string to character offsets.
type runeOffsets struct {
	s     string
	ascii bool
}

func newRuneOffsets(s string) *runeOffsets {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	return &runeOffsets{s: s, ascii: ascii}
}

func (o *runeOffsets) at(byteOffset int) int {
	if o.ascii {
		return byteOffset
	}
	return utf8.RuneCountInString(o.s[:byteOffset])
}
