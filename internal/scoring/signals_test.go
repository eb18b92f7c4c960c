package scoring_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/llm/llmtest"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/scoring"
)

const modelSpec = `
name: payments
extractor: openai
fields:
  type: object
  required: [payer, amount, start, end]
  properties:
    payer: {type: string}
    amount: {type: number}
    start: {type: string, format: date}
    end: {type: string, format: date}
rules:
  payer:
    - pattern: 'Payer: (?P<value>[A-Z][a-z]+ [A-Z][a-z]+)'
constraints:
  - name: ends after it starts
    rule: 'fields.end > fields.start'
    fields: [start, end]
    message: the end date must come after the start date
  - name: amount in range
    rule: 'fields.amount > 0 && fields.amount < 1000000'
    fields: [amount]
scoring:
  weights: {judge: 2}
policy: {mode: hotl, auto_accept_threshold: 0.9}
`

const payment = "Payer: Jane Roe\nAmount: 1200 EUR\nFrom 2025-01-01 to 2025-12-31."

func modelSetup(t testing.TB) (*countersign.TaskType, *schema.Schema) {
	t.Helper()
	return compile(t, modelSpec, "payments.yaml")
}

func quoted(content string, fields countersign.Fields, quotes map[string]string) map[string]countersign.Evidence {
	out := map[string]countersign.Evidence{}
	for name, q := range quotes {
		at := strings.Index(content, q)
		out[name] = countersign.Evidence{Quote: q, Start: at, End: at + len(q)}
	}
	return out
}

func modelDraft() *countersign.Draft {
	fields := countersign.Fields{"payer": "Jane Roe", "amount": 1200.0, "start": "2025-01-01", "end": "2025-12-31"}
	return &countersign.Draft{
		Extractor: "openai",
		Fields:    fields,
		Evidence:  quoted(payment, fields, map[string]string{"payer": "Jane Roe", "amount": "1200 EUR", "start": "2025-01-01", "end": "2025-12-31"}),
		TokenProb: map[string]float64{"payer": 0.9, "amount": 0.3, "start": 1, "end": 1},
		Samples: []countersign.Fields{
			{"payer": "JANE ROE", "amount": 1200.0, "start": "2025-01-01", "end": "2025-12-31"},
			{"payer": "Jane Roe", "amount": 1300.0, "start": "2025-01-01", "end": "2025-12-31"},
			{"payer": "Jane Roe", "amount": 1200.0, "start": "2025-01-01", "end": "2025-12-31"},
			// A sample that says the document states none of the fields
			// answered them all, and disagrees with every value.
			{"payer": nil, "amount": nil, "start": nil, "end": nil},
			// An unusable sample answered nothing and counts for nothing.
			nil,
		},
		CrossCheck: countersign.Fields{"payer": "John Doe"},
		Judge:      map[string]float64{"payer": 1, "amount": 0.5, "start": 1, "end": 0},
	}
}

