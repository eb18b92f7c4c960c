package scoring

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/evidence"
	"github.com/countersign/countersign/internal/tasktype"
)

// The ambiguity signal: a model that picks the wrong one of two dates, or a
// look-alike amount, is often sure of itself and quotes the document
// faithfully, so no other signal sees the error. Ambiguity looks at the
// document instead: the other values in it that fit the field (the same
// kind of value, or what the field's rules match), and whether the words
// around any of them fit the field as well as the words around the drafted
// value do.
//
// With R such rivals among n other values,
//
//	ambiguity = 1 / (1 + R + 0.02·min(n-R, 10))
//
// 1 for a value with no look-alike, at least 0.83 when every look-alike sits
// among words that fit the field worse, 0.5 with one rival, 0.33 with two.
// It reads the document, the task type and where the drafted value is
// quoted; never what the model says of its certainty.

// Bounds on the work for one field of a large document.
const (
	maxAlternatives  = 64 // distinct other values weighed
	maxMentionsValue = 16 // places of one value whose context is read
	weakerPenalty    = 0.02
	maxWeaker        = 10
)

// lookalikes finds, for the fields of one draft, the other values in the
// document that fit each field. The values of one kind it reads from the
// document once, for every field of that kind.
type lookalikes struct {
	tt       *countersign.TaskType
	prepared *Prepared // what is read from tt for every draft
	content  string
	ascii    bool // character offsets are byte offsets
	props    map[string]property
	found    map[string][]mention
}

