package scoring

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file finds the values of one kind in a document (dates, amounts,
// email addresses, phone numbers, identifiers of one shape) and turns values
// into keys that compare equal when they say the same thing in other words:
// "1 March 2025" and "2025-03-01", "EUR 1,250.00" and 1250. A text that can
// be read two ways ("03/01/2025", "1.250") has a key for each reading.

// maxMentions bounds the values of one kind read from a document.
const maxMentions = 4096

// mention is a value found in the document: its byte span, the keys of what
// it may stand for and, for numbers, whether it is money, a percentage or
// plain.
type mention struct {
	start, end int
	keys       []string
	class      string
}

// Number classes.
const (
	classMoney   = "money"
	classPercent = "percent"
	classPlain   = "plain"
)

// dateKeys reads text, one date and nothing else, as the dates it may be:
// two for "03/01/2025" (3 January, or March 1 as the US writes it), one
// otherwise, none when it is not a date.
func dateKeys(text string) []string {
	text = strings.TrimSpace(text)
	if len(text) > 64 {
		return nil
	}
	if found := findDates(text); len(found) == 1 && found[0].start == 0 && found[0].end == len(text) {
		return found[0].keys
	}
	return nil
}

// civilKey is the key of a calendar date, or empty when there is no such day.
func civilKey(y, m, d string) string {
	year, err1 := strconv.Atoi(y)
	month, err2 := strconv.Atoi(m)
	day, err3 := strconv.Atoi(d)
	if err1 != nil || err2 != nil || err3 != nil || month < 1 || month > 12 || day < 1 {
		return ""
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return ""
	}
	return "d:" + t.Format(time.DateOnly)
}

// months are the month names and their abbreviations, by number.
var months = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}

// findDates returns the dates written in content, in order, in the common
// forms: ISO ("2025-03-01", with a time or not), "2025/03/01", "01.03.2025",
// "03/01/2025", "March 1, 2025" ("Mar. 1st 2025") and "1 March 2025" ("1st
// of March, 2025"). Every form has a four-digit year, so it looks for those
// and reads the date around each: a scan by hand, because on megabytes of
// text Go's regular expressions would take seconds.
func findDates(content string) []mention {
	var out []mention
	for i := 0; i < len(content) && len(out) < maxMentions; {
		if !isDigit(content[i]) {
			i++
			continue
		}
		j := i
		for j < len(content) && isDigit(content[j]) {
			j++
		}
		if j-i == 4 {
			if m, ok := dateAt(content, i, j); ok && (len(out) == 0 || m.start >= out[len(out)-1].end) {
				out = append(out, m)
				j = max(j, m.end)
			}
		}
		i = j
	}
	return out
}

// dateAt reads the date whose year is s[ys:ye], if there is one.
func dateAt(s string, ys, ye int) (mention, bool) {
	year := s[ys:ye]
	// Year first: 2025-03-01, 2025-03-01T09:30:00Z, 2025/03/01.
	if ye < len(s) && (s[ye] == '-' || s[ye] == '/') && boundaryBefore(s, ys) {
		sep := s[ye]
		if me := digitsForward(s, ye+1); me > 0 && me < len(s) && s[me] == sep {
			if de := digitsForward(s, me+1); de > 0 {
				end := de
				if sep == '-' {
					end = timeForward(s, de)
				}
				if boundaryAfter(s, end) {
					if k := civilKey(year, s[ye+1:me], s[me+1:de]); k != "" {
						return mention{start: ys, end: end, keys: []string{k}}, true
					}
				}
			}
		}
		return mention{}, false
	}
	if !boundaryAfter(s, ye) {
		return mention{}, false
	}
	// Year last, in numbers: 01.03.2025 (day first), 03/01/2025 (either).
	if ys > 0 && (s[ys-1] == '/' || s[ys-1] == '.') {
		sep := s[ys-1]
		if bs := digitsBack(s, ys-1); bs > 0 && s[bs-1] == sep {
			if as := digitsBack(s, bs-1); as >= 0 && boundaryBefore(s, as) {
				var keys []string
				if k := civilKey(year, s[bs:ys-1], s[as:bs-1]); k != "" {
					keys = append(keys, k)
				}
				if k := civilKey(year, s[as:bs-1], s[bs:ys-1]); sep == '/' && k != "" && !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
				if len(keys) > 0 {
					return mention{start: as, end: ye, keys: keys}, true
				}
			}
		}
		return mention{}, false
	}
	// Year last, with the month's name: "March 1, 2025", "1st of March 2025".
	p := spaceBack(s, ys)
	if p == ys {
		return mention{}, false
	}
	if p > 0 && s[p-1] == ',' {
		p--
	}
	if ds, ok := dayBack(s, p); ok {
		if q := spaceBack(s, ds); q < ds {
			if q > 0 && s[q-1] == '.' {
				q--
			}
			if ms, month := monthBack(s, q); month > 0 {
				if k := civilKey(year, strconv.Itoa(month), strings.TrimRight(s[ds:p], "stndrhSTNDRH")); k != "" {
					return mention{start: ms, end: ye, keys: []string{k}}, true
				}
			}
		}
		return mention{}, false
	}
	if p > 0 && s[p-1] == '.' {
		p--
	}
	ms, month := monthBack(s, p)
	if month == 0 {
		return mention{}, false
	}
	q := spaceBack(s, ms)
	if q == ms {
		return mention{}, false
	}
	if q >= 2 && strings.EqualFold(s[q-2:q], "of") && q-2 > 0 {
		if r := spaceBack(s, q-2); r < q-2 {
			q = r
		}
	}
	if ds, ok := dayBack(s, q); ok {
		if k := civilKey(year, strconv.Itoa(month), strings.TrimRight(s[ds:q], "stndrhSTNDRH")); k != "" {
			return mention{start: ds, end: ye, keys: []string{k}}, true
		}
	}
	return mention{}, false
}