func TestModelSignals(t *testing.T) {
	tt, sch := modelSetup(t)
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: modelDraft(), Content: payment})

	payer := c.Fields["payer"]
	// schema 1, grounding 1, token_prob 0.9, agreement 3/4, rules 0 (the rules
	// found John Doe), judge 1 at weight 2: (1+1+0.9+0.75+0+2)/7 = 0.8071.
	// Ambiguity 1 (the payer rule matches one name), context ½ (one word of
	// the field, "Payer", right before the value) and quote_match 1 (the
	// quote says the value) weigh nothing by default.
	want := map[string]float64{"schema": 1, "grounding": 1, "token_prob": 0.9, "agreement": 0.75, "rules": 0, "judge": 1, "ambiguity": 1, "context": 0.5, "quote_match": 1}
	if !countersign.SameValue(payer.Signals, want) {
		t.Errorf("payer signals = %v, want %v", payer.Signals, want)
	}
	if payer.Raw != 0.8071 || payer.Score != payer.Raw {
		t.Errorf("payer raw %v score %v, want 0.8071 for both without calibration", payer.Raw, payer.Score)
	}
	for _, reason := range []string{"3 of 4 samples", `rules extractor found "John Doe"`} {
		if !strings.Contains(strings.Join(payer.Reasons, "; "), reason) {
			t.Errorf("payer reasons %v miss %q", payer.Reasons, reason)
		}
	}

	amount := c.Fields["amount"]
	// The constraint holds (1); token_prob 0.3, agreement 2/4, no rules for
	// the field, judge 0.5 at weight 2: (1+1+1+0.3+0.5+1)/7 = 0.6857.
	if amount.Signals["constraints"] != 1 || amount.Raw != 0.6857 {
		t.Errorf("amount signals %v raw %v, want constraints 1 and raw 0.6857", amount.Signals, amount.Raw)
	}
	if _, ok := amount.Signals["rules"]; ok {
		t.Error("amount has no rules, so no rules signal")
	}
	if !strings.Contains(strings.Join(amount.Reasons, "; "), "token probability 0.30") {
		t.Errorf("amount reasons %v", amount.Reasons)
	}
	// end: everything holds but the judge found it wrong (0 at weight 2),
	// and 3 of 4 samples agree: (1+1+1+1+0.75+0)/7 = 0.6786, the weakest.
	if c.Overall != 0.6786 || c.Weakest != "end" {
		t.Errorf("overall %v weakest %q, want end's 0.6786", c.Overall, c.Weakest)
	}
}

func TestConstraints(t *testing.T) {
	tt, sch := modelSetup(t)
	draft := modelDraft()
	draft.Fields["end"] = "2024-12-31"
	draft.Fields["amount"] = 5e6
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment})
	for _, name := range []string{"start", "end", "amount"} {
		fs := c.Fields[name]
		if fs.Signals["constraints"] != 0 || fs.Score != 0 {
			t.Errorf("%s: constraints %v score %v, want 0 and 0", name, fs.Signals["constraints"], fs.Score)
		}
	}
	if r := strings.Join(c.Fields["end"].Reasons, "; "); !strings.Contains(r, "breaks constraint ends after it starts: the end date must come after the start date") {
		t.Errorf("end reasons = %v", r)
	}
	if _, ok := c.Fields["payer"].Signals["constraints"]; ok {
		t.Error("no constraint names payer")
	}

	// A constraint over a missing field is not checked.
	delete(draft.Fields, "start")
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment})
	if _, ok := c.Fields["end"].Signals["constraints"]; ok {
		t.Error("a constraint whose fields are not all there was checked")
	}
}

func TestCalibrationMapsScores(t *testing.T) {
	tt, sch := modelSetup(t)
	cal := &countersign.Calibration{
		Version: "cal1",
		Pooled:  countersign.Curve{X: []float64{0, 1}, Y: []float64{0, 0.5}},
		Fields:  map[string]countersign.Curve{"payer": {X: []float64{0.5, 0.9}, Y: []float64{0.2, 0.95}}},
	}
	draft := modelDraft()
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment, Calibration: cal})
	// payer: raw 0.8071, between 0.5 (0.2) and 0.9 (0.95):
	// 0.2 + 0.75 × (0.3071/0.4) = 0.7758.
	if fs := c.Fields["payer"]; fs.Raw != 0.8071 || fs.Score != 0.7758 {
		t.Errorf("payer raw %v score %v, want 0.8071 → 0.7758", fs.Raw, fs.Score)
	}
	// amount: pooled, raw 0.6857 → 0.3429 (0.34285 rounds half to even in
	// binary; the stored figure is what round gives).
	if fs := c.Fields["amount"]; fs.Score != 0.3429 && fs.Score != 0.3428 {
		t.Errorf("amount score %v, want about 0.3429", fs.Score)
	}
	if c.Calibration != "cal1" {
		t.Errorf("calibration version %q", c.Calibration)
	}
	// A value that breaks a hard check stays at 0 whatever the curve says.
	draft.Fields["amount"] = -1.0
	cal.Pooled = countersign.Curve{X: []float64{0, 1}, Y: []float64{0.6, 0.9}}
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment, Calibration: cal})
	if c.Fields["amount"].Score != 0 {
		t.Errorf("a broken constraint calibrated to %v", c.Fields["amount"].Score)
	}
}

