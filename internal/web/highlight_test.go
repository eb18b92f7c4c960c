package web

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/fieldview"
)

// render writes segments back as text with [fields|...] around marked runs
// and {n} where field n's anchor stands, to compare layouts at a glance.
func renderSegments(segs []segment) string {
	out := ""
	for _, s := range segs {
		for _, a := range s.Anchors {
			out += "{" + string(rune('0'+a)) + "}"
		}
		if s.Marked() {
			out += "[" + s.FieldList() + "|" + s.Text + "]"
		} else {
			out += s.Text
		}
	}
	return out
}

func TestHighlight(t *testing.T) {
	// Offsets are in code points: "Zoë" is 3 characters, 4 bytes, and the
	// Chinese names are one character each.
	text := "Zoë Müller and 北京 Trading sign."
	cases := []struct {
		name  string
		spans []span
		want  string
	}{
		{"none", nil, text},
		{"multibyte offsets", []span{{Field: 0, Start: 0, End: 10}, {Field: 1, Start: 15, End: 25}},
			"{0}[0|Zoë Müller] and {1}[1|北京 Trading] sign."},
		{"overlapping", []span{{Field: 0, Start: 0, End: 10}, {Field: 1, Start: 4, End: 14}},
			"{0}[0|Zoë ]{1}[0 1|Müller][1| and] 北京 Trading sign."},
		{"nested and same start", []span{{Field: 0, Start: 15, End: 25}, {Field: 1, Start: 15, End: 17}},
			"Zoë Müller and {0}{1}[0 1|北京][0| Trading] sign."},
		{"out of range and empty are clipped or dropped", []span{{Field: 0, Start: 26, End: 99}, {Field: 1, Start: 5, End: 5}, {Field: 2, Start: -3, End: 3}},
			"{2}[2|Zoë] Müller and 北京 Trading {0}[0|sign.]"},
	}
	for _, c := range cases {
		if got := renderSegments(highlight(text, c.spans)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestLocate(t *testing.T) {
	text := "Between Zoë AB and Ödön Kft, governed by the laws of Sweden."
	runes := []rune(text)
	cases := []struct {
		name       string
		ev         countersign.Evidence
		start, end int
		found      bool
		note       string
	}{
		{"at its offsets", countersign.Evidence{Quote: "Ödön Kft", Start: 19, End: 27}, 19, 27, true, ""},
		{"offsets counted in bytes, not characters", countersign.Evidence{Quote: "Ödön Kft", Start: 20, End: 29}, 19, 27, true, "the quote is in the document, but not at the place the draft gave"},
		{"other case and spacing", countersign.Evidence{Quote: "laws  of SWEDEN", Start: 0, End: 3}, 45, 59, true, "the quote is in the document only with other case or spacing"},
		{"not in the document", countersign.Evidence{Quote: "Norway", Start: 1, End: 7}, 0, 0, false, "the quote is not in the document"},
		{"no quote", countersign.Evidence{}, 0, 0, false, "no quote given"},
	}
	for _, c := range cases {
		start, end, found, note := locate(runes, text, c.ev)
		if start != c.start || end != c.end || found != c.found || note != c.note {
			t.Errorf("%s: locate = %d, %d, %v, %q; want %d, %d, %v, %q", c.name, start, end, found, note, c.start, c.end, c.found, c.note)
		}
	}
}

func TestReadCorrection(t *testing.T) {
	fields := []fieldView{
		{Field: fieldview.Field{Name: "term_months", Value: float64(24), Present: true}, Input: inputInteger},
		{Field: fieldview.Field{Name: "party_b", Value: "Harbor", Present: true}, Input: inputText},
		{Field: fieldview.Field{Name: "auto_renewal"}, Input: inputBoolean},
		{Field: fieldview.Field{Name: "contract_value", Value: float64(1200.5), Present: true}, Input: inputNumber},
		{Field: fieldview.Field{Name: "tags"}, Input: inputJSON},
		{Field: fieldview.Field{Name: "currency", Value: "USD", Present: true}, Input: inputText},
	}
	form := url.Values{
		"field.term_months":    {"36"},
		"field.party_b":        {" Harbor "}, // unchanged once trimmed
		"field.auto_renewal":   {"true"},     // added
		"field.contract_value": {"1200.50"},  // the same number
		"field.tags":           {"[1,"},
		"field.currency":       {""}, // emptied: removed
		"field.unknown":        {"x"},
	}
	patch, problems := readCorrection(form, fields)
	want := countersign.Fields{"term_months": int64(36), "auto_renewal": true, "currency": nil}
	if !reflect.DeepEqual(patch, want) {
		t.Errorf("patch = %#v, want %#v", patch, want)
	}
	if len(problems) != 1 || problems["tags"] == "" {
		t.Errorf("problems = %v, want one for tags", problems)
	}
	// A value of the wrong type is kept as text, for the schema to name.
	patch, _ = readCorrection(url.Values{"field.term_months": {"two years"}}, fields)
	if patch["term_months"] != "two years" {
		t.Errorf("unreadable integer = %#v, want the text kept", patch["term_months"])
	}
}
