package countersign_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

func TestTrainedOn(t *testing.T) {
	fitted := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cal := &countersign.Calibration{Seed: 7, Holdout: 0.3, TrainedThrough: fitted, CreatedAt: fitted.Add(time.Minute)}
	before := fitted.Add(-time.Hour)

	// The split keeps about 1 - holdout of the documents, decided by the
	// seed and the ID alone: the same again, in any order.
	const n = 20000
	trained := 0
	for i := range n {
		id := fmt.Sprintf("doc-%d", i)
		in := cal.TrainedOn(id, before)
		if in {
			trained++
		}
		if again := cal.TrainedOn(id, before); again != in || countersign.InTrainingSplit(7, 0.3, id) != in {
			t.Fatalf("%s: in the split %v, then %v", id, in, again)
		}
	}
	// 3 standard deviations of a binomial share: 3·√(0.7·0.3/n) ≈ 0.0097.
	if share := float64(trained) / n; math.Abs(share-0.7) > 0.0097 {
		t.Errorf("%d of %d in the training split (%.4f), want about 0.7", trained, n, share)
	}

	// Another seed draws another split.
	other := &countersign.Calibration{Seed: 8, Holdout: 0.3, TrainedThrough: fitted}
	same := 0
	for i := range 1000 {
		id := fmt.Sprintf("doc-%d", i)
		if cal.TrainedOn(id, before) == other.TrainedOn(id, before) {
			same++
		}
	}
	// Independent splits agree on 0.7² + 0.3² = 58% of documents.
	if same < 520 || same > 640 {
		t.Errorf("seeds 7 and 8 agree on %d of 1000 documents, want about 580", same)
	}

	// A document created after the fit was not trained on, whatever its
	// side of the split; one created at the very time could have been.
	for i := range 100 {
		id := fmt.Sprintf("doc-%d", i)
		if cal.TrainedOn(id, fitted.Add(time.Microsecond)) {
			t.Fatalf("%s, created after the fit, counts as trained on", id)
		}
		if cal.TrainedOn(id, fitted) != cal.TrainedOn(id, before) {
			t.Fatalf("%s, created at the time of the fit, left the split", id)
		}
	}

	// A calibration from before the split was recorded trained on every
	// document created before it was.
	old := &countersign.Calibration{CreatedAt: fitted}
	if !old.TrainedOn("doc-1", before) || old.TrainedOn("doc-1", fitted.Add(time.Second)) {
		t.Error("an old calibration's documents are those created before it")
	}
}

func TestFeatureValues(t *testing.T) {
	features := []string{"token_prob", "logit:token_prob", "absent:token_prob", "logit:agreement", "absent:agreement", "agreement", "what:ever"}
	got := countersign.FeatureValues(features, map[string]float64{"token_prob": 1, "agreement": 0.75})
	// token_prob 1 is clamped to 1 − 10⁻⁴ before its log-odds: ln(9999).
	want := []float64{1, math.Log(9999), 0, math.Log(3), 0, 0.75, 0}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("%s = %v, want %v", features[i], got[i], want[i])
		}
	}
	// Absent, a signal's value and log-odds are 0 and its absence 1.
	got = countersign.FeatureValues(features, nil)
	if want := []float64{0, 0, 1, 0, 1, 0, 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("features of no signals = %v, want %v", got, want)
	}
}

func TestCapFeatures(t *testing.T) {
	features := []string{"cap:2:token_prob", "cap:-1:agreement", "cap:0.5:judge"}
	// token_prob 0.9: ln 9 ≈ 2.197, capped at 2; agreement 0.2: ln ¼ ≈
	// −1.386, under its cap of −1; judge absent: 0.
	got := countersign.FeatureValues(features, map[string]float64{"token_prob": 0.9, "agreement": 0.2})
	want := []float64{2, math.Log(0.25), 0}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("%s = %v, want %v", features[i], got[i], want[i])
		}
	}
	// token_prob 0.5: log-odds 0, under the cap.
	if got := countersign.FeatureValues(features[:1], map[string]float64{"token_prob": 0.5}); got[0] != 0 {
		t.Errorf("cap:2:token_prob of 0.5 = %v, want 0", got[0])
	}
	if k, s, ok := countersign.ParseCap("cap:6.12:token_prob"); !ok || k != 6.12 || s != "token_prob" {
		t.Errorf("ParseCap = %v %q %v", k, s, ok)
	}
	for _, bad := range []string{"cap:x:token_prob", "cap:1:", "cap:1", "logit:token_prob", "cap:NaN:token_prob"} {
		if _, _, ok := countersign.ParseCap(bad); ok {
			t.Errorf("ParseCap(%q) read a capped feature", bad)
		}
		if got := countersign.FeatureValues([]string{bad}, map[string]float64{"token_prob": 0.9}); bad != "logit:token_prob" && got[0] != 0 {
			t.Errorf("%s = %v, want 0 (no known form)", bad, got[0])
		}
	}
	for name, want := range map[string]string{"cap:-0.5:words": "words", "logit:words": "words", "absent:omission": "omission", "agreement": "agreement"} {
		if got := countersign.FeatureSignal(name); got != want {
			t.Errorf("FeatureSignal(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCheckProbability(t *testing.T) {
	m := &countersign.ConfidenceModel{
		Features: []string{"token_prob"}, Pooled: []float64{0, 10}, Floor: 0.01,
		Checks: map[string]float64{"quote_match": 0.1, "rules": 0.25},
	}
	regression := 0.01 + 0.98*countersign.Sigmoid(10) // token_prob 1
	for _, c := range []struct {
		signals map[string]float64
		want    float64
	}{
		// Failing both checks: the lesser, bounded: 0.01 + 0.98·0.1.
		{map[string]float64{"token_prob": 1, "quote_match": 0, "rules": 0}, 0.108},
		// Failing rules only: 0.01 + 0.98·0.25.
		{map[string]float64{"token_prob": 1, "quote_match": 1, "rules": 0}, 0.255},
		// Passing both, or not checked: the regression.
		{map[string]float64{"token_prob": 1, "quote_match": 1, "rules": 1}, regression},
		{map[string]float64{"token_prob": 1}, regression},
		// An omission the rules extractor disagrees with is no value that
		// failed a check.
		{map[string]float64{"token_prob": 1, "rules": 0, "omission": 0.3}, regression},
	} {
		if got := m.FieldProbability("total", c.signals); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%v: probability %v, want %v", c.signals, got, c.want)
		}
	}
	// A model fitted before checks were learned weighs such a value by its
	// regression.
	old := &countersign.ConfidenceModel{Features: m.Features, Pooled: m.Pooled, Floor: m.Floor}
	if got := old.FieldProbability("total", map[string]float64{"token_prob": 1, "quote_match": 0}); got != regression {
		t.Errorf("without learned checks: %v, want %v", got, regression)
	}
	if got := countersign.FailedChecks(map[string]float64{"quote_match": 0, "rules": 0.5, "judge": 0}); !slices.Equal(got, []string{"quote_match"}) {
		t.Errorf("FailedChecks = %v, want [quote_match]", got)
	}
}
