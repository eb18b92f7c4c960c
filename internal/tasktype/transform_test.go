package tasktype_test

import (
	"testing"

	"github.com/countersign/countersign/internal/tasktype"
)

func TestTransforms(t *testing.T) {
	cases := []struct {
		name, text string
		groups     map[string]string
		want       any
	}{
		{"text", "  Acme\n   Corp, ", nil, "Acme Corp"},
		{"lower", "Maria.Gonzalez@Example.com", nil, "maria.gonzalez@example.com"},
		{"date", "March 1, 2025", nil, "2025-03-01"},
		{"date", "1st day of September, 2024", nil, "2024-09-01"},
		{"date", "the 3rd day of March 2024", nil, "2024-03-03"},
		{"date", "15 January 2025", nil, "2025-01-15"},
		{"date", "2 Feb 1975", nil, "1975-02-02"},
		{"date", "Sept 9, 2023", nil, "2023-09-09"},
		{"date", "11/23/1984", nil, "1984-11-23"},
		{"date", "2024-07-01", nil, "2024-07-01"},
		{"number", "USD 1,250,000", nil, 1250000.0},
		{"number", "$2,400,000.00", nil, 2400000.0},
		{"number", "EUR 2.5 million", nil, 2500000.0},
		{"integer", "thirty (30)", nil, int64(30)},
		{"months", "3", map[string]string{"unit": "years"}, int64(36)},
		{"months", "36", map[string]string{"unit": "months"}, int64(36)},
		{"days", "3", map[string]string{"unit": "months"}, int64(90)},
		{"days", "2", map[string]string{"unit": "weeks"}, int64(14)},
		{"currency", "$", nil, "USD"},
		{"currency", "€", nil, "EUR"},
		{"currency", "cad", nil, "CAD"},
		{"digits", "+1 (617) 555-0142", nil, "+16175550142"},
	}
	for _, tc := range cases {
		got, err := tasktype.Transform(tc.name, tc.text, tc.groups)
		if err != nil || got != tc.want {
			t.Errorf("%s(%q) = %v (%T), %v; want %v (%T)", tc.name, tc.text, got, got, err, tc.want, tc.want)
		}
	}
	for _, bad := range []struct{ name, text string }{
		{"date", "February 30, 2024"},
		{"date", "next Tuesday"},
		{"number", "a lot"},
		{"integer", "2.5"},
		{"currency", "dollars"},
	} {
		if got, err := tasktype.Transform(bad.name, bad.text, nil); err == nil {
			t.Errorf("%s(%q) = %v, want an error", bad.name, bad.text, got)
		}
	}
	if _, err := tasktype.Transform("months", "3", map[string]string{"unit": "fortnights"}); err == nil {
		t.Error("an unknown unit was converted")
	}
}
