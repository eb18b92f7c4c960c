package fieldview

import (
	"slices"
	"testing"

	"github.com/countersign/countersign"
)

// TestListLeastConfidentFirst: every field of the schema and the draft's
// own, the least confident first, ties in the task type's order, each
// keeping its place in that order; required by the schema or the scoring.
func TestListLeastConfidentFirst(t *testing.T) {
	tt := &countersign.TaskType{
		Schema:     []byte(`{"type":"object","required":["party_a"],"properties":{"party_a":{"type":"string","title":"First party"},"term_months":{"type":"integer"},"amount":{"type":"number"}}}`),
		FieldOrder: []string{"party_a", "term_months", "amount"},
	}
	doc := &countersign.Document{
		Draft: &countersign.Draft{
			Fields:   countersign.Fields{"party_a": "Acme", "term_months": 12.0, "note": "x"},
			Evidence: map[string]countersign.Evidence{"term_months": {Quote: "twelve months", Start: 3, End: 16}},
		},
		Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{
			"party_a":     {Score: 0.9},
			"term_months": {Score: 0.4, Reasons: []string{"rules found 24"}, Required: true},
			"note":        {Score: 0.9},
		}},
	}
	fields := List(tt, doc)
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	// amount has no score: the least confident of all.
	if want := []string{"amount", "term_months", "party_a", "note"}; !slices.Equal(names, want) {
		t.Fatalf("order %v, want %v", names, want)
	}
	amount, term, party, note := fields[0], fields[1], fields[2], fields[3]
	if amount.Index != 2 || term.Index != 1 || party.Index != 0 || note.Index != 3 {
		t.Errorf("indexes %d %d %d %d, want the task type's order then the draft's", amount.Index, term.Index, party.Index, note.Index)
	}
	if amount.Present || amount.Kind() != "number" || amount.Confidence != nil {
		t.Errorf("amount = %+v: no value, a number, no score", amount)
	}
	if term.Quote() != "twelve months" || term.Reasons[0] != "rules found 24" || !term.Required || term.Kind() != "integer" {
		t.Errorf("term_months = %+v: its evidence, reasons and the scoring's requirement", term)
	}
	if !party.Required || party.Title != "First party" || party.Value != "Acme" || party.Quote() != "" {
		t.Errorf("party_a = %+v: required by the schema, titled, no evidence", party)
	}

	// A required field the draft lacks leads, above fields with no score:
	// the unsigned ticket's missing name, scored 0, listed below optional
	// fields no one scored, was easy to miss.
	delete(doc.Draft.Fields, "party_a")
	names = nil
	for _, f := range List(tt, doc) {
		names = append(names, f.Name)
	}
	if want := []string{"party_a", "amount", "term_months", "note"}; !slices.Equal(names, want) {
		t.Fatalf("with party_a missing: order %v, want %v", names, want)
	}

	doc.Draft.Error = "the model did not answer"
	for _, f := range List(tt, doc) {
		if f.Present || f.Evidence != nil {
			t.Errorf("a failed draft shows %s = %v", f.Name, f.Value)
		}
	}
	if List(tt, nil) != nil {
		t.Error("no document, yet fields")
	}
}
