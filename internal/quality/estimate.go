package quality

import "fmt"

// Rules by which an Estimate judges a window against the budget.
const (
	// Both rules keep their level for audits counted in the order they
	// were drawn, which is how the supervisor counts them (each once
	// decided or due, activities.CountAudits); counted as they are decided
	// they would not, where how long an audit takes depends on its verdict
	// (docs/oversight.md: the order audits count in).
	//
	// RuleShowMet: nothing showed the budget met before the audits, so the
	// audits must. Once MinAudits are in, the window breaches while their
	// upper bound is above the budget. With ConfidenceSequence, a rate above
	// the budget is ever taken for one within it with probability at most
	// 1-Level.
	RuleShowMet = "show-met"
	// RuleRefute: a certificate showed the budget met, and the window starts
	// from its evidence. The window breaches when the audits refute it: when
	// the lower bound of the audits since it started is above the budget.
	// With ConfidenceSequence, a policy within the budget is ever tightened
	// with probability at most 1-Level.
	//
	// The audits are judged without the certificate's evidence: a
	// certificate is the threshold whose evidence looked best, so when the
	// rate is in truth above the budget, that evidence is the luckier part
	// of the record and would only slow the audits down. At a 5% budget, a
	// certificate of 8 wrong in 400 and a true rate of 25% are refuted after
	// 28 audits alone, 152 counted together; 2 in 124 and 10%: 250 and 450;
	// at 1%, 2 in 628 and 2%: 1,300 and 2,350. The same holds when the rate
	// rose after the certificate's data window.
	RuleRefute = "refute"
)

// Estimate is the supervisor's view of a task type's evidence against its
// error budget: what the audits found, how bad the escaped-error rate could
// be at the chosen confidence, and whether that breaches the budget.
type Estimate struct {
	// Audits and Escaped are the audited auto-accepted documents in the
	// window and those the auditor corrected.
	Audits  int `json:"audits"`
	Escaped int `json:"escaped"`
	// Start is the evidence the window started from, when a certificate
	// gave it: the reviewed documents accepted at its threshold (Audits)
	// and the wrong ones among them (Escaped). Rate, Bound and Lower do not
	// count it (RuleRefute says why): it is shown beside them, as the
	// certificate's own figures, not pooled into a bound it would make
	// invalid.
	Start *Tally `json:"start,omitempty"`
	// Rate is the observed escaped-error rate of the audits, 0 without
	// any.
	Rate float64 `json:"rate"`
	// Bound is the upper bound of the rate: with confidence Level, the true
	// rate is at most Bound.
	Bound float64 `json:"bound"`
	// Lower is the lower bound of the rate: with confidence Level, the true
	// rate is at least Lower (with ConfidenceSequence, strictly between
	// Lower and Bound, at every audit at once).
	Lower float64 `json:"lower"`
	// AuditLower is, by RuleRefute, the lower bound of the audits alone,
	// which the window breaches by exceeding the budget.
	AuditLower float64 `json:"audit_lower,omitempty"`
	// Budget is the highest acceptable escaped-error rate.
	Budget float64 `json:"budget"`
	// Level is the confidence level of the bounds.
	Level float64 `json:"level"`
	// Method is the bound method: ConfidenceSequence, Wilson or
	// ClopperPearson.
	Method string `json:"method"`
	// MinAudits is how many audits the supervisor waits for before it
	// judges by RuleShowMet, and how many Threshold asks for above a raised
	// threshold.
	MinAudits int `json:"min_audits"`
	// Rule is RuleShowMet, or RuleRefute when the window started from a
	// certificate.
	Rule string `json:"rule"`
	// Breached is true when, by Rule, the audits breach the budget: the
	// supervisor tightens the task type's policy.
	Breached bool `json:"breached"`
}

// Evaluate judges the audit tally t of a task type against its error budget
// at level with method. start is the evidence of the certificate the window
// started from, nil when it started empty.
//
// Without a start the rule is RuleShowMet: minAudits 0 means MinAudits(method,
// budget, level), the fewest audits with which a clean record could meet the
// budget; before that many, a bound above the budget says only that there is
// not enough evidence yet, so it is not a breach. With a start the rule is
// RuleRefute, which needs no minimum. It is an error when budget or level is
// outside (0,1), method is unknown, minAudits is negative or t or start is
// not a tally.
func Evaluate(start *Tally, t Tally, method string, budget, level float64, minAudits int) (Estimate, error) {
	if err := checkParams(method, budget, level); err != nil {
		return Estimate{}, err
	}
	switch {
	case minAudits < 0:
		return Estimate{}, fmt.Errorf("quality: minimum audits %d is negative", minAudits)
	case minAudits == 0:
		n, err := MinAudits(method, budget, level)
		if err != nil {
			return Estimate{}, err
		}
		minAudits = n
	}
	if err := checkTally(t.Escaped, t.Audits); err != nil {
		return Estimate{}, err
	}
	if start != nil {
		if err := checkTally(start.Escaped, start.Audits); err != nil {
			return Estimate{}, fmt.Errorf("quality: the window's start: %w", err)
		}
	}
	// The audits alone: a certificate's evidence is the threshold whose
	// record looked best, from another window, and pooled with them would
	// make a bound that does not hold (0 wrong of 400 certified and 10 of
	// 100 audited read 0.6% to 4.5% at a 5% budget; the audits alone say
	// 3.3% to 21.3%).
	lower, upper, err := Bounds(method, t.Escaped, t.Audits, level, budget)
	if err != nil {
		return Estimate{}, err
	}
	var rate float64
	if t.Audits > 0 {
		rate = float64(t.Escaped) / float64(t.Audits)
	}
	e := Estimate{
		Audits:    t.Audits,
		Escaped:   t.Escaped,
		Rate:      rate,
		Bound:     upper,
		Lower:     lower,
		Budget:    budget,
		Level:     level,
		Method:    method,
		MinAudits: minAudits,
		Rule:      RuleShowMet,
		Breached:  t.Audits >= minAudits && upper > budget,
	}
	if start != nil {
		s := *start
		e.Start, e.Rule, e.AuditLower, e.Breached = &s, RuleRefute, lower, lower > budget
	}
	return e, nil
}
