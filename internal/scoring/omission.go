package scoring

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/countersign/countersign"
)

// The omission signal: a model that leaves out a value the document states
// (an amount claimed it did not see) drafts nothing to check, so no signal
// of a value can see the error. Omission reads the document instead: the
// values in it that could fill the field (of the kind its schema gives, or
// what its rules match) and how well the words around the likeliest one fit
// the field.
//
//	omission = 1 / (1 + fit)
//
// 1 when no value of the field's kind is in the document or none stands
// near a word of the field, ½ for one right after a word of the field's
// name, toward 0 the more such words there are. Like ambiguity, it reads
// the document and the task type, never what the model says of itself.

// omissionReason: below this, the reviewer is told which value the
// document seems to give.
const omissionReason = 0.5

// omission records the omission signal of a field the draft left empty and,
// when a value in the document fits the field well, a reason that names it.
func (l *lookalikes) omission(name string, signals map[string]float64) []string {
	k := l.emptyKind(name)
	var found []mention
	if k != nil {
		found = k.find()
	}
	mentions := merge(found, l.ruleMentions(name, k))
	keywords := l.keywords(name)
	best, bestFit := -1, 0.0
	var word contextWord
	for i := range mentions {
		if i >= maxAlternatives*maxMentionsValue {
			break
		}
		if f, w := fit(keywords, l.contextAt(mentions, i)); f > bestFit {
			best, bestFit, word = i, f, w
		}
	}
	score := round(1 / (1 + bestFit))
	signals[countersign.SignalOmission] = score
	if best < 0 || score >= omissionReason {
		return nil
	}
	m := mentions[best]
	return []string{fmt.Sprintf("no value drafted, though the document writes %s next to '%s'", l.text(m.start, m.end), l.label(m, word))}
}

// emptyKind is how the values that could fill an empty field are found,
// from its schema alone, there being no drafted value to go by: the kind
// kindOf gives a stand-in value of the schema's type and format, a value
// of the field's pattern, or one of its enum's strings written as a word.
// Nil for a field of no such kind (names, free text), whose rules alone
// can find values.
func (l *lookalikes) emptyKind(name string) *kind {
	prop := l.props[name]
	switch {
	case hasType(prop.Type, "number") || hasType(prop.Type, "integer"):
		return l.kindOf(name, float64(0))
	case prop.Format == "date" || prop.Format == "date-time":
		return l.kindOf(name, "2000-01-01")
	case prop.Format == "email":
		return l.kindOf(name, "someone@example.com")
	case prop.Pattern != "":
		if re := unanchored(prop.Pattern); re != nil {
			return l.patternKind(re)
		}
	}
	var words []string
	for _, v := range prop.Enum {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			words = append(words, regexp.QuoteMeta(strings.ReplaceAll(strings.TrimSpace(s), "_", " ")))
		}
	}
	if len(words) == 0 {
		return nil
	}
	re := regexp.MustCompile(`(?i)\b(?:` + strings.Join(words, "|") + `)\b`)
	return &kind{
		noun: "value of the field's list", nouns: "values of the field's list",
		keys: func(v any) []string { return []string{genericKey(v)} },
		find: func() []mention {
			var out []mention
			for _, loc := range re.FindAllStringIndex(l.content, maxMentions) {
				out = append(out, mention{start: loc[0], end: loc[1], keys: []string{genericKey(l.content[loc[0]:loc[1]])}})
			}
			return out
		},
	}
}
