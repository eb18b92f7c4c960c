package tasktype

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A transform turns the text a rule matched into a field value. groups holds
// the rule's named groups (for example "unit" next to "value").
type transform func(text string, groups map[string]string) (any, error)

var transforms = map[string]transform{
	"":         func(s string, _ map[string]string) (any, error) { return cleanText(s), nil },
	"text":     func(s string, _ map[string]string) (any, error) { return cleanText(s), nil },
	"lower":    func(s string, _ map[string]string) (any, error) { return strings.ToLower(cleanText(s)), nil },
	"upper":    func(s string, _ map[string]string) (any, error) { return strings.ToUpper(cleanText(s)), nil },
	"date":     func(s string, _ map[string]string) (any, error) { return parseDate(s) },
	"number":   func(s string, _ map[string]string) (any, error) { return parseNumber(s) },
	"integer":  parseInteger,
	"months":   func(s string, g map[string]string) (any, error) { return inUnits(s, g["unit"], monthsPer) },
	"days":     func(s string, g map[string]string) (any, error) { return inUnits(s, g["unit"], daysPer) },
	"digits":   func(s string, _ map[string]string) (any, error) { return digitsOnly(s), nil },
	"currency": func(s string, _ map[string]string) (any, error) { return currencyCode(s) },
}

// KnownTransform reports whether name is a transform rules may use.
func KnownTransform(name string) bool {
	_, ok := transforms[name]
	return ok
}

func transformNames() string {
	var names []string
	for name := range transforms {
		if name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Transform applies the named transform to matched text.
func Transform(name, text string, groups map[string]string) (any, error) {
	t, ok := transforms[name]
	if !ok {
		return nil, fmt.Errorf("unknown transform %q", name)
	}
	return t(text, groups)
}

var spaces = regexp.MustCompile(`\s+`)

// cleanText trims a value and folds runs of white space (line breaks inside
// a matched name, say) into one space.
func cleanText(s string) string {
	return spaces.ReplaceAllString(strings.Trim(strings.TrimSpace(s), `"'“”‘’,;:`), " ")
}

var ordinal = regexp.MustCompile(`(?i)\b(\d{1,2})(st|nd|rd|th)\b`)

var dateLayouts = []string{
	"2006-01-02",
	"January 2 2006",
	"Jan 2 2006",
	"2 January 2006",
	"2 Jan 2006",
	"January 2006",
	"01/02/2006",
	"1/2/2006",
	"02.01.2006",
}

// parseDate reads the common ways dates are written in contracts and letters
// ("March 1st, 2024", "1 March 2024", "the 1st day of March, 2024",
// "2024-03-01", "03/01/2024" as US month/day) and returns YYYY-MM-DD.
func parseDate(s string) (string, error) {
	t := strings.ToLower(cleanText(s))
	t = strings.NewReplacer("the ", "", " day of ", " ", " of ", " ", ",", " ", "sept ", "sep ").Replace(t)
	t = ordinal.ReplaceAllString(t, "$1")
	t = strings.Join(strings.Fields(t), " ")
	t = titleWords(t)
	for _, layout := range dateLayouts {
		if d, err := time.Parse(layout, t); err == nil {
			return d.Format("2006-01-02"), nil
		}
	}
	return "", fmt.Errorf("not a date: %q", s)
}

func titleWords(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

var multipliers = map[string]float64{
	"thousand": 1e3, "k": 1e3,
	"million": 1e6, "m": 1e6, "mm": 1e6,
	"billion": 1e9, "bn": 1e9,
}

var numberText = regexp.MustCompile(`(?i)(-?\d[\d,]*(?:\.\d+)?)\s*(thousand|million|billion|bn|mm|k|m)?\b`)

// parseNumber reads amounts such as "$1,250,000.00", "EUR 2.5 million" or
// "12k" as a number.
func parseNumber(s string) (float64, error) {
	m := numberText.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if err != nil {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	if factor, ok := multipliers[strings.ToLower(m[2])]; ok {
		n *= factor
	}
	return n, nil
}

func parseInteger(s string, _ map[string]string) (any, error) {
	n, err := parseNumber(s)
	if err != nil {
		return nil, err
	}
	if n != math.Trunc(n) {
		return nil, fmt.Errorf("not a whole number: %q", s)
	}
	return int64(n), nil
}

var monthsPer = map[string]float64{"month": 1, "year": 12, "annum": 12}

var daysPer = map[string]float64{"day": 1, "business day": 1, "calendar day": 1, "week": 7, "month": 30}

// inUnits converts a count in the matched unit ("3" and "years") into the
// target unit (36 months).
func inUnits(s, unit string, per map[string]float64) (any, error) {
	n, err := parseNumber(s)
	if err != nil {
		return nil, err
	}
	u := strings.TrimSuffix(strings.ToLower(cleanText(unit)), "s")
	u = strings.TrimSuffix(strings.TrimSuffix(u, "(s)"), ")")
	if u == "" {
		return int64(n), nil
	}
	factor, ok := per[u]
	if !ok {
		return nil, fmt.Errorf("unknown unit %q", unit)
	}
	return int64(math.Round(n * factor)), nil
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' || r == '+' && b.Len() == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var currencySymbols = map[string]string{"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "C$": "CAD", "A$": "AUD"}

var currencyCodePattern = regexp.MustCompile(`^[A-Za-z]{3}$`)

// currencyCode turns a currency symbol or code into its ISO 4217 code.
func currencyCode(s string) (string, error) {
	t := cleanText(s)
	if code, ok := currencySymbols[t]; ok {
		return code, nil
	}
	if currencyCodePattern.MatchString(t) {
		return strings.ToUpper(t), nil
	}
	return "", fmt.Errorf("not a currency: %q", s)
}
