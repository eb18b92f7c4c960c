package scoring

import (
	"slices"
	"testing"
)

// TestNumberReadings: grouping and decimal marks read both ways where the
// text allows both.
func TestNumberReadings(t *testing.T) {
	for text, want := range map[string][]string{
		"1,250.00":  {"n:1250"},
		"1.250,00":  {"n:1250"},
		"1,250":     {"n:1.25", "n:1250"},
		"1.250":     {"n:1.25", "n:1250"},
		"12,5":      {"n:12.5"},
		"1,250,000": {"n:1250000"},
		"1'250.5":   {"n:1250.5"},
		"42":        {"n:42"},
	} {
		if got := numberKeys(text); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", text, got, want)
		}
	}
}

// TestNumberClasses: money by a symbol or code on either side, percentages,
// plain numbers; not digits of identifiers, dates or words.
func TestNumberClasses(t *testing.T) {
	content := "Pay €1,250.00 or 1250 EUR, 5% late, 3 copies; ref POL-2024, 2025-03-01, A4, covid19."
	var got []string
	for _, m := range findNumbers(content, findDates(content)) {
		got = append(got, content[m.start:m.end]+"/"+m.class)
	}
	want := []string{"€1,250.00/money", "1250 EUR/money", "5%/percent", "3/plain"}
	if !slices.Equal(got, want) {
		t.Errorf("numbers %q, want %q", got, want)
	}
}
