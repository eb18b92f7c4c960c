package schema_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
)

func TestValidateReportsPerField(t *testing.T) {
	s, err := schema.Compile([]byte(`{"type":"object","additionalProperties":false,"required":["a","b"],
		"properties":{"a":{"type":"integer"},"b":{"type":"string","format":"date"},"c":{"type":"array","items":{"type":"string"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(countersign.Fields{"a": 1, "b": "2025-01-31"}); err != nil {
		t.Fatalf("valid fields refused: %v", err)
	}
	err = s.Validate(countersign.Fields{"a": "one", "b": "31/01/2025", "c": []any{"x", 2}, "z": true})
	errs, ok := err.(schema.Errors)
	if !ok {
		t.Fatalf("error %T %v", err, err)
	}
	if got := strings.Join(errs.Fields(), ","); got != "a,b,c,z" {
		t.Fatalf("fields with problems = %s (%v)", got, err)
	}
	for _, want := range []string{"a: got string, want integer", `b: "31/01/2025" is not a date written YYYY-MM-DD, such as 2025-03-01`, "c: /1: got number, want string", "z: not a field of this task type"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "2006") || strings.Contains(err.Error(), "parsing time") {
		t.Errorf("the date's error shows Go's parser: %v", err)
	}
	if err := s.Validate(countersign.Fields{"a": 1, "b": "2025-02-30"}); err == nil || !strings.Contains(err.Error(), `"2025-02-30" is written YYYY-MM-DD but is no day of the calendar`) {
		t.Errorf("an impossible date: %v", err)
	}
	if err := s.Validate(countersign.Fields{"a": 1}); err == nil || !strings.Contains(err.Error(), "b: required field is missing") {
		t.Fatalf("missing field: %v", err)
	}
}

func TestCompileRefusesExternalReferences(t *testing.T) {
	_, err := schema.Compile([]byte(`{"type":"object","properties":{"a":{"$ref":"https://example.com/a.json"}}}`))
	if err == nil || !strings.Contains(err.Error(), "external schema references are not allowed") {
		t.Fatalf("external $ref: %v", err)
	}
	if _, err := schema.Compile([]byte(`{"type": 12}`)); err == nil {
		t.Fatal("an invalid schema compiled")
	}
}
