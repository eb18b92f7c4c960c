package fieldview

import (
	"testing"

	"github.com/countersign/countersign"
)

// TestExplain: a matched rule is named with the description of the first
// task type version that gives one, its expression kept apart; a rule no
// version describes is named alone; other reasons, and a rule that could
// not be evaluated, stay as they are.
func TestExplain(t *testing.T) {
	pinned := &countersign.TaskType{Policy: countersign.Policy{RiskRules: []countersign.PolicyRule{{Name: "high value", When: "x > 1"}}}}
	current := &countersign.TaskType{Policy: countersign.Policy{
		RiskRules:   []countersign.PolicyRule{{Name: "high value", When: "x > 1", Description: "worth over a million"}},
		RejectRules: []countersign.PolicyRule{{Name: "spam", When: "y", Description: "not a contract"}},
	}}
	got := Explain([]string{
		`risk rule "high value" matched: x > 1`,
		`reject rule "spam" matched: y`,
		`risk rule "say \"hi\"" matched: z == "a: b"`,
		"risk rule \"high value\" matched: x > 1 &&\n  y < 2\n", // a YAML block scalar's rule
		`risk rule "broken" could not be evaluated (no such key); a person must check`,
		"weakest field party_a (0.20): no value found",
	}, pinned, nil, current)
	want := []Reason{
		{Text: "Risk rule “high value”: worth over a million", Rule: "x > 1"},
		{Text: "Reject rule “spam”: not a contract", Rule: "y"},
		{Text: `Risk rule “say "hi"” matched`, Rule: `z == "a: b"`},
		{Text: "Risk rule “high value”: worth over a million", Rule: "x > 1 &&\n  y < 2"},
		{Text: `risk rule "broken" could not be evaluated (no such key); a person must check`},
		{Text: "weakest field party_a (0.20): no value found"},
	}
	if len(got) != len(want) {
		t.Fatalf("explain = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reason %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