// property is what the field's JSON Schema says of its values.
type property struct {
	Type        any    `json:"type"`
	Enum        []any  `json:"enum"`
	Format      string `json:"format"`
	Pattern     string `json:"pattern"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

func newLookalikes(tt *countersign.TaskType, prepared *Prepared, content string) *lookalikes {
	ascii := true
	for i := 0; i < len(content) && ascii; i++ {
		ascii = content[i] < utf8.RuneSelf
	}
	return &lookalikes{tt: tt, prepared: prepared, content: content, ascii: ascii, props: prepared.props, found: map[string][]mention{}}
}

// once reads the values of one kind from the document the first time a
// field asks for them.
func (l *lookalikes) once(kind string, find func() []mention) []mention {
	if m, ok := l.found[kind]; ok {
		return m
	}
	m := find()
	l.found[kind] = m
	return m
}

func (l *lookalikes) dates() []mention {
	return l.once("date", func() []mention { return findDates(l.content) })
}

// kind is how the values of a field are found in a document and compared.
type kind struct {
	noun, nouns string
	// keys are what a value says; two values that share a key are the same.
	keys func(v any) []string
	find func() []mention
	// classed: only numbers of the drafted one's class (money, percentage,
	// plain) are alternatives.
	classed bool
}

// kindOf tells the field's kind from its schema and the drafted value: a
// date, a number, an email address, a phone number, a value of the field's
// pattern, or an identifier shaped like the value. Other fields (names,
// addresses, free text) have no kind; only their rules can find look-alikes.
func (l *lookalikes) kindOf(name string, value any) *kind {
	prop := l.props[name]
	s, isString := value.(string)
	_, isNumber := valueNumber(value)
	stringKeys := func(f func(string) []string) func(any) []string {
		return func(v any) []string {
			if s, ok := v.(string); ok {
				return f(s)
			}
			return nil
		}
	}
	switch {
	case isString && (prop.Format == "date" || prop.Format == "date-time" || len(dateKeys(s)) > 0):
		return &kind{noun: "date", nouns: "dates", keys: stringKeys(dateKeys), find: l.dates}
	case isNumber && (hasType(prop.Type, "number") || hasType(prop.Type, "integer")):
		return &kind{
			noun: "number", nouns: "numbers", classed: true,
			keys: func(v any) []string {
				if f, ok := valueNumber(v); ok {
					return []string{numberKey(f)}
				}
				if s, ok := v.(string); ok {
					return numberKeys(strings.TrimSpace(s))
				}
				return nil
			},
			find: func() []mention {
				return l.once("number", func() []mention { return findNumbers(l.content, l.dates()) })
			},
		}
	case isString && (prop.Format == "email" || emailPattern.FindString(s) == s):
		return &kind{
			noun: "email address", nouns: "email addresses",
			keys: stringKeys(func(s string) []string { return []string{emailKey(s)} }),
			find: func() []mention { return l.once("email", func() []mention { return findEmails(l.content) }) },
		}
	case isString && phoneKey(s) != "" && aboutPhones(name, prop):
		return &kind{
			noun: "phone number", nouns: "phone numbers",
			keys: stringKeys(func(s string) []string {
				if k := phoneKey(s); k != "" {
					return []string{k}
				}
				return nil
			}),
			find: func() []mention {
				return l.once("phone", func() []mention { return findPhones(l.content, l.dates()) })
			},
		}
	}
	if !isString {
		return nil
	}
	if prop.Pattern != "" {
		if re := unanchored(prop.Pattern); re != nil && re.FindString(s) == s {
			return l.patternKind(re)
		}
	}
	if looksLikeIdentifier(s) {
		return &kind{
			noun: "value shaped like " + shape(s), nouns: "values shaped like " + shape(s),
			keys: identifierKeys,
			find: func() []mention { return findShaped(l.content, s) },
		}
	}
	return nil
}

// identifierKeys are the keys of a value compared as an identifier.
func identifierKeys(v any) []string {
	if s, ok := v.(string); ok {
		return []string{identifierKey(s)}
	}
	return nil
}

// patternKind is the kind of the values the field's pattern matches.
func (l *lookalikes) patternKind(re *regexp.Regexp) *kind {
	return &kind{
		noun: "value matching the field's pattern", nouns: "values matching the field's pattern",
		keys: identifierKeys,
		find: func() []mention { return findPattern(l.content, re) },
	}
}

// contextAt is the context of mentions[i], not past its neighbours.
func (l *lookalikes) contextAt(mentions []mention, i int) []contextWord {
	lo, hi := 0, len(l.content)
	if i > 0 {
		lo = mentions[i-1].end
	}
	if i+1 < len(mentions) {
		hi = mentions[i+1].start
	}
	return contextOf(l.content, mentions[i].start, mentions[i].end, lo, hi)
}

func hasType(t any, name string) bool {
	switch t := t.(type) {
	case string:
		return t == name
	case []any:
		return slices.Contains(t, any(name))
	}
	return false
}

// aboutPhones: the field's name or description speaks of phones.
func aboutPhones(name string, prop property) bool {
	for _, w := range append(nameWords(name), letterWords(prop.Description+" "+prop.Title, 2)...) {
		switch w {
		case "phone", "telephone", "tel", "mobile", "cell", "fax":
			return true
		}
	}
	return false
}

// genericKey compares values of no known kind as the samples do: text
// folded in case and white space.
func genericKey(v any) string {
	if s, ok := v.(string); ok {
		return "s:" + evidence.Fold(s)
	}
	raw, _ := json.Marshal(v)
	return "s:" + string(raw)
}

// keysOf is what a value says: its kind's keys, and the generic one.
func keysOf(k *kind, v any) []string {
	var out []string
	if k != nil {
		out = k.keys(v)
	}
	return append(out, genericKey(v))
}

// ruleMentions returns where the field's rules match the document, with the
// value each match gives (constant-valued rules say nothing of a value's
// place and are left out).
func (l *lookalikes) ruleMentions(name string, k *kind) []mention {
	var out []mention
	for i, rule := range l.tt.Rules[name] {
		re := l.prepared.rule(name, i)
		if rule.Value != nil || re == nil {
			continue
		}
		valueGroup := re.SubexpIndex("value")
		for _, m := range re.FindAllStringSubmatchIndex(l.content, maxMentions) {
			start, end := m[0], m[1]
			if valueGroup >= 0 {
				start, end = m[2*valueGroup], m[2*valueGroup+1]
			}
			if start < 0 || start == end {
				continue
			}
			groups := map[string]string{}
			for i, g := range re.SubexpNames() {
				if g != "" && m[2*i] >= 0 {
					groups[g] = l.content[m[2*i]:m[2*i+1]]
				}
			}
			v, err := tasktype.Transform(rule.Transform, l.content[start:end], groups)
			if err != nil || v == "" {
				continue
			}
			out = append(out, mention{start: start, end: end, keys: keysOf(k, v)})
		}
	}
	return out
}

// merge puts mentions in document order, dropping any that overlaps one
// before it.
func merge(lists ...[]mention) []mention {
	var all []mention
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortStableFunc(all, func(a, b mention) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	out := all[:0]
	for _, m := range all {
		if len(out) > 0 && m.start < out[len(out)-1].end {
			continue
		}
		out = append(out, m)
	}
	return out
}

func sharesKey(a, b []string) bool {
	for _, k := range a {
		if slices.Contains(b, k) {
			return true
		}
	}
	return false
}

// rival is another value of the field and how well its best place fits it.
type rival struct {
	at   int // the mention
	fit  float64
	word contextWord
}

// ambiguity records the ambiguity signal of a drafted field and, when some
// other value fits the field as well or better, a reason that names it.
// It records nothing for a field whose kind is not known and that has no
// rules. With the context signal it returns the words it read around the
// value (see countersign.FieldScore.Words).
func (l *lookalikes) ambiguity(name string, value any, ev countersign.Evidence, signals map[string]float64) ([]string, []string) {
	k := l.kindOf(name, value)
	if k == nil && len(l.tt.Rules[name]) == 0 {
		// No other value can be told of its kind, but the words around the
		// quote can still be read.
		if from, to := l.quoteSpan(ev); from >= 0 {
			around := contextOf(l.content, from, to, 0, len(l.content))
			own, _ := fit(l.keywords(name), around)
			signals[countersign.SignalContext] = contextScore(own)
			return nil, wordList(around, from)
		}
		return nil, nil
	}
	drafted := keysOf(k, value)
	var found []mention
	if k != nil {
		found = k.find()
	}
	mentions := merge(found, l.ruleMentions(name, k))

	quoteStart, quoteEnd := l.quoteSpan(ev)
	inQuote := func(m mention) bool { return quoteStart >= 0 && m.start < quoteEnd && m.end > quoteStart }
	var mine []int
	for i, m := range mentions {
		if sharesKey(m.keys, drafted) {
			mine = append(mine, i)
		}
	}
	class := ""
	if k != nil && k.classed {
		class = l.draftedClass(mentions, mine, inQuote)
	}
	var groups [][]int
	index := map[string]int{}
	for i, m := range mentions {
		if sharesKey(m.keys, drafted) || class != "" && m.class != "" && m.class != class {
			continue
		}
		id := strings.Join(m.keys, "|")
		g, ok := index[id]
		if !ok {
			if len(groups) == maxAlternatives {
				continue
			}
			g = len(groups)
			index[id] = g
			groups = append(groups, nil)
		}
		if len(groups[g]) < maxMentionsValue {
			groups[g] = append(groups[g], i)
		}
	}
	keywords := l.keywords(name)
	contextAt := func(i int) []contextWord { return l.contextAt(mentions, i) }

	// The drafted value fits as well as its best place: where it is quoted,
	// or anywhere else the document gives it.
	own, shown := 0.0, ""
	if len(mine) > maxMentionsValue {
		mine = mine[:maxMentionsValue]
	}
	// The words recorded are those of the place quoted, or else of the
	// place that fits best.
	var words []string
	wordsFit, wordsQuoted := -1.0, false
	for _, i := range mine {
		around := contextAt(i)
		f, _ := fit(keywords, around)
		own = max(own, f)
		if shown == "" || inQuote(mentions[i]) {
			shown = l.text(mentions[i].start, mentions[i].end)
		}
		if q := inQuote(mentions[i]); !wordsQuoted && (q || f > wordsFit) {
			words, wordsFit, wordsQuoted = wordList(around, mentions[i].start), f, q
		}
	}
	if len(mine) == 0 && quoteStart >= 0 {
		lo, hi := 0, len(l.content)
		for _, m := range mentions {
			if m.end <= quoteStart {
				lo = m.end
			} else if m.start >= quoteEnd && hi == len(l.content) {
				hi = m.start
			}
		}
		around := contextOf(l.content, quoteStart, quoteEnd, lo, hi)
		own, _ = fit(keywords, around)
		words = wordList(around, quoteStart)
	}
	if len(mine) > 0 || quoteStart >= 0 {
		signals[countersign.SignalContext] = contextScore(own)
	}
	if len(groups) == 0 {
		signals[countersign.SignalAmbiguity] = 1
		return nil, words
	}
	if shown == "" {
		shown = countersign.ValueText(value)
	}

	var rivals []rival
	for _, g := range groups {
		best := rival{at: -1, fit: -1}
		for _, i := range g {
			if f, w := fit(keywords, contextAt(i)); f > best.fit {
				best = rival{at: i, fit: f, word: w}
			}
		}
		if best.fit >= own-1e-9 {
			rivals = append(rivals, best)
		}
	}
	n, r := len(groups), len(rivals)
	signals[countersign.SignalAmbiguity] = round(1 / (1 + float64(r) + weakerPenalty*float64(min(n-r, maxWeaker))))
	if r == 0 {
		return nil, words
	}
	return []string{l.reason(name, k, class, n, rivals, own, shown, mentions)}, words
}

// wordList lists context words as countersign.FieldScore.Words does: those
// before the value at "at" as they are, those after it with a leading "+",
// each once, in the order read (nearest first on each side).
func wordList(around []contextWord, at int) []string {
	out := make([]string, 0, len(around))
	for _, w := range around {
		word := w.word
		if w.start >= at {
			word = "+" + word
		}
		if !slices.Contains(out, word) {
			out = append(out, word)
		}
	}
	return out
}

// keywords are the words that say a passage is about the field.
func (l *lookalikes) keywords(name string) []keyword {
	if k, ok := l.prepared.keywords[name]; ok {
		return k
	}
	return l.prepared.fieldKeywords(l.tt, name)
}

// contextScore is the context signal of a fit: 0 when no word of the field
// stands near the value, ½ for one right before it, toward 1 the more there
// are. A value whose place says nothing of the field (a deductible drafted
// as the amount claimed) is often one the model took from elsewhere, and
// ambiguity does not see it when no other value fits the field better.
func contextScore(fit float64) float64 { return round(fit / (1 + fit)) }

// reason says which other value a reviewer should look at: the one whose
// words fit the field best, and the words.
func (l *lookalikes) reason(name string, k *kind, class string, n int, rivals []rival, own float64, shown string, mentions []mention) string {
	best := rivals[0]
	for _, r := range rivals[1:] {
		if r.fit > best.fit {
			best = r
		}
	}
	noun, nouns := "value the field's rules find", "values the field's rules find"
	switch {
	case class == classMoney:
		noun, nouns = "amount", "amounts"
	case class == classPercent:
		noun, nouns = "percentage", "percentages"
	case k != nil:
		noun, nouns = k.noun, k.nouns
	}
	if n != 1 {
		noun = nouns
	}
	head := fmt.Sprintf("%d other %s in the document", n, noun)
	m := mentions[best.at]
	other := l.text(m.start, m.end)
	field := strings.ReplaceAll(name, "_", " ")
	if best.fit <= 0 {
		return fmt.Sprintf("%s; nothing near the drafted %s, or near %s, says which is the %s", head, shown, other, field)
	}
	label := l.label(m, best.word)
	if best.fit > own+1e-9 {
		return fmt.Sprintf("%s; '%s' sits next to %s, not the drafted %s", head, label, other, shown)
	}
	return fmt.Sprintf("%s; '%s' sits next to %s, which fits the %s as well as the drafted %s", head, label, other, field, shown)
}

// label is the text from a context word to the value it is near: "effective
// as of" before a date, "the Effective Date" after one.
func (l *lookalikes) label(m mention, w contextWord) string {
	var s string
	if w.end <= m.start {
		s = l.content[w.start:m.start]
	} else {
		s = l.content[m.end:w.end]
	}
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if utf8.RuneCountInString(s) > 40 {
		return l.content[w.start:w.end]
	}
	return s
}

// text is a stretch of the document for a reason: white space folded,
// clipped.
func (l *lookalikes) text(start, end int) string {
	s := strings.Join(strings.Fields(l.content[start:end]), " ")
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// draftedClass is the class of number the drafted value is written as: that
// of its place in the quote, else of its first place in the document, else
// of a number in the quote; empty when the document says nothing.
func (l *lookalikes) draftedClass(mentions []mention, mine []int, inQuote func(mention) bool) string {
	for _, i := range mine {
		if inQuote(mentions[i]) {
			return mentions[i].class
		}
	}
	if len(mine) > 0 {
		return mentions[mine[0]].class
	}
	for _, m := range mentions {
		if inQuote(m) {
			return m.class
		}
	}
	return ""
}

// quoteSpan is the quote's place in the document in bytes, or -1, -1 when
// it is not there.
func (l *lookalikes) quoteSpan(ev countersign.Evidence) (int, int) {
	from, to := ev.Start, ev.End
	if !l.ascii {
		from, to = byteOffset(l.content, ev.Start), byteOffset(l.content, ev.End)
	}
	if from >= 0 && to > from && to <= len(l.content) && l.content[from:to] == ev.Quote {
		return from, to
	}
	if ev.Quote != "" {
		if i := strings.Index(l.content, ev.Quote); i >= 0 {
			return i, i + len(ev.Quote)
		}
	}
	return -1, -1
}