// digitsForward returns the end of one or two digits at i, or -1.
func digitsForward(s string, i int) int {
	j := i
	for j < len(s) && j-i < 3 && isDigit(s[j]) {
		j++
	}
	if j == i || j-i > 2 {
		return -1
	}
	return j
}

// digitsBack returns the start of one or two digits ending at i, or -1.
func digitsBack(s string, i int) int {
	j := i
	for j > 0 && i-j < 3 && isDigit(s[j-1]) {
		j--
	}
	if j == i || i-j > 2 {
		return -1
	}
	return j
}

// dayBack reads a day of the month ending at i ("1", "21st"), and returns
// where it starts.
func dayBack(s string, i int) (int, bool) {
	j := i
	if j >= 2 {
		switch strings.ToLower(s[j-2 : j]) {
		case "st", "nd", "rd", "th":
			j -= 2
		}
	}
	start := digitsBack(s, j)
	if start < 0 || !boundaryBefore(s, start) {
		return 0, false
	}
	return start, true
}

// monthBack reads a month's name ending at i, and returns where it starts
// and the month's number (0 when the word is none).
func monthBack(s string, i int) (int, int) {
	j := i
	for j > 0 && i-j <= 9 && isLetter(s[j-1]) {
		j--
	}
	if j == i || !boundaryBefore(s, j) {
		return 0, 0
	}
	return j, months[strings.ToLower(s[j:i])]
}

// timeForward reads the time after an ISO date at i ("T09:30", with
// seconds, fractions and an offset), and returns where it ends; i when there
// is none.
func timeForward(s string, i int) int {
	if i+6 > len(s) || s[i] != 'T' || !twoDigits(s, i+1) || s[i+3] != ':' || !twoDigits(s, i+4) {
		return i
	}
	j := i + 6
	if j+3 <= len(s) && s[j] == ':' && twoDigits(s, j+1) {
		j += 3
		if j < len(s) && s[j] == '.' {
			k := j + 1
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k > j+1 {
				j = k
			}
		}
	}
	switch {
	case j < len(s) && s[j] == 'Z':
		j++
	case j+3 <= len(s) && (s[j] == '+' || s[j] == '-') && twoDigits(s, j+1):
		k := j + 3
		if k < len(s) && s[k] == ':' {
			k++
		}
		if twoDigits(s, k) {
			j = k + 2
		}
	}
	return j
}

func twoDigits(s string, i int) bool { return i+2 <= len(s) && isDigit(s[i]) && isDigit(s[i+1]) }

// spaceBack returns where the white space ending at i starts.
func spaceBack(s string, i int) int {
	for i > 0 && isSpaceByte(s[i-1]) {
		i--
	}
	return i
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// boundaryBefore: nothing of a word stands right before i.
func boundaryBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return i == 0 || !wordRune(r)
}

// boundaryAfter: nothing of a word stands at i.
func boundaryAfter(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return i >= len(s) || !wordRune(r)
}

// numberPattern matches a number, with groups of three digits separated by
// commas, dots, apostrophes or no-break spaces, and a decimal part (plain
// spaces: spacedNumber).
// It is anchored: findNumbers reads it at each run of digits, on a short
// window, since on megabytes of text without a digit Go's regular
// expressions take a quarter of a second to find nothing.
var numberPattern = regexp.MustCompile(`^(?:\d{1,3}(?:[,.'\x{00A0}\x{202F}]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)`)

