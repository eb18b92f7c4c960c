package quality_test

import (
	"math"
	"testing"

	"github.com/countersign/countersign/internal/quality"
)

// TestFleissKappaWorkedExample: the worked example of Fleiss' kappa (10
// subjects, 14 raters, 5 categories; Wikipedia, "Fleiss' kappa"): P̄ =
// 0.378, P̄e = 0.213, kappa = 0.210.
func TestFleissKappaWorkedExample(t *testing.T) {
	table := [][5]int{
		{0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
		{7, 7, 0, 0, 0}, {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7},
	}
	var units [][]string
	for _, row := range table {
		var u []string
		for category, count := range row {
			for range count {
				u = append(u, string(rune('1'+category)))
			}
		}
		units = append(units, u)
	}
	k, ok := quality.FleissKappa(units)
	if !ok || math.Abs(k-0.210) > 0.0005 {
		t.Errorf("Fleiss' kappa = %v, %v; want 0.210", k, ok)
	}
	if _, ok := quality.FleissKappa([][]string{{"a", "b", "a"}, {"a", "b"}}); ok {
		t.Error("Fleiss' kappa over items with different numbers of raters")
	}
	if _, ok := quality.FleissKappa([][]string{{"a", "a", "a"}, {"a", "a", "a"}}); ok {
		t.Error("Fleiss' kappa where every label is the same")
	}
}

// TestKrippendorffAlphaWorkedExample: Krippendorff's worked example for
// nominal data with four observers and missing values (Krippendorff,
// "Computing Krippendorff's Alpha-Reliability", 2011, section C): alpha =
// 0.743. The twelfth unit has one value and counts for nothing.
func TestKrippendorffAlphaWorkedExample(t *testing.T) {
	// Rows: observers A to D; columns: units 1 to 12; "" is missing.
	data := [4][12]string{
		{"1", "2", "3", "3", "2", "1", "4", "1", "2", "", "", ""},
		{"1", "2", "3", "3", "2", "2", "4", "1", "2", "5", "", "3"},
		{"", "3", "3", "3", "2", "3", "4", "2", "2", "5", "1", ""},
		{"1", "2", "3", "3", "2", "4", "4", "1", "2", "5", "1", ""},
	}
	var units [][]string
	for u := range 12 {
		var labels []string
		for o := range 4 {
			if v := data[o][u]; v != "" {
				labels = append(labels, v)
			}
		}
		units = append(units, labels)
	}
	a, ok := quality.KrippendorffAlpha(units)
	if !ok || math.Abs(a-0.743) > 0.0005 {
		t.Errorf("alpha = %v, %v; want 0.743", a, ok)
	}
	// Two raters on every item, nominal: alpha is close to, not equal
	// to, Cohen's kappa; perfect agreement gives 1.
	if a, ok := quality.KrippendorffAlpha([][]string{{"x", "x"}, {"y", "y"}, {"x", "x", "x"}}); !ok || a != 1 {
		t.Errorf("perfect agreement: alpha = %v, %v", a, ok)
	}
	if _, ok := quality.KrippendorffAlpha([][]string{{"x"}, {"y"}}); ok {
		t.Error("alpha with no item labelled twice")
	}
}
