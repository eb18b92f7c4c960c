package quality_test

import (
	"testing"

	"github.com/countersign/countersign/internal/quality"
)

// A window that starts from a certificate is judged by refutation: 6 wrong
// in 100 audits does not show a 5% budget met (the audits' upper bound is
// above it), which breaches a window without a certificate, but does not
// refute the certificate (the audits' lower bound is below it); 7 in 28
// does. The window's rate and bounds are the audits' alone: the
// certificate's evidence is kept beside them (Start), not pooled in.
func TestEvaluateFromACertificate(t *testing.T) {
	start := &quality.Tally{Audits: 400, Escaped: 8}
	const budget, level = 0.05, 0.95
	for _, c := range []struct {
		name                 string
		audits               quality.Tally
		shown, refuted       bool
		wantRuleWithoutStart string
	}{
		{"no audits", quality.Tally{}, false, false, quality.RuleShowMet},
		{"6 of 100", quality.Tally{Audits: 100, Escaped: 6}, true, false, quality.RuleShowMet},
		{"7 of 28", quality.Tally{Audits: 28, Escaped: 7}, false, true, quality.RuleShowMet},
		{"6 of 27", quality.Tally{Audits: 27, Escaped: 6}, false, false, quality.RuleShowMet},
		{"clean 300", quality.Tally{Audits: 300}, false, false, quality.RuleShowMet},
	} {
		plain, err := quality.Evaluate(nil, c.audits, quality.ConfidenceSequence, budget, level, 0)
		if err != nil {
			t.Fatal(err)
		}
		if plain.Breached != c.shown || plain.Rule != c.wantRuleWithoutStart || plain.Start != nil {
			t.Errorf("%s without a certificate: %+v, want breached %t by %s", c.name, plain, c.shown, c.wantRuleWithoutStart)
		}
		e, err := quality.Evaluate(start, c.audits, quality.ConfidenceSequence, budget, level, 0)
		if err != nil {
			t.Fatal(err)
		}
		lower, upper, _ := quality.Bounds(quality.ConfidenceSequence, c.audits.Escaped, c.audits.Audits, level, budget)
		rate := 0.0
		if c.audits.Audits > 0 {
			rate = float64(c.audits.Escaped) / float64(c.audits.Audits)
		}
		if e.Rule != quality.RuleRefute || e.Breached != c.refuted || e.AuditLower != lower ||
			e.Start == nil || *e.Start != *start || e.Audits != c.audits.Audits || e.Escaped != c.audits.Escaped ||
			e.Rate != rate || e.Bound != upper || e.Lower != lower || e.Bound != plain.Bound {
			t.Errorf("%s from 8 of 400 certified: %+v; want refuted %t, rate %g, bounds [%g, %g] (the audits')",
				c.name, e, c.refuted, rate, lower, upper)
		}
	}
	if _, err := quality.Evaluate(&quality.Tally{Audits: 1, Escaped: 2}, quality.Tally{}, quality.ConfidenceSequence, budget, level, 0); err == nil {
		t.Error("a start that is not a tally: no error")
	}
}
