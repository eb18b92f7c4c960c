package countersign_test

import (
	"fmt"
	"math"
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
