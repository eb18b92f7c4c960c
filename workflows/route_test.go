package workflows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/workflows"
)

func TestRoute(t *testing.T) {
	hotl := countersign.Policy{Mode: countersign.ModeHOTL, AutoAcceptThreshold: 0.9, Version: "p1"}
	hitl := countersign.Policy{Mode: countersign.ModeHITL, AutoAcceptThreshold: 0.9, Version: "p2"}
	draft := &countersign.Draft{Fields: countersign.Fields{"a": "x"}}
	weak := &countersign.Confidence{Overall: 0.6, Weakest: "a", Fields: map[string]countersign.FieldScore{
		"a": {Score: 0.6, Reasons: []string{"quote matches the document only after folding case and white space"}},
	}}
	cases := []struct {
		name    string
		policy  countersign.Policy
		draft   *countersign.Draft
		conf    *countersign.Confidence
		outcome countersign.Outcome
		reasons string
	}{
		{"hotl above", hotl, draft, &countersign.Confidence{Overall: 0.95}, countersign.OutcomeAutoAccept, "confidence 0.95 is at or above the auto-accept threshold 0.90"},
		{"hotl at", hotl, draft, &countersign.Confidence{Overall: 0.9}, countersign.OutcomeAutoAccept, "at or above"},
		{"hotl below", hotl, draft, weak, countersign.OutcomeHumanReview, "confidence 0.60 is below the auto-accept threshold 0.90; weakest field a (0.60): quote matches the document only after folding"},
		{"hotl just below", hotl, draft, &countersign.Confidence{Overall: 0.8995}, countersign.OutcomeHumanReview, "confidence 0.899 is below the auto-accept threshold 0.900"},
		{"hitl confident", hitl, draft, &countersign.Confidence{Overall: 1}, countersign.OutcomeHumanReview, "policy mode hitl: every document is reviewed by a person"},
		{"hitl weak", hitl, draft, weak, countersign.OutcomeHumanReview, "policy mode hitl: every document is reviewed by a person; weakest field a (0.60)"},
		{"failed draft", hotl, &countersign.Draft{Error: "endpoint refused"}, &countersign.Confidence{Overall: 1}, countersign.OutcomeHumanReview, "no draft: extraction failed (endpoint refused)"},
		{"no draft", hotl, nil, nil, countersign.OutcomeHumanReview, "no draft was made"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := workflows.Route(workflows.RouteInput{Policy: tc.policy, DocumentID: "d1", Draft: tc.draft, Confidence: tc.conf})
			if r.Outcome != tc.outcome {
				t.Fatalf("outcome = %s, want %s", r.Outcome, tc.outcome)
			}
			if got := strings.Join(r.Reasons, "; "); !strings.Contains(got, tc.reasons) {
				t.Fatalf("reasons = %q, want %q in them", got, tc.reasons)
			}
			if r.PolicyVersion != tc.policy.Version || r.Mode != tc.policy.Mode {
				t.Fatalf("route does not record the policy: %+v", r)
			}
		})
	}
}

