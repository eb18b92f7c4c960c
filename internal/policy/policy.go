// Package policy evaluates the CEL rules of a routing policy on a draft: the
// risk rules that send a document to a person whatever its confidence, and
// the reject rules that reject it without one.
package policy

import (
	"errors"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/expr"
)

// Evaluate returns the rules of p that match a draft's fields, the
// document's metadata and its confidence, risk rules first, each in
// declaration order. A rule that reads a field or metadata key the document
// does not have does not match (write has(fields.x) to be explicit). A rule
// that cannot be evaluated otherwise (a type mismatch, the cost limit) is
// returned with its error: the router treats it as a reason for a person to
// look, never as a pass.
func Evaluate(p countersign.Policy, fields countersign.Fields, metadata map[string]string, confidence float64) []countersign.RuleHit {
	vars := expr.Vars{Fields: fields, Metadata: metadata, Confidence: confidence}
	var hits []countersign.RuleHit
	for _, group := range []struct {
		kind  string
		rules []countersign.PolicyRule
	}{{countersign.RuleRisk, p.RiskRules}, {countersign.RuleReject, p.RejectRules}} {
		for _, r := range group.rules {
			hit := countersign.RuleHit{Kind: group.kind, Name: r.Name, When: r.When}
			prg, err := expr.Compile(r.When)
			matched := false
			if err == nil {
				matched, err = prg.Eval(vars)
			}
			if errors.Is(err, expr.ErrMissingKey) {
				continue
			}
			if err != nil {
				hit.Error = err.Error()
			}
			if matched || err != nil {
				hits = append(hits, hit)
			}
		}
	}
	return hits
}
