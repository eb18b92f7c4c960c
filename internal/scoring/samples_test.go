package scoring_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/scoring"
)

// TestAlternativesSignal: 1 minus the mass of the other top tokens, with a
// reason naming the token and the likeliest other when the model weighed
// something else; absent when the draft has no top_logprobs figures.
func TestAlternativesSignal(t *testing.T) {
	tt, sch := modelSetup(t)
	draft := modelDraft()
	draft.Alternatives = map[string]countersign.TokenAlternatives{
		"start": {Mass: 0.45, Token: "01", Other: "10", OtherProb: 0.4},
		"end":   {Mass: 0.05, Token: "12", Other: "11", OtherProb: 0.05},
	}
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment})
	start, end := c.Fields["start"], c.Fields["end"]
	if start.Signals["alternatives"] != 0.55 || end.Signals["alternatives"] != 0.95 {
		t.Errorf("alternatives start %v end %v, want 0.55 and 0.95", start.Signals["alternatives"], end.Signals["alternatives"])
	}
	if got := strings.Join(start.Reasons, "; "); !strings.Contains(got, `other tokens 0.45 where it wrote "01" in the value ("10" at 0.40)`) {
		t.Errorf("start reasons %q", got)
	}
	if got := strings.Join(end.Reasons, "; "); strings.Contains(got, "other tokens") {
		t.Errorf("end reasons %q: 0.05 is not worth a reviewer's attention", got)
	}
	if _, ok := c.Fields["payer"].Signals["alternatives"]; ok {
		t.Error("payer has no top_logprobs figures, so no alternatives signal")
	}
	// Weighing nothing by default, the signal leaves the raw score alone.
	if base := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: modelDraft(), Content: payment}); base.Fields["start"].Raw != start.Raw {
		t.Errorf("raw %v with the signal, %v without; the default weight is 0", start.Raw, base.Fields["start"].Raw)
	}
}

// TestAgreementNeedsTwoAnswers: with one sample left that answered, there
// is no agreement to measure.
func TestAgreementNeedsTwoAnswers(t *testing.T) {
	tt, sch := modelSetup(t)
	draft := modelDraft()
	draft.Samples = []countersign.Fields{nil, {"payer": "Jane Roe", "amount": 1200.0}, {"payer": "Jane Roe"}}
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment})
	if got := c.Fields["payer"].Signals["agreement"]; got != 1 {
		t.Errorf("payer agreement %v, want 1 (2 of 2 answered)", got)
	}
	if _, ok := c.Fields["amount"].Signals["agreement"]; ok {
		t.Errorf("amount agreement %v from one answer", c.Fields["amount"].Signals["agreement"])
	}
}