// spacedNumber matches a number grouped by plain spaces ("1 250 000",
// "12 500,00"), which findNumbers takes only where no word or digit
// follows: "in 2 2025" is two numbers, not a mangled one.
var spacedNumber = regexp.MustCompile(`^\d{1,3}(?: \d{3})+(?:[.,]\d+)?`)

// digitOrWordAfter reports whether a word's character stands at s[i], or a
// range's dash or slash before a digit ("1 100-200" is a page and a range,
// not 1100 to 200).
func digitOrWordAfter(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	if wordRune(r) {
		return true
	}
	if (r == '-' || r == '/') && i+1 < len(s) {
		next, _ := utf8.DecodeRuneInString(s[i+1:])
		return unicode.IsDigit(next)
	}
	return false
}

// numberWindow is the longest number findNumbers reads.
const numberWindow = 64

// nextDigitRun returns the start of the next run of digits at or after i,
// or -1.
func nextDigitRun(s string, i int) int {
	for ; i < len(s); i++ {
		if isDigit(s[i]) && (i == 0 || !isDigit(s[i-1])) {
			return i
		}
	}
	return -1
}

// currencyCodes are the codes read as marking money beside a number.
var currencyCodes = map[string]bool{
	"USD": true, "EUR": true, "GBP": true, "CHF": true, "JPY": true, "CAD": true, "AUD": true, "NZD": true,
	"INR": true, "CNY": true, "SEK": true, "NOK": true, "DKK": true, "PLN": true, "CZK": true, "HUF": true,
	"BRL": true, "MXN": true, "ZAR": true, "SGD": true, "HKD": true, "KRW": true, "TRY": true, "AED": true,
}

const currencySymbols = "$€£¥₹₩₽₺"

