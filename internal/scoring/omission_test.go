package scoring_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/scoring"
)

const claimSpec = `
name: claims
fields:
  type: object
  required: [claimant]
  properties:
    claimant: {type: string}
    amount_claimed: {type: number, description: Amount claimed.}
    currency: {type: string, enum: [USD, EUR, GBP], description: Currency of the amount claimed.}
    claim_number: {type: string, pattern: '^CLM-[0-9]{4}-[0-9]{5}$'}
    note: {type: string}
policy: {mode: hotl, auto_accept_threshold: 0.9}
`

// claimDraft drafts only the claimant, with three samples; the first
// sample gives an amount claimed, the others leave it empty.
func claimDraft(content string) *countersign.Draft {
	at := strings.Index(content, "Jane Roe")
	return &countersign.Draft{
		Fields:   countersign.Fields{"claimant": "Jane Roe"},
		Evidence: map[string]countersign.Evidence{"claimant": {Quote: "Jane Roe", Start: at, End: at + len("Jane Roe")}},
		// The null the model wrote for the amount claimed had 0.4.
		TokenProb: map[string]float64{"claimant": 0.99, "amount_claimed": 0.4},
		Samples: []countersign.Fields{
			{"claimant": "Jane Roe", "amount_claimed": 1200.0, "currency": nil},
			{"claimant": "Jane Roe", "amount_claimed": nil, "currency": nil},
			{"claimant": "Jane Roe", "amount_claimed": nil, "currency": nil},
		},
	}
}

// TestOmissionSignal: an optional field the draft left empty is scored as
// an omission, lower when the document writes a value of the field's kind
// among the field's words.
func TestOmissionSignal(t *testing.T) {
	tt, sch := compile(t, claimSpec, "claims.yaml")
	score := func(content string) *countersign.Confidence {
		return scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: claimDraft(content), Content: content})
	}

	// The notice states the amount claimed: "Amount claimed" stands right
	// before it, both words of the field's name, so the omission is below
	// ½ and the reason names the amount and the nearest of the words.
	stated := score("Claimant: Jane Roe\nAmount claimed: EUR 1,200.00\nDeductible: EUR 250.00\n")
	amount := stated.Fields["amount_claimed"]
	if got := amount.Signals[countersign.SignalOmission]; !(got > 0 && got < 0.5) {
		t.Errorf("stated amount: omission %v, want in (0, ½)", got)
	}
	if r := strings.Join(amount.Reasons, "; "); !strings.Contains(r, "no value drafted, though the document writes EUR 1,200.00 next to 'claimed'") ||
		!strings.Contains(r, "2 of 3 samples that answered left it empty") ||
		!strings.Contains(r, "the model was unsure the document states none (token probability 0.40)") || amount.Signals[countersign.SignalTokenProb] != 0.4 {
		t.Errorf("stated amount: reasons %q", r)
	}
	// Its raw score weighs the omission with the task type's weights of
	// the others (agreement and token probability 1 by default).
	if want := math.Round((amount.Signals["omission"]+amount.Signals["agreement"]+0.4)/3*1e4) / 1e4; amount.Raw != want || amount.Score != amount.Raw {
		t.Errorf("stated amount: raw %v score %v, want %v", amount.Raw, amount.Score, want)
	}
	if amount.Required || !scoring.IsOmission(amount) || scoring.HardFailure(amount.Signals) {
		t.Errorf("stated amount: %+v is not an optional omission", amount)
	}
	// The currency's enum word stands next to "claimed" too.
	if got := stated.Fields["currency"].Signals[countersign.SignalOmission]; !(got < 1) {
		t.Errorf("stated currency: omission %v, want below 1", got)
	}

	// A notice that states only a deductible: nothing of the field's
	// words stands near it, so leaving the amount out looks right.
	none := score("Claimant: Jane Roe\nThe deductible is EUR 250.00 under this policy.\n")
	if got := none.Fields["amount_claimed"].Signals[countersign.SignalOmission]; got != 1 {
		t.Errorf("deductible only: omission %v, want 1", got)
	}
	if r := none.Fields["amount_claimed"].Reasons; strings.Contains(strings.Join(r, ";"), "no value drafted") {
		t.Errorf("deductible only: reasons %q name a value", r)
	}
	// A field of no kind the document can be searched for, and one of a
	// pattern the document does not hold, are omissions at 1.
	for _, name := range []string{"note", "claim_number"} {
		fs, ok := none.Fields[name]
		if !ok || fs.Signals[countersign.SignalOmission] != 1 {
			t.Errorf("%s: %+v, want an omission at 1", name, fs)
		}
	}
	// Without a calibration an omission takes no part in the document's
	// confidence, which stays the weakest required field's.
	if stated.Overall != stated.Fields["claimant"].Score || none.Overall != stated.Overall {
		t.Errorf("overall %v and %v, want the claimant's %v", stated.Overall, none.Overall, stated.Fields["claimant"].Score)
	}
	// A task type built in code, without weights, scores omissions too.
	bare := *tt
	bare.Weights = nil
	if fs := scoring.Score(scoring.Input{TaskType: &bare, Schema: sch, Draft: claimDraft("nothing"), Content: "nothing"}).Fields["note"]; fs.Raw != 1 {
		t.Errorf("no weights: note %+v, want an omission at 1", fs)
	}
	// A required field left empty is still a missing value, not an
	// omission.
	draft := claimDraft("nothing")
	delete(draft.Fields, "claimant")
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: "nothing"})
	if fs := c.Fields["claimant"]; !fs.Required || len(fs.Signals) != 0 || scoring.IsOmission(fs) {
		t.Errorf("missing required claimant: %+v", fs)
	}
}

