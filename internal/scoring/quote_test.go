package scoring

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

func TestQuoteSays(t *testing.T) {
	for _, c := range []struct {
		value    any
		quote    string
		said     string
		compared bool
	}{
		// The quote says the value, however it writes it.
		{1200.0, "1,200.00 EUR", "", true},
		{0.05, "a rate of 5%", "", true},
		{5.0, "a rate of 5%", "", true},
		{0.05, "five (5) percent", "", true},
		{0.035, "3.5 per cent", "", true},
		{1.2e6, "EUR 1.2 million", "", true},
		{3.5e9, "USD 3.5 billion", "", true},
		{2.5e6, "2.5 millions d'euros", "", true},
		{-1200.0, "balance due: -$1,200.00", "", true},
		{-1250.0, "net loss (1,250.00)", "", true},
		{"2025-03-14", "14 March 2025", "", true},
		{"Acme Corp", "ACME Corporation", "", true},
		{"CLM-2025-0001", "claim CLM-2025-0001", "", true},
		// Punctuation, accents and spacing are the quote written another
		// way, not a misreading.
		{"Acme Corp.", "ACME Corp", "", true},
		{"Jose Garcia", "José García", "", true},
		{"O'Brien", "Mr O’Brien", "", true},
		{"HX2248", "policy no. HX-2248", "", true},
		// It says another value of the value's kind: a misreading.
		{1300.0, "1,200.00 EUR", "1,200.00 EUR", true},
		{"2025-03-15", "on 14 March 2025", "14 March 2025", true},
		{"John Smith", "Jon Smith", "jon smith", true},
		{"HX-2248", "policy no. HX-2249", "hx-2249", true},
		// Nothing of the value's kind to compare with.
		{"2025-03-14", "March 2025", "", false},
		{3.0, "three items", "", false},
		{1200.0, "1.2k", "", false},
		{"USD", "paid in dollars", "", false},
		{"Jane Roe", "the policyholder", "", false},
	} {
		said, compared := quoteSays(c.value, c.quote)
		if said != c.said || compared != c.compared {
			t.Errorf("quoteSays(%v, %q) = %q, %v; want %q, %v", c.value, c.quote, said, compared, c.said, c.compared)
		}
	}
}

func TestQuoteMatchSignal(t *testing.T) {
	signals := map[string]float64{}
	reasons := quoteMatch("2025-03-15", countersign.Evidence{Quote: "14 March 2025"}, signals)
	if v, ok := signals[countersign.SignalQuoteMatch]; !ok || v != 0 {
		t.Fatalf("quote_match of a misread date = %v (recorded %v), want 0", v, ok)
	}
	if len(reasons) != 1 || !strings.Contains(reasons[0], "not what its quote says") {
		t.Fatalf("reasons = %q, want one saying the quote says another value", reasons)
	}
	// A seeming contradiction is weighed, not a hard failure: normalized
	// values can read as another (see the cases below).
	if HardFailure(map[string]float64{countersign.SignalSchema: 1, countersign.SignalGrounding: 1, countersign.SignalQuoteMatch: 0}) {
		t.Fatal("quote_match 0 made a hard failure")
	}

	signals = map[string]float64{}
	if reasons := quoteMatch(1200.0, countersign.Evidence{Quote: "1,200 EUR"}, signals); len(reasons) != 0 || signals[countersign.SignalQuoteMatch] != 1 {
		t.Fatalf("a quote that says the value: signals %v reasons %q, want quote_match 1 and no reason", signals, reasons)
	}
	signals = map[string]float64{}
	quoteMatch("Jane Roe", countersign.Evidence{Quote: "the policyholder"}, signals)
	if _, ok := signals[countersign.SignalQuoteMatch]; ok {
		t.Fatalf("a quote with nothing to compare recorded quote_match: %v", signals)
	}
}
