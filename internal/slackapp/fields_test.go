package slackapp

import (
	"reflect"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/fieldview"
)

func TestParseValueByTheSchemaType(t *testing.T) {
	cases := []struct {
		kind, text string
		value      any
		problem    bool
	}{
		{"integer", "24", int64(24), false},
		{"integer", "24.0", 24.0, false},
		{"integer", "24.5", nil, true},
		{"number", " 1250.5 ", 1250.5, false},
		{"number", "NaN", nil, true},
		{"boolean", "false", false, false},
		{"boolean", "no", nil, true},
		{"array", `["a", 1]`, []any{"a", 1.0}, false},
		{"object", `{"a"`, nil, true},
		{"string", "42", "42", false},
		{"", "42", 42.0, false},
		{"", "Acme", "Acme", false},
	}
	for _, c := range cases {
		value, present, problem := parseValue(c.kind, c.text)
		if (problem != "") != c.problem || (!c.problem && (!present || !reflect.DeepEqual(value, c.value))) {
			t.Errorf("parseValue(%q, %q) = %#v, %v, %q", c.kind, c.text, value, present, problem)
		}
	}
}

func TestCorrectionIsThePatchFromTheDraft(t *testing.T) {
	fields := []fieldview.Field{
		{Name: "party_a", Property: fieldview.Property{Type: "string"}, Value: "Acme", Present: true},
		{Name: "term_months", Property: fieldview.Property{Type: "integer"}, Value: 12.0, Present: true},
		{Name: "renewal", Property: fieldview.Property{Type: "boolean"}, Value: true, Present: true},
		{Name: "amount", Property: fieldview.Property{Type: "number"}},
	}
	patch, problems := correction(fields, map[string]string{"party_a": "Acme", "term_months": "12", "renewal": "", "amount": "3"})
	want := countersign.Fields{"renewal": nil, "amount": 3.0}
	if len(problems) != 0 || !reflect.DeepEqual(patch, want) {
		t.Fatalf("patch %v, problems %v; want %v: unchanged fields left out, an emptied one removed", patch, problems, want)
	}
}