// numberKeys reads a number as written, with its grouping, as the values it
// may be: "1,250" is 1250 in English and 1.25 in much of Europe.
func numberKeys(text string) []string {
	text = strings.NewReplacer("'", "", " ", "", "\u00a0", "", "\u202f", "").Replace(text)
	commas, dots := strings.Count(text, ","), strings.Count(text, ".")
	var readings []string
	switch {
	case commas > 0 && dots > 0:
		decimal := ","
		if strings.LastIndex(text, ".") > strings.LastIndex(text, ",") {
			decimal = "."
		}
		group := map[string]string{",": ".", ".": ","}[decimal]
		readings = append(readings, strings.ReplaceAll(strings.ReplaceAll(text, group, ""), decimal, "."))
	case commas+dots > 1:
		readings = append(readings, strings.NewReplacer(",", "", ".", "").Replace(text))
	case commas+dots == 1:
		sep := ","
		if dots == 1 {
			sep = "."
		}
		at := strings.Index(text, sep)
		readings = append(readings, strings.Replace(text, sep, ".", 1))
		if len(text)-at-1 == 3 {
			readings = append(readings, strings.Replace(text, sep, "", 1))
		}
	default:
		readings = append(readings, text)
	}
	var out []string
	for _, r := range readings {
		if v, err := strconv.ParseFloat(r, 64); err == nil {
			if k := numberKey(v); !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

func numberKey(v float64) string {
	return "n:" + strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

// valueNumber is a drafted number, however it was decoded.
func valueNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// findNumbers returns the numbers written in content, in order, each marked
// money (a currency symbol or code beside it, which the span then includes),
// a percentage or plain. Digits that are part of a word, an identifier
// ("POL-2024"), a date or a range are not numbers of their own.
func findNumbers(content string, dates []mention) []mention {
	var out []mention
	for at := 0; at < len(content) && len(out) < maxMentions; {
		start := nextDigitRun(content, at)
		if start < 0 {
			break
		}
		window := content[start:min(start+numberWindow, len(content))]
		loc := spacedNumber.FindStringIndex(window)
		spaced := loc != nil && !digitOrWordAfter(window, loc[1])
		if !spaced {
			loc = numberPattern.FindStringIndex(window)
		}
		end := start + loc[1]
		at = end
		if overlapsAny(start, end, dates) {
			continue
		}
		before, _ := utf8.DecodeLastRuneInString(content[:start])
		after, _ := utf8.DecodeRuneInString(content[end:])
		if wordRune(before) && !hasCurrencyBefore(content, start) || wordRune(after) && !hasCurrencyAfter(content, end) {
			continue
		}
		if !wordRune(before) && !standsAlone(content, start, end) {
			continue
		}
		if after == '-' || after == '/' {
			if r, _ := utf8.DecodeRuneInString(content[min(end+1, len(content)):]); unicode.IsDigit(r) {
				continue
			}
		}
		m := mention{start: start, end: end, keys: numberKeys(content[start:end]), class: classPlain}
		if spaced {
			// "3 450.00" may be a quantity and a price as well as one
			// number: it is each of them too, as it was read before
			// spaces grouped digits.
			for _, part := range strings.Fields(content[start:end]) {
				for _, k := range numberKeys(part) {
					if !slices.Contains(m.keys, k) {
						m.keys = append(m.keys, k)
					}
				}
			}
		}
		if after == '%' {
			m.class, m.end = classPercent, end+1
		} else if from, ok := currencyBefore(content, start); ok {
			m.class, m.start = classMoney, from
		} else if to, ok := currencyAfter(content, end); ok {
			m.class, m.end = classMoney, to
		}
		if len(m.keys) > 0 {
			out = append(out, m)
		}
	}
	return out
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// standsAlone: content[start:end] is not part of a word, nor the tail of an
// identifier ("POL-2024", "A/2024", "v1.2").
func standsAlone(content string, start, end int) bool {
	before, size := utf8.DecodeLastRuneInString(content[:start])
	after, _ := utf8.DecodeRuneInString(content[end:])
	if start > 0 && wordRune(before) || end < len(content) && wordRune(after) {
		return false
	}
	if before == '-' || before == '/' || before == '.' {
		if r, _ := utf8.DecodeLastRuneInString(content[:start-size]); start-size > 0 && wordRune(r) {
			return false
		}
	}
	return true
}

func hasCurrencyBefore(content string, at int) bool {
	_, ok := currencyBefore(content, at)
	return ok
}

func hasCurrencyAfter(content string, at int) bool {
	_, ok := currencyAfter(content, at)
	return ok
}

// currencyBefore finds a currency symbol or code right before a number (one
// space between at most) and returns where it starts.
func currencyBefore(content string, at int) (int, bool) {
	i := at
	if i > 0 && content[i-1] == ' ' {
		i--
	}
	if r, size := utf8.DecodeLastRuneInString(content[:i]); strings.ContainsRune(currencySymbols, r) {
		return i - size, true
	}
	if i >= 3 && currencyCodes[content[i-3:i]] {
		if r, _ := utf8.DecodeLastRuneInString(content[:i-3]); !unicode.IsLetter(r) {
			return i - 3, true
		}
	}
	return 0, false
}

// currencyAfter finds a currency symbol or code right after a number and
// returns where it ends.
func currencyAfter(content string, at int) (int, bool) {
	i := at
	if i < len(content) && content[i] == ' ' {
		i++
	}
	if r, size := utf8.DecodeRuneInString(content[i:]); strings.ContainsRune(currencySymbols, r) {
		return i + size, true
	}
	if i+3 <= len(content) && currencyCodes[content[i:i+3]] {
		if r, _ := utf8.DecodeRuneInString(content[i+3:]); !unicode.IsLetter(r) {
			return i + 3, true
		}
	}
	return 0, false
}

var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

func emailKey(text string) string {
	return "e:" + strings.ToLower(strings.TrimRight(text, "."))
}

// findEmails reads the text around each @ (as far as an address's
// characters go), not the whole document with the pattern, for the reason
// numberPattern gives.
func findEmails(content string) []mention {
	var out []mention
	for at := 0; len(out) < maxMentions; {
		i := strings.IndexByte(content[at:], '@')
		if i < 0 {
			break
		}
		i += at
		start, end := i, i+1
		for start > 0 && i-start < 64 && emailByte(content[start-1]) {
			start--
		}
		for end < len(content) && end-i < 255 && emailByte(content[end]) {
			end++
		}
		at = i + 1
		if loc := emailPattern.FindStringIndex(content[start:end]); loc != nil {
			out = append(out, mention{start: start + loc[0], end: start + loc[1], keys: []string{emailKey(content[start+loc[0] : start+loc[1]])}})
			at = max(at, start+loc[1])
		}
	}
	return out
}

func emailByte(c byte) bool {
	return isLetter(c) || isDigit(c) || strings.IndexByte("._%+-", c) >= 0
}

// phonePattern is anchored and read at each place a number may start, as
// numberPattern is.
var phonePattern = regexp.MustCompile(`^\+?\(?\d[\d ().\-]{5,20}\d`)

// phoneKey compares phone numbers by their last nine digits, so that the
// same number with and without its country or trunk prefix is one number.
func phoneKey(text string) string {
	var digits []byte
	for i := 0; i < len(text); i++ {
		if text[i] >= '0' && text[i] <= '9' {
			digits = append(digits, text[i])
		}
	}
	if len(digits) < 7 || len(digits) > 15 {
		return ""
	}
	return "p:" + string(digits[max(len(digits)-9, 0):])
}

// findPhones returns what is written like a phone number (7 to 15 digits)
// and is not a date.
func findPhones(content string, dates []mention) []mention {
	var out []mention
	for at := 0; at < len(content) && len(out) < maxMentions; {
		d := nextDigitRun(content, at)
		if d < 0 {
			break
		}
		from := d
		if from > 0 && content[from-1] == '(' {
			from--
		}
		if from > 0 && content[from-1] == '+' {
			from--
		}
		at = d + 1
		rel := phonePattern.FindStringIndex(content[from:min(from+32, len(content))])
		if rel == nil {
			continue
		}
		loc := []int{from + rel[0], from + rel[1]}
		if overlapsAny(loc[0], loc[1], dates) {
			continue
		}
		if !standsAlone(content, loc[0], loc[1]) {
			continue
		}
		if k := phoneKey(content[loc[0]:loc[1]]); k != "" {
			out = append(out, mention{start: loc[0], end: loc[1], keys: []string{k}})
			at = loc[1]
		}
	}
	return out
}

func overlapsAny(start, end int, ms []mention) bool {
	i, _ := slices.BinarySearchFunc(ms, start, func(m mention, at int) int {
		if m.end <= at {
			return -1
		}
		return 1
	})
	return i < len(ms) && ms[i].start < end
}

// shape is an identifier's character classes: every letter A, every digit 9,
// anything else as it is. "CLM-2024-00017" is "AAA-9999-99999".
func shape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			b.WriteByte('A')
		case unicode.IsDigit(r):
			b.WriteByte('9')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func identifierKey(text string) string { return "i:" + strings.ToUpper(text) }

// looksLikeIdentifier: a value without spaces, of 3 to 64 characters, with a
// digit in it (a policy, claim, account or order number).
func looksLikeIdentifier(s string) bool {
	n := utf8.RuneCountInString(s)
	return n >= 3 && n <= 64 && strings.IndexFunc(s, unicode.IsSpace) < 0 && strings.IndexFunc(s, unicode.IsDigit) >= 0
}

// trimToken is the cut-set around a word that is not part of it.
const trimToken = ".,;:!?()[]{}<>\"'“”‘’«»"

// findShaped returns the words of content (between white space, without the
// punctuation around them) that have the shape of value.
func findShaped(content, value string) []mention {
	want := shape(value)
	var out []mention
	i := 0
	for i < len(content) && len(out) < maxMentions {
		for i < len(content) && isSpaceByte(content[i]) {
			i++
		}
		j := i
		for j < len(content) && !isSpaceByte(content[j]) {
			j++
		}
		start, end := i, j
		for start < end && strings.IndexByte(trimToken, content[start]) >= 0 {
			start++
		}
		for end > start && strings.IndexByte(trimToken, content[end-1]) >= 0 {
			end--
		}
		if end-start == len(value) && shape(content[start:end]) == want {
			out = append(out, mention{start: start, end: end, keys: []string{identifierKey(content[start:end])}})
		}
		i = j
	}
	return out
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'
}

// findPattern returns the places where a field's pattern matches on its own
// (not inside a longer word).
func findPattern(content string, re *regexp.Regexp) []mention {
	var out []mention
	for _, loc := range re.FindAllStringIndex(content, maxMentions) {
		if loc[0] == loc[1] {
			continue
		}
		before, _ := utf8.DecodeLastRuneInString(content[:loc[0]])
		after, _ := utf8.DecodeRuneInString(content[loc[1]:])
		if wordRune(before) || wordRune(after) {
			continue
		}
		out = append(out, mention{start: loc[0], end: loc[1], keys: []string{identifierKey(content[loc[0]:loc[1]])}})
	}
	return out
}

// unanchored compiles a JSON Schema pattern for searching a document: without
// its ^ and $ anchors. A pattern that matches ordinary words is too broad to
// tell which values look like the field's, and gives nothing.
func unanchored(pattern string) *regexp.Regexp {
	p := strings.TrimPrefix(pattern, "^")
	if strings.HasSuffix(p, "$") && !strings.HasSuffix(p, `\$`) {
		p = strings.TrimSuffix(p, "$")
	}
	re, err := regexp.Compile(p)
	if err != nil || re.MatchString("word") || re.MatchString("Some words") {
		return nil
	}
	return re
}
