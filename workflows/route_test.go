package workflows_test

import (
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
		{"hitl confident", hitl, draft, &countersign.Confidence{Overall: 1}, countersign.OutcomeHumanReview, "policy mode hitl: every document is reviewed by a person"},
		{"hitl weak", hitl, draft, weak, countersign.OutcomeHumanReview, "policy mode hitl: every document is reviewed by a person; weakest field a (0.60)"},
		{"failed draft", hotl, &countersign.Draft{Error: "endpoint refused"}, &countersign.Confidence{Overall: 1}, countersign.OutcomeHumanReview, "no draft: extraction failed (endpoint refused)"},
		{"no draft", hotl, nil, nil, countersign.OutcomeHumanReview, "no draft was made"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := workflows.Route(tc.policy, tc.draft, tc.conf)
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