func TestModelGivesProbabilities(t *testing.T) {
	tt, sch := modelSetup(t)
	// The field's probability is σ(β0 + β1·token_prob), bounded within
	// [0.01, 0.99] as 0.01 + 0.98·σ; end has its own coefficients; the
	// document's Platt map is the identity, so its probability is the
	// bounded product.
	cal := &countersign.Calibration{
		Version: "m1",
		Model: &countersign.ConfidenceModel{
			Features: []string{"token_prob", "absent:token_prob"},
			Pooled:   []float64{-1, 4, 0},
			Fields:   map[string][]float64{"end": {-2, 0, 0}},
			Document: countersign.Platt{A: 1},
			Floor:    0.01,
		},
	}
	σ := func(z float64) float64 { return 0.01 + 0.98*countersign.Sigmoid(z) }
	draft := modelDraft()
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment, Calibration: cal})
	want := map[string]float64{"payer": σ(-1 + 4*0.9), "amount": σ(-1 + 4*0.3), "start": σ(3), "end": σ(-2)}
	for name, p := range want {
		if fs := c.Fields[name]; math.Abs(fs.Score-p) > 1e-12 || fs.Raw == fs.Score {
			t.Errorf("%s score %v (raw %v), want %v", name, fs.Score, fs.Raw, p)
		}
	}
	if doc := 0.01 + 0.98*want["payer"]*want["amount"]*want["start"]*want["end"]; math.Abs(c.Overall-doc) > 1e-12 || c.Weakest != "end" || c.Calibration != "m1" {
		t.Errorf("overall %v weakest %q, want the product %v and end", c.Overall, c.Weakest, doc)
	}
	// Through Recalibrate, a confidence scored raw becomes the same.
	raw := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment})
	if again := scoring.Recalibrate(tt, raw, cal, calibration.RawScore); !reflect.DeepEqual(again, c) {
		t.Errorf("Recalibrate = %+v, want %+v", again, c)
	}

	// A broken constraint and a missing required value are at the floor,
	// not 0; the document's product counts them.
	draft.Fields["amount"] = -1.0
	delete(draft.Fields, "payer")
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment, Calibration: cal})
	if c.Fields["amount"].Score != 0.01 || c.Fields["amount"].Raw != 0 || c.Fields["payer"].Score != 0.01 {
		t.Errorf("amount %+v payer %+v, want both at the floor 0.01", c.Fields["amount"], c.Fields["payer"])
	}
	if doc := 0.01 + 0.98*0.01*0.01*want["start"]*want["end"]; math.Abs(c.Overall-doc) > 1e-12 || c.Weakest != "payer" {
		t.Errorf("overall %v weakest %q, want %v and payer (declared first)", c.Overall, c.Weakest, doc)
	}
	raw = scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: payment})
	if again := scoring.Recalibrate(tt, raw, cal, calibration.RawScore); !reflect.DeepEqual(again, c) {
		t.Errorf("Recalibrate = %+v, want %+v", again, c)
	}

	// Without a draft, the document's confidence is 0.
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: &countersign.Draft{Error: "refused"}, Content: payment, Calibration: cal})
	if c.Overall != 0 {
		t.Errorf("no draft: overall %v", c.Overall)
	}
	if again := scoring.Recalibrate(tt, c, cal, calibration.RawScore); again.Overall != 0 {
		t.Errorf("no draft, recalibrated: overall %v", again.Overall)
	}
}

// BenchmarkScore measures scoring a 20-field draft with 5 samples, all
// signals on; BenchmarkScoreRulesDraft is the baseline of a rules draft of
// the same fields (schema and grounding only), in the same run.
func BenchmarkScore(b *testing.B)           { benchmarkScore(b, true) }
func BenchmarkScoreRulesDraft(b *testing.B) { benchmarkScore(b, false) }

