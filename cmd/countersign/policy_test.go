package main

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/simulate"
)

// TestPrintSimulation: thresholds print with every digit (0.99, 0.995 and
// 0.999 are three rows), rates with three decimals, and n/a where no
// accepted document has a known outcome, never 0.0%.
func TestPrintSimulation(t *testing.T) {
	rate, bound := 0.0, 0.0499
	some := 0.25
	res := &simulate.Result{TaskType: "claims", PolicyVersion: "abc", Level: 0.95, Documents: 80, TrainedOn: 20, Checked: 70, Rows: []simulate.Row{
		{Threshold: 0.9, Review: 20, AutoAccepted: 60, Known: 59, Wrong: 0, Unknown: 1, ReviewRate: 0.25, ErrorRate: &rate, UpperBound: &bound},
		{Threshold: 0.99, Review: 76, AutoAccepted: 4, Known: 4, Wrong: 1, ReviewRate: 0.95, ErrorRate: &some, UpperBound: &bound},
		{Threshold: 0.995, Review: 80, ReviewRate: 1},
		{Threshold: 0.999, Review: 80, ReviewRate: 1},
	}}
	var b strings.Builder
	if err := printSimulation(&b, res, []float64{0.995}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	row := func(threshold string) string {
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == threshold {
				return l
			}
		}
		t.Fatalf("no row %s in\n%s", threshold, out)
		return ""
	}
	for threshold, want := range map[string][]string{
		"0.900": {"20 (25.0%)", " 59 ", " 0.000 ", " 0.050 "},
		"0.990": {" 4 ", " 1 ", " 0.250 "},
		"0.995": {"*", " n/a ", "80 (100.0%)"},
		"0.999": {" n/a "},
	} {
		for _, w := range want {
			if r := row(threshold); !strings.Contains(r, w) {
				t.Errorf("row %s lacks %q: %q", threshold, w, r)
			}
		}
	}
	for _, want := range []string{"80 documents it did not train on (20 it did, left out); 70 counted for the error rates", "UPPER 95%"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// An upper bound prints rounded up, so that one over a budget never reads
// as the budget: 0 of 290 at 95% is 1 - 0.05^(1/290) = 0.010277, which
// rounded to the nearest read 0.010 against a 1% budget. A bound that is
// a whole number of thousandths stays as it is.
func TestUpperBoundRoundsUp(t *testing.T) {
	for _, c := range []struct {
		bound float64
		want  string
	}{{0.010276938938107327, "0.011"}, {0.010002, "0.011"}, {0.05, "0.050"}, {0.0521, "0.053"}, {1, "1.000"}} {
		if got := upper(&c.bound); got != c.want {
			t.Errorf("upper(%v) = %s, want %s", c.bound, got, c.want)
		}
	}
	if got := upper(nil); got != "n/a" {
		t.Errorf("upper(nil) = %s, want n/a", got)
	}
}
