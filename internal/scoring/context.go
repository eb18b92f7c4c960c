package scoring

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/countersign/countersign"
)

// This file measures how well the words around a value in a document fit a
// field: the words of the field's name, of its description, and the literal
// words of its rules' patterns, looked for among the few words before the
// value (where labels stand) and after it.

// The context of a value: at most so many words before and after it, within
// so many bytes, not past a blank line or the end of a sentence.
const (
	wordsBefore = 6
	wordsAfter  = 4
	windowBytes = 160
)

// keyword is a word that says a passage is about a field, with how much it
// counts.
type keyword struct {
	word   string
	weight float64
}

// Keyword weights: the field's name and its rules' patterns say what the
// field is; its description says it in passing.
const (
	nameWeight        = 1
	descriptionWeight = 0.5
)

// fieldKeywords lists the keywords of a field, sorted, each once with its
// highest weight.
func fieldKeywords(name string, descriptions []string, rules []countersign.Rule) []keyword {
	weights := map[string]float64{}
	add := func(words []string, w float64) {
		for _, word := range words {
			if len(word) >= 2 && !stopWords[word] && weights[word] < w {
				weights[word] = w
			}
		}
	}
	add(nameWords(name), nameWeight)
	for _, r := range rules {
		add(patternWords(r.Pattern), nameWeight)
	}
	for _, d := range descriptions {
		add(letterWords(d, 3), descriptionWeight)
	}
	out := make([]keyword, 0, len(weights))
	for word, w := range weights {
		out = append(out, keyword{word, w})
	}
	slices.SortFunc(out, func(a, b keyword) int { return strings.Compare(a.word, b.word) })
	return out
}

// nameWords splits a field name at underscores, dashes, dots and lower-to-
// upper case changes: "effective_date" and "effectiveDate" are effective,
// date.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range name {
		switch {
		case !unicode.IsLetter(r):
			flush()
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return words
}

var (
	regexGroupName = regexp.MustCompile(`\(\?P?<[^>]*>`)
	regexFlags     = regexp.MustCompile(`\(\?[a-zA-Z-]*[:)]`)
	regexClass     = regexp.MustCompile(`\[(?:\\.|[^\]\\])*\]`)
	regexEscape    = regexp.MustCompile(`\\(?:[pP]\{[^}]*\}|.)`)
)

// patternWords returns the literal words of a regular expression: what is
// left of it without group names, flags, character classes and escapes.
// '(?i:effective\s+as\s+of)\s+(?P<value>...)' gives effective, as, of.
func patternWords(pattern string) []string {
	for _, re := range []*regexp.Regexp{regexGroupName, regexFlags, regexClass, regexEscape} {
		pattern = re.ReplaceAllString(pattern, " ")
	}
	return letterWords(pattern, 3)
}

// letterWords returns the runs of letters in s at least min long, lower
// case.
func letterWords(s string, min int) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(w)) >= min {
			out = append(out, strings.ToLower(w))
		}
	}
	return out
}

// contextWord is a word near a value with its weight: 1 for the word right
// before the value, less the further away, and half as much after it.
type contextWord struct {
	word       string
	start, end int
	weight     float64
}

var paragraphBreak = regexp.MustCompile(`\n[ \t\r]*\n`)

// contextOf returns the words around content[start:end], stopping at lo
// before it and hi after it (the neighbouring values of the same kind, whose
// labels are not this value's), at a blank line, at the end of a sentence,
// and at windowBytes. The next sentence speaks of something else: "came to
// $274.00. Our client made a previous claim" does not make the quote for
// the emergency work an amount claimed.
func contextOf(content string, start, end, lo, hi int) []contextWord {
	from := max(lo, start-windowBytes, 0)
	before := content[from:start]
	if breaks := paragraphBreak.FindAllStringIndex(before, -1); len(breaks) > 0 {
		from += breaks[len(breaks)-1][1]
	}
	if at := lastSentenceEnd(content, from, start); at >= 0 {
		from = at
	}
	to := min(hi, end+windowBytes, len(content))
	after := content[end:to]
	if br := paragraphBreak.FindStringIndex(after); br != nil {
		to = end + br[0]
	}
	if at := firstSentenceEnd(content, end, to); at >= 0 {
		to = at
	}
	var out []contextWord
	words := wordsIn(content, from, start)
	for i, n := len(words)-1, 0; i >= 0 && n < wordsBefore; i-- {
		words[i].weight = 1 / (1 + float64(n)/2)
		out = append(out, words[i])
		n++
	}
	for i, w := range wordsIn(content, end, to) {
		if i == wordsAfter {
			break
		}
		w.weight = 0.5 / (1 + float64(i)/2)
		out = append(out, w)
	}
	return out
}

// sentenceEnd is a full stop, question or exclamation mark (with closing
// quotes or brackets) before white space and a capital letter or digit.
var sentenceEnd = regexp.MustCompile(`[.!?]["')\]]*\s+[\p{Lu}\p{N}]`)

