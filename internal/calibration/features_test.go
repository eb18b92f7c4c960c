package calibration

import (
	"maps"
	"testing"

	"github.com/countersign/countersign"
)

func TestKnots(t *testing.T) {
	// Ten values with log-odds 0, 1, …, 9. The tenth lies at index
	// int(0.1·9) = 0, the lowest value, which would make a constant
	// feature: left out. The quarter at int(0.25·9) = 2, the median at
	// int(0.5·9) = 4.
	var rows []row
	for x := range 10 {
		rows = append(rows, row{signals: map[string]float64{"token_prob": countersign.Sigmoid(float64(x))}})
	}
	rows = append(rows, row{signals: map[string]float64{}}) // absent: not counted
	got := knots(rows, "token_prob")
	if len(got) != 2 || got[0] != 2 || got[1] != 4 {
		t.Errorf("knots %v, want [2 4]", got)
	}
	if got := knots(rows, "agreement"); got != nil {
		t.Errorf("knots of a signal no row has: %v", got)
	}
}

func TestCheckRates(t *testing.T) {
	var rows []row
	add := func(n int, correct bool, signals map[string]float64) {
		for range n {
			rows = append(rows, row{signals: signals, correct: correct})
		}
	}
	add(1, true, map[string]float64{"quote_match": 0, "rules": 1})
	add(3, false, map[string]float64{"quote_match": 0})
	add(5, true, map[string]float64{"quote_match": 1})
	add(2, false, map[string]float64{"rules": 1})
	add(1, false, map[string]float64{"rules": 0, "omission": 0.4}) // an omission fails no check
	// quote_match: 1 kept of 4 failed, (1 + ½)/(4 + 1) = 0.3; rules: none
	// failed, (0 + ½)/(0 + 1) = ½.
	want := map[string]float64{"quote_match": 0.3, "rules": 0.5}
	if got := checkRates(rows); !maps.Equal(got, want) {
		t.Errorf("check rates %v, want %v", got, want)
	}
	// With none failed: ½.
	if got := checkRates(rows[4:9]); !maps.Equal(got, map[string]float64{"quote_match": 0.5}) {
		t.Errorf("check rates of values that passed %v, want quote_match ½", got)
	}
}