func benchmarkScore(b *testing.B, model bool) {
	tt, sch, draft, text := wideDraft(b, model)
	cal := &countersign.Calibration{Version: "c", Pooled: countersign.Curve{X: []float64{0, 0.5, 1}, Y: []float64{0, 0.4, 0.97}}}
	b.ReportAllocs()
	for b.Loop() {
		scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: text, Calibration: cal})
	}
}

// wideDraft is a 20-field task type, a document of about 8 KB and a draft of
// it; a model draft carries 5 samples, token probabilities, a rules
// cross-check and judge verdicts.
func wideDraft(b *testing.B, model bool) (*countersign.TaskType, *schema.Schema, *countersign.Draft, string) {
	b.Helper()
	var spec strings.Builder
	spec.WriteString("name: wide\nextractor: openai\nfields:\n  type: object\n  required: [")
	var content strings.Builder
	fields := countersign.Fields{}
	quotes := map[string]string{}
	for i := range 20 {
		if i > 0 {
			spec.WriteString(", ")
		}
		fmt.Fprintf(&spec, "f%02d", i)
		value := fmt.Sprintf("value number %d of the form", i)
		fmt.Fprintf(&content, "Section %d. The field f%02d is %s.\n", i, i, value)
		fields[fmt.Sprintf("f%02d", i)] = value
		quotes[fmt.Sprintf("f%02d", i)] = value
	}
	spec.WriteString("]\n  properties:\n")
	for i := range 20 {
		fmt.Fprintf(&spec, "    f%02d: {type: string, minLength: 3}\n", i)
	}
	spec.WriteString("constraints:\n  - {name: c, rule: 'size(fields.f00) > 2', fields: [f00]}\npolicy: {mode: hotl, auto_accept_threshold: 0.9}\n")
	tt, sch := compile(b, spec.String(), "wide.yaml")
	text := strings.Repeat("Preamble text that is not quoted. ", 200) + content.String()
	draft := &countersign.Draft{Fields: fields, Evidence: quoted(text, fields, quotes)}
	if model {
		draft.TokenProb, draft.Judge = map[string]float64{}, map[string]float64{}
		for name := range fields {
			draft.TokenProb[name], draft.Judge[name] = 0.9, 1
		}
		for range 5 {
			draft.Samples = append(draft.Samples, fields)
		}
		draft.CrossCheck = countersign.Fields{}
	}
	return tt, sch, draft, text
}

// BenchmarkScoreVsModelCall puts scoring next to the cheapest model call
// there is: the openai extractor asking an OpenAI-compatible server in the
// same process for the same 20 fields and 5 samples, over loopback HTTP with
// no model behind it. It reports both per document and their ratio
// (score/call); a real model takes seconds, so the real ratio is far smaller.
func BenchmarkScoreVsModelCall(b *testing.B) {
	tt, sch, draft, text := wideDraft(b, true)
	srv := llmtest.New(b)
	var pairs []any
	for _, name := range tt.FieldOrder {
		pairs = append(pairs, name, &llmtest.Field{Value: draft.Fields[name], Quote: draft.Evidence[name].Quote})
	}
	answer := llmtest.Fields(pairs...)
	srv.Otherwise(func(openai.ChatCompletionRequest) llmtest.Reply {
		return llmtest.Answer(answer, answer, answer, answer, answer)
	})
	tt.Model.Samples = 5
	x := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL(), Model: "m"})
	doc := &countersign.Document{Content: text}
	cal := &countersign.Calibration{Version: "c", Pooled: countersign.Curve{X: []float64{0, 1}, Y: []float64{0, 1}}}
	var scoring_, calling time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := x.Extract(context.Background(), tt, doc); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: text, Calibration: cal})
		calling += mid.Sub(start)
		scoring_ += time.Since(mid)
	}
	n := float64(b.N)
	b.ReportMetric(float64(scoring_.Microseconds())/n, "µs-score/doc")
	b.ReportMetric(float64(calling.Microseconds())/n, "µs-call/doc")
	b.ReportMetric(float64(scoring_)/float64(calling), "score/call")
}
