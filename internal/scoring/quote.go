package scoring

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/evidence"
)

// The quote_match signal: a model that misreads a value (a digit off in a
// policy number, a day off in a date, a letter off in a name) quotes the
// text it read faithfully, so grounding finds the quote and, when the model
// is sure of itself, nothing else looks wrong. The quote says the value,
// though: read as the value's type allows (a date in any of its written
// forms, a number with its grouping and currency, text folded in case and
// white space), it either says the drafted value or another one.
//
//   - 1: the quote says the drafted value;
//   - 0: it says another value of the same kind (another date, another
//     number) and not the drafted one, or holds text one character from the
//     drafted text (one in ten for longer text) and not the text itself,
//     punctuation, accents and spacing aside (a misreading);
//   - absent: the quote says nothing the value can be compared with (an
//     incident type quoted by the sentence that describes it, a currency
//     code quoted by its symbol).
//
// Like every signal it reads only the draft and the document.

// Bounds of the comparison: values this short are not compared as text
// (a near miss of "USD" is another code, not a misreading), and quotes this
// long are not searched for a near miss.
const (
	minNearMiss   = 4
	maxQuoteRunes = 512
)

// quoteMatch records the quote_match signal of a drafted field, and a
// reason when the quote says another value.
func quoteMatch(value any, ev countersign.Evidence, signals map[string]float64) []string {
	quote := strings.TrimSpace(ev.Quote)
	if quote == "" {
		return nil
	}
	said, compared := quoteSays(value, quote)
	if !compared {
		return nil
	}
	if said == "" {
		signals[countersign.SignalQuoteMatch] = 1
		return nil
	}
	signals[countersign.SignalQuoteMatch] = 0
	return []string{fmt.Sprintf("the value %s is not what its quote says (%s)", short(value), short(said))}
}

// quoteSays compares a value with its quote. compared is false when the
// quote holds nothing of the value's kind; otherwise said is empty when the
// quote says the value, or the text of the quote that says another.
func quoteSays(value any, quote string) (said string, compared bool) {
	if f, ok := valueNumber(value); ok {
		found := findNumbers(quote, findDates(quote))
		return differs(quote, found, numberReadings(f, quote))
	}
	s, ok := value.(string)
	if !ok {
		return "", false
	}
	if keys := dateKeys(s); len(keys) > 0 {
		return differs(quote, findDates(quote), keys)
	}
	v, q := evidence.Fold(s), evidence.Fold(quote)
	if strings.Contains(q, v) {
		return "", true
	}
	// A value that differs from its quote only in punctuation, accents or
	// spacing ("Acme Corp." quoted "ACME Corp", "Jose" quoted "José",
	// "O'Brien" quoted "O’Brien") is the quote written another way, not a
	// misreading.
	if sv := skeleton(s); sv != "" && strings.Contains(skeleton(quote), sv) {
		return "", true
	}
	if near, ok := nearMiss(v, q); ok {
		return near, true
	}
	return "", false
}

// scaleWords write a number in thousands, millions or billions ("EUR 1.2
// million", "USD 3.5 bn"): the quote then writes the value divided by the
// scale.
var scaleWords = regexp.MustCompile(`(?i)\d\s*(?:(thousands?|k)|(millions?|mn|m)|(billions?|bn))\b`)

// percentWords write a percentage in words.
var percentWords = regexp.MustCompile(`(?i)\bper\s?cent\b|\bpct\b`)

// numberReadings are the keys under which a quote may write the number v:
// itself, as a percentage of it when v is a fraction ("5%" for 0.05), and
// in the scale the quote names.
func numberReadings(v float64, quote string) []string {
	// A negative amount is often written without its sign: "(1,250.00)",
	// "-$1,200", a loss or a credit.
	keys := []string{numberKey(v), numberKey(math.Abs(v))}
	if strings.Contains(quote, "%") || percentWords.MatchString(quote) {
		keys = append(keys, numberKey(v*100))
	}
	for _, m := range scaleWords.FindAllStringSubmatch(quote, -1) {
		switch {
		case m[1] != "":
			keys = append(keys, numberKey(v/1e3))
		case m[2] != "":
			keys = append(keys, numberKey(v/1e6))
		case m[3] != "":
			keys = append(keys, numberKey(v/1e9))
		}
	}
	return keys
}

// skeleton is text with only its letters and digits, lower case, without
// accents.
func skeleton(text string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(text) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// differs compares the keys of a value with the values found in its quote:
// the quote says the value when one of them shares a key with it.
func differs(quote string, found []mention, keys []string) (string, bool) {
	if len(found) == 0 {
		return "", false
	}
	for _, m := range found {
		for _, k := range m.keys {
			if slices.Contains(keys, k) {
				return "", true
			}
		}
	}
	return quote[found[0].start:found[0].end], true
}

// nearMiss finds in text (folded) the stretch closest to value (folded) by
// edit distance, and returns it when it is a misreading of the value: one
// character off, or one in ten for longer values, and not the value itself
// (which the caller looked for first).
func nearMiss(value, text string) (string, bool) {
	v, t := []rune(value), []rune(text)
	if len(v) < minNearMiss || len(t) > maxQuoteRunes {
		return "", false
	}
	limit := max(1, len(v)/10)
	d, end := closestStretch(v, t)
	if d == 0 || d > limit {
		return "", false
	}
	// The stretch ends at end and is within limit characters of the
	// value's length: the closest of those is the one shown.
	best, start := -1, end
	for s := max(0, end-len(v)-limit); s <= end-len(v)+limit && s < end; s++ {
		if e := editDistance(v, t[s:end]); best < 0 || e < best {
			best, start = e, s
		}
	}
	return string(t[start:end]), true
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j-1]+cost, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// closestStretch is the least edit distance between v and any stretch of t
// (Sellers' algorithm: the distance to a stretch may start anywhere at no
// cost), and where in t the best stretch ends (the last of equals: a
// stretch one character short of the value ends before the whole one).
func closestStretch(v, t []rune) (dist, end int) {
	prev := make([]int, len(v)+1)
	cur := make([]int, len(v)+1)
	for i := range prev {
		prev[i] = i
	}
	dist, end = prev[len(v)], 0
	for j := 1; j <= len(t); j++ {
		cur[0] = 0
		for i := 1; i <= len(v); i++ {
			cost := 1
			if v[i-1] == t[j-1] {
				cost = 0
			}
			cur[i] = min(prev[i-1]+cost, prev[i]+1, cur[i-1]+1)
		}
		if cur[len(v)] <= dist {
			dist, end = cur[len(v)], j
		}
		prev, cur = cur, prev
	}
	return dist, end
}