// abbreviations end in a full stop without ending a sentence: labels such as
// "policy no. HX-2248", "claim ref. CLM-2025" and "Total amt. 1,250.00"
// stay with their values.
var abbreviations = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`no nos nr ref refs mr mrs ms dr st vs etc inc ltd co corp jr sr approx dept tel fig p pp vol art sec cf eg ie
		amt amts qty qtys max min est incl excl acct tot avg bal`) {
		m[w] = true
	}
	return m
}()

// sentenceEnds returns where the sentences ending in content[from:to] end:
// the byte after each one's punctuation, in order. A full stop after an
// abbreviation or a single letter (an initial) ends none.
func sentenceEnds(content string, from, to int) []int {
	var out []int
	for _, m := range sentenceEnd.FindAllStringIndex(content[from:to], -1) {
		at := from + m[0]
		if content[at] == '.' {
			i := at
			for i > 0 && unicode.IsLetter(rune(content[i-1])) && content[i-1] < utf8.RuneSelf {
				i--
			}
			word := strings.ToLower(content[i:at])
			if word != "" && (len(word) == 1 || abbreviations[word]) {
				continue
			}
		}
		out = append(out, at+1)
	}
	return out
}

// lastSentenceEnd is where the last sentence ending in content[from:to]
// ends, or -1. The capital letter that marks it may stand at to or past it.
func lastSentenceEnd(content string, from, to int) int {
	ends := sentenceEnds(content, from, min(to+utf8.UTFMax+1, len(content)))
	for i := len(ends) - 1; i >= 0; i-- {
		if ends[i] <= to {
			return ends[i]
		}
	}
	return -1
}

// firstSentenceEnd is where the first sentence ending in content[from:to]
// ends (with a value at from, the value's own sentence), or -1. The
// capital letter that marks it may stand past to.
func firstSentenceEnd(content string, from, to int) int {
	ends := sentenceEnds(content, from, min(to+utf8.UTFMax+1, len(content)))
	if len(ends) == 0 || ends[0] > to {
		return -1
	}
	return ends[0]
}

// wordsIn returns the words of content[from:to] that are not stop words.
func wordsIn(content string, from, to int) []contextWord {
	var out []contextWord
	start := -1
	for i, r := range content[from:to] {
		letter := unicode.IsLetter(r)
		switch {
		case letter && start < 0:
			start = from + i
		case !letter && start >= 0:
			out = appendWord(out, content, start, from+i)
			start = -1
		}
	}
	if start >= 0 {
		out = appendWord(out, content, start, to)
	}
	return out
}

func appendWord(out []contextWord, content string, start, end int) []contextWord {
	word := strings.ToLower(content[start:end])
	if stopWords[word] || len(word) < 2 {
		return out
	}
	return append(out, contextWord{word: word, start: start, end: end})
}

// fit is how well the words fit the field: per keyword, its weight times
// that of the best word matching it, summed. It returns the word that
// counted most, too.
func fit(keywords []keyword, words []contextWord) (float64, contextWord) {
	var total, top float64
	var best contextWord
	for _, k := range keywords {
		var w contextWord
		for _, c := range words {
			if c.weight > w.weight && sameWord(c.word, k.word) {
				w = c
			}
		}
		total += k.weight * w.weight
		if k.weight*w.weight > top {
			top, best = k.weight*w.weight, w
		}
	}
	return total, best
}

// sameWord: equal, or one a prefix of the other with at least four letters
// and at most four more ("date", "dated"; "effect", "effective"; not "term",
// "termination"), or two forms of one word ("claimed", "claims",
// "claiming": see stem).
func sameWord(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) >= 4 && len(b)-len(a) <= 4 && strings.HasPrefix(b, a) {
		return true
	}
	sa, sb := stem(a), stem(b)
	return len(sa) >= 4 && sa == sb
}

// inflections are the endings stem takes off, longest first.
var inflections = []string{"ing", "ed", "es", "s"}

// stem takes one inflection off a word, leaving four letters at least: the
// prefix rule of sameWord cannot match two forms that each add an ending
// ("claimed" and "claims" share "claim", but neither starts with the other),
// and a field named amount_claimed is what a sentence "claims" or is
// "claiming".
func stem(w string) string {
	for _, end := range inflections {
		if len(w)-len(end) >= 4 && strings.HasSuffix(w, end) {
			return w[:len(w)-len(end)]
		}
	}
	return w
}

// stopWords carry no sense of a field: articles, pronouns, auxiliaries, a
// few prepositions, and month names (which are part of dates).
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or nor but of to in on at by for with as is are was were be been
		being this that these those it its if then than not no any all each per via into onto upon shall will would
		may must can could should has have had do does did such which who whom whose what when where how there here
		their our your his her they we you me my us them he she him so also only very own value field document
		january february march april june july august september october november december
		jan feb mar apr jun jul aug sep sept oct nov dec`) {
		m[w] = true
	}
	return m
}()
