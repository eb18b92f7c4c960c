package main

import (
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// TestPrintBatchCertificate: a batch certificate says what it promises of
// each batch and the rate it certified to keep it, and the list shows its
// horizon beside the budget.
func TestPrintBatchCertificate(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := &countersign.Certificate{ID: "claims/c3", TaskType: "claims", Budget: 0.05, Level: 0.95, Horizon: 400, RateBudget: 0.032788425,
		Threshold: 0.9591, Bound: 0.00973, Attempt: 2, TestedAt: 0.9975, Accepted: 400, Documents: 410, ReviewShare: 10.0 / 410, Since: at, Until: at}
	var out strings.Builder
	printCertificate(&out, c)
	for _, want := range []string{
		"error budget 5% of each next 400 accepted documents at 95% confidence: the error rate within 3.2788%",
		"attempt 2 at this budget and level: the rate tested at 99.75% confidence",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed\n%s\nwithout %q", out.String(), want)
		}
	}
	if got := budgetText(c); got != "5% of 400" {
		t.Errorf("budget in the list = %q", got)
	}
	c.Horizon, c.RateBudget = 0, 0
	if got := budgetText(c); got != "5%" {
		t.Errorf("budget of a certificate of the rate = %q", got)
	}
}
