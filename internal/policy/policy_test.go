package policy

import (
	"testing"

	"github.com/countersign/countersign"
)

func TestEvaluate(t *testing.T) {
	p := countersign.Policy{
		RiskRules: []countersign.PolicyRule{
			{Name: "large amount", When: "fields.amount > 1000000"},
			{Name: "regulator", When: `metadata.source == "regulator"`},
			{Name: "needs a term", When: "fields.term_months > 60"},
			{Name: "bad types", When: `fields.document_type > 3`},
		},
		RejectRules: []countersign.PolicyRule{
			{Name: "not a contract", When: `fields.document_type != "contract"`},
			{Name: "low confidence spam", When: `metadata.source == "spam" && confidence < 0.5`},
		},
	}
	hits := Evaluate(p, countersign.Fields{"amount": 2e6, "document_type": "contract"}, map[string]string{"source": "spam"}, 0.3)
	want := []countersign.RuleHit{
		{Kind: "risk", Name: "large amount", When: "fields.amount > 1000000"},
		{Kind: "risk", Name: "bad types", When: `fields.document_type > 3`, Error: hits[1].Error},
		{Kind: "reject", Name: "low confidence spam", When: `metadata.source == "spam" && confidence < 0.5`},
	}
	if !countersign.SameValue(hits, want) {
		t.Fatalf("hits = %+v\nwant %+v", hits, want)
	}
	if hits[1].Error == "" {
		t.Error("a rule that cannot be evaluated must carry its error")
	}
	p.RiskRules = p.RiskRules[:3] // without "bad types"
	if got := Evaluate(p, countersign.Fields{"amount": 10.0, "document_type": "contract", "term_months": 12.0}, nil, 0.9); len(got) != 0 {
		t.Errorf("hits = %+v, want none", got)
	}
}
