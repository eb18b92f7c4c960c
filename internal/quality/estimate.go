package quality

import "fmt"

// Estimate is the supervisor's view of a task type's audit record against
// its error budget: what the audits found, how bad the escaped-error rate
// could be at the chosen confidence, and whether that breaches the budget.
type Estimate struct {
	// Audits and Escaped are the audited auto-accepted documents and those
	// the auditor corrected.
	Audits  int `json:"audits"`
	Escaped int `json:"escaped"`
	// Rate is the observed escaped-error rate Escaped/Audits, 0 with no
	// audits.
	Rate float64 `json:"rate"`
	// Bound is the UpperBound of the rate: with confidence Level, the true
	// rate is at most Bound.
	Bound float64 `json:"bound"`
	// Budget is the highest acceptable escaped-error rate.
	Budget float64 `json:"budget"`
	// Level is the confidence level of Bound.
	Level float64 `json:"level"`
	// Method is the bound method, Wilson or ClopperPearson.
	Method string `json:"method"`
	// MinAudits is how many audits the supervisor waits for before it
	// judges.
	MinAudits int `json:"min_audits"`
	// Breached is true when the record is large enough to judge (Audits >=
	// MinAudits) and Bound exceeds Budget: the supervisor cannot claim the
	// budget is met and tightens the task type's policy.
	Breached bool `json:"breached"`
}

// Evaluate judges the audit tally t of a task type against its error budget
// at level with method. minAudits 0 means MinAudits(method, budget, level),
// the fewest audits with which a clean record could meet the budget; before
// that many, a bound above the budget says only that there is not enough
// evidence yet, so it is not a breach. It is an error when budget or level is
// outside (0,1), method is unknown, minAudits is negative or t is not a
// tally.
func Evaluate(t Tally, method string, budget, level float64, minAudits int) (Estimate, error) {
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
	bound, err := UpperBound(method, t.Escaped, t.Audits, level)
	if err != nil {
		return Estimate{}, err
	}
	var rate float64
	if t.Audits > 0 {
		rate = float64(t.Escaped) / float64(t.Audits)
	}
	return Estimate{
		Audits:    t.Audits,
		Escaped:   t.Escaped,
		Rate:      rate,
		Bound:     bound,
		Budget:    budget,
		Level:     level,
		Method:    method,
		MinAudits: minAudits,
		Breached:  t.Audits >= minAudits && bound > budget,
	}, nil
}
