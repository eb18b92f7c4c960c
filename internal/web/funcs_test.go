package web

import "testing"

func TestScoreNeverShowsCertainty(t *testing.T) {
	for f, want := range map[float64]string{0.5: "0.50", 0.994: "0.99", 0.996: ">0.99", 0.9999: ">0.99", 1: "1.00", 0.004: "<0.01", 0: "0.00", 0.006: "0.01"} {
		if got := score(f); got != want {
			t.Errorf("score(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestShortID(t *testing.T) {
	for id, want := range map[string]string{
		"29df96a6ad89aeec301b850162764c74-r1": "29df96a6ad89…-r1",
		"29df96a6ad89aeec301b850162764c74":    "29df96a6ad89…",
		"d1-r2":                               "d1-r2",
		"short":                               "short",
	} {
		if got := shortID(id); got != want {
			t.Errorf("shortID(%q) = %q, want %q", id, got, want)
		}
	}
}