// TestOmissionCountsOnlyWhenTheModelLearnedIt: a confidence model fitted
// on omissions gives them probabilities that the document's confidence
// multiplies in; one fitted before omissions were scored leaves them out,
// so its confidences stay those it was validated on.
func TestOmissionCountsOnlyWhenTheModelLearnedIt(t *testing.T) {
	tt, sch := compile(t, claimSpec, "claims.yaml")
	content := "Claimant: Jane Roe\nAmount claimed: EUR 1,200.00\n"
	σ := func(z float64) float64 { return 0.01 + 0.98*countersign.Sigmoid(z) }
	old := &countersign.Calibration{Version: "old", Model: &countersign.ConfidenceModel{
		Features: []string{"token_prob", "absent:token_prob"},
		Pooled:   []float64{-1, 4, 0},
		Document: countersign.Platt{A: 1},
		Floor:    0.01,
	}}
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: claimDraft(content), Content: content, Calibration: old})
	claimant := σ(-1 + 4*0.99)
	if math.Abs(c.Fields["claimant"].Score-claimant) > 1e-12 || math.Abs(c.Overall-(0.01+0.98*claimant)) > 1e-12 {
		t.Errorf("old model: claimant %v overall %v, want %v and the claimant's alone", c.Fields["claimant"].Score, c.Overall, claimant)
	}
	if fs := c.Fields["amount_claimed"]; fs.Score != fs.Raw {
		t.Errorf("old model: the omission's score %v, want its raw score %v", fs.Score, fs.Raw)
	}

	// A curve calibration (no model) leaves an omission at its raw score,
	// in Score and in Recalibrate alike.
	curve := &countersign.Calibration{Version: "curve", Pooled: countersign.Curve{X: []float64{0, 1}, Y: []float64{0, 0.5}}}
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: claimDraft(content), Content: content, Calibration: curve})
	raw := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: claimDraft(content), Content: content})
	again := scoring.Recalibrate(tt, raw, curve, calibration.RawScore)
	if fs := c.Fields["amount_claimed"]; fs.Score != fs.Raw || again.Fields["amount_claimed"].Score != fs.Raw {
		t.Errorf("curve: the omission's score %v, recalibrated %v, want its raw score %v", fs.Score, again.Fields["amount_claimed"].Score, fs.Raw)
	}

	learned := &countersign.Calibration{Version: "new", Model: &countersign.ConfidenceModel{
		Features: []string{"token_prob", "absent:token_prob", "omission", "absent:omission"},
		Pooled:   []float64{-1, 4, 0, 6, 0},
		Document: countersign.Platt{A: 1},
		Floor:    0.01,
	}}
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: claimDraft(content), Content: content, Calibration: learned})
	product, least, weakest := claimant, claimant, "claimant"
	for _, name := range []string{"amount_claimed", "currency", "claim_number", "note"} {
		fs := c.Fields[name]
		// The null's token probability counts as a value's; the other
		// omissions have none (absent, coefficient 0).
		want := σ(-1 + 4*fs.Signals[countersign.SignalTokenProb] + 6*fs.Signals[countersign.SignalOmission])
		if math.Abs(fs.Score-want) > 1e-12 {
			t.Errorf("new model: %s score %v, want %v", name, fs.Score, want)
		}
		product *= want
		if want < least {
			least, weakest = want, name
		}
	}
	if math.Abs(c.Overall-(0.01+0.98*product)) > 1e-12 || c.Weakest != weakest || weakest == "claimant" {
		t.Errorf("new model: overall %v weakest %q, want %v and %s", c.Overall, c.Weakest, 0.01+0.98*product, weakest)
	}
	// Recalibrating the raw confidence gives the same.
	raw = scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: claimDraft(content), Content: content})
	if again := scoring.Recalibrate(tt, raw, learned, calibration.RawScore); !reflect.DeepEqual(again, c) {
		t.Errorf("Recalibrate = %+v, want %+v", again, c)
	}
}
