package scoring

import (
	"github.com/countersign/countersign"
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

// TestSpaceGroupedNumbers: "1 250 000" is one number where the groups of
// three stand alone, and the quote that writes it so matches the value; a
// space before a longer run of digits groups nothing.
func TestSpaceGroupedNumbers(t *testing.T) {
	content := "Claimed EUR 1 250 000 (prior claim 12 500,50) on 3 2025 items."
	var got []string
	for _, m := range findNumbers(content, findDates(content)) {
		got = append(got, content[m.start:m.end]+"="+m.keys[0])
	}
	want := []string{"EUR 1 250 000=n:1250000", "12 500,50=n:12500.5", "3=n:3", "2025=n:2025"}
	if !slices.Equal(got, want) {
		t.Errorf("numbers %q, want %q", got, want)
	}
	// A quantity and a price in a table line are each still there, and a
	// page before a range is not swallowed by it.
	line := "Widgets 3 450.00 EUR; pages 1 100-200."
	var keys [][]string
	for _, m := range findNumbers(line, findDates(line)) {
		keys = append(keys, m.keys)
	}
	if len(keys) != 2 || !slices.Contains(keys[0], "n:3450") || !slices.Contains(keys[0], "n:450") || !slices.Contains(keys[0], "n:3") || !slices.Equal(keys[1], []string{"n:1"}) {
		t.Errorf("keys %q, want 3450, 3 and 450 for the table line, then 1 for the page", keys)
	}
	signals := map[string]float64{}
	quoteMatch(450.0, countersign.Evidence{Quote: "3 450.00"}, signals)
	if signals["quote_match"] != 1 {
		t.Errorf("quote_match of 450 against \"3 450.00\" = %v, want 1 (as before spaces grouped)", signals)
	}
	signals = map[string]float64{}
	quoteMatch(1250000.0, countersign.Evidence{Quote: "EUR 1 250 000"}, signals)
	if signals["quote_match"] != 1 {
		t.Errorf("quote_match of 1250000 against \"EUR 1 250 000\" = %v, want 1", signals)
	}
}