func TestRouteRules(t *testing.T) {
	hotl := countersign.Policy{Mode: countersign.ModeHOTL, AutoAcceptThreshold: 0.9, Version: "p1"}
	hitl := countersign.Policy{Mode: countersign.ModeHITL, AutoAcceptThreshold: 0.9, Version: "p2"}
	draft := &countersign.Draft{Fields: countersign.Fields{"amount": 2e6}}
	sure := &countersign.Confidence{Overall: 0.99}
	risk := countersign.RuleHit{Kind: countersign.RuleRisk, Name: "large amount", When: "fields.amount > 1000000"}
	reject := countersign.RuleHit{Kind: countersign.RuleReject, Name: "not a contract", When: `fields.type != "contract"`}
	broken := countersign.RuleHit{Kind: countersign.RuleReject, Name: "typed", When: "fields.type > 3", Error: "no such overload"}
	cases := []struct {
		name    string
		policy  countersign.Policy
		rules   []countersign.RuleHit
		outcome countersign.Outcome
		reasons string
	}{
		{"risk beats confidence", hotl, []countersign.RuleHit{risk}, countersign.OutcomeHumanReview, `risk rule "large amount" matched: fields.amount > 1000000`},
		{"reject", hotl, []countersign.RuleHit{reject}, countersign.OutcomeReject, `reject rule "not a contract" matched`},
		{"reject in hitl goes to a person", hitl, []countersign.RuleHit{reject}, countersign.OutcomeHumanReview, `policy mode hitl: every document is reviewed by a person; reject rule "not a contract" matched`},
		{"risk beats reject", hotl, []countersign.RuleHit{reject, risk}, countersign.OutcomeHumanReview, "large amount"},
		{"a rule that cannot be evaluated goes to a person", hotl, []countersign.RuleHit{broken}, countersign.OutcomeHumanReview, `reject rule "typed" could not be evaluated (no such overload); a person must check`},
	}
	for _, tc := range cases {
		r := workflows.Route(workflows.RouteInput{Policy: tc.policy, DocumentID: "d1", Draft: draft, Confidence: sure, Rules: tc.rules})
		if r.Outcome != tc.outcome || !strings.Contains(strings.Join(r.Reasons, "; "), tc.reasons) {
			t.Errorf("%s: %s %q, want %s with %q", tc.name, r.Outcome, r.Reasons, tc.outcome, tc.reasons)
		}
		if len(r.Rules) != len(tc.rules) {
			t.Errorf("%s: route records %d rules, want %d", tc.name, len(r.Rules), len(tc.rules))
		}
	}
	// A failed draft goes to a person even when a reject rule would match.
	r := workflows.Route(workflows.RouteInput{Policy: hotl, Draft: &countersign.Draft{Error: "x"}, Rules: []countersign.RuleHit{reject}})
	if r.Outcome != countersign.OutcomeHumanReview {
		t.Errorf("failed draft with a reject rule: %s", r.Outcome)
	}
}

func TestRouteThresholdEdges(t *testing.T) {
	p := countersign.Policy{Mode: countersign.ModeHOTL, AutoAcceptThreshold: 0.85}
	draft := &countersign.Draft{Fields: countersign.Fields{"a": "x"}}
	for _, tc := range []struct {
		overall float64
		want    countersign.Outcome
	}{{0.8499, countersign.OutcomeHumanReview}, {0.85, countersign.OutcomeAutoAccept}, {0.8501, countersign.OutcomeAutoAccept}, {0, countersign.OutcomeHumanReview}} {
		r := workflows.Route(workflows.RouteInput{Policy: p, DocumentID: "d", Draft: draft, Confidence: &countersign.Confidence{Overall: tc.overall, Calibration: "cal7"}})
		if r.Outcome != tc.want || r.Calibration != "cal7" {
			t.Errorf("overall %v: %s (calibration %q), want %s", tc.overall, r.Outcome, r.Calibration, tc.want)
		}
	}
}

func TestAuditSampling(t *testing.T) {
	p := countersign.Policy{Mode: countersign.ModeHOTL, AutoAcceptThreshold: 0.5, AuditSampleRate: 0.1}
	draft := &countersign.Draft{Fields: countersign.Fields{"a": "x"}}
	sure := &countersign.Confidence{Overall: 1}
	const n = 20000
	sampled := 0
	for i := range n {
		id := fmt.Sprintf("%032x", i)
		r := workflows.Route(workflows.RouteInput{Policy: p, DocumentID: id, Draft: draft, Confidence: sure})
		again := workflows.Route(workflows.RouteInput{Policy: p, DocumentID: id, Draft: draft, Confidence: sure})
		if r.Outcome != again.Outcome {
			t.Fatalf("%s: drawn %s then %s", id, r.Outcome, again.Outcome)
		}
		if r.Outcome == countersign.OutcomeAutoAcceptWithAudit {
			sampled++
		}
	}
	// Binomial(20000, 0.1): mean 2000, standard deviation 42.4; ±5 sd.
	if sampled < 1788 || sampled > 2212 {
		t.Errorf("%d of %d sampled, want about %d", sampled, n, n/10)
	}
	if workflows.AuditSampled("any", 0) || !workflows.AuditSampled("any", 1) {
		t.Error("rates 0 and 1 must draw none and all")
	}
	// Only auto-accepted documents are drawn.
	low := workflows.Route(workflows.RouteInput{Policy: p, DocumentID: "x", Draft: draft, Confidence: &countersign.Confidence{Overall: 0.1}})
	if low.Outcome != countersign.OutcomeHumanReview {
		t.Errorf("low confidence: %s", low.Outcome)
	}
}
