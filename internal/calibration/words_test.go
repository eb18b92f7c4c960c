package calibration_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/scoring"
)

// TestWordsSignalByHand: the words signal is the geometric mean of the
// smoothed shares (count+½)/(kept+1), each word once, 0 without words.
func TestWordsSignalByHand(t *testing.T) {
	wc := countersign.WordCounts{Kept: 9, Counts: map[string]int{"loss": 9, "date": 4}}
	// (9.5/10 · 4.5/10 · 0.5/10)^(1/3) = 0.021375^(1/3)
	want := math.Round(math.Cbrt(0.95*0.45*0.05)*1e4) / 1e4
	got, rarest := wc.Signal([]string{"loss", "date", "runs", "date"})
	if got != want || rarest != "runs" {
		t.Errorf("Signal = %v, %q; want %v, \"runs\"", got, rarest, want)
	}
	if got, _ := wc.Signal([]string{"loss"}); got != 0.95 {
		t.Errorf("a word around every kept value = %v, want 0.95 (never 1)", got)
	}
	if got, rarest := wc.Signal(nil); got != 0 || rarest != "" {
		t.Errorf("no words = %v, %q; want 0", got, rarest)
	}
	m := &countersign.ConfidenceModel{Words: map[string]countersign.WordCounts{"loss_date": wc}}
	if _, _, ok := m.WordsSignal("amount", []string{"loss"}); ok {
		t.Error("a field without counts has a words signal")
	}
}

// wordsDocs are reviewed documents whose date is right where the words
// around it are the usual label ("date of loss") and wrong where they are
// not ("policy runs from"): every other signal is noise, so only the words
// tell them apart.
func wordsDocs(seed uint64, n int) []calibration.DocumentOutcome {
	rng := rand.New(rand.NewPCG(seed, 7))
	docs := make([]calibration.DocumentOutcome, n)
	for i := range docs {
		right := rng.IntN(5) != 0
		words := []string{"date", "loss", "+reported"}
		if !right {
			words = []string{"policy", "runs", "from"}
		}
		s := map[string]float64{"schema": 1, "grounding": 1, "context": 0.5, "token_prob": 0.5 + 0.5*rng.Float64()}
		fs := countersign.FieldScore{Raw: s["token_prob"], Score: s["token_prob"], Signals: s, Words: words, Required: true}
		docs[i] = calibration.DocumentOutcome{
			ID: fmt.Sprintf("doc%05d", i), CreatedAt: t0.Add(time.Duration(i) * time.Minute), TaskTypeVersion: "v1",
			Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{"date": fs}},
			Fields:     []calibration.FieldOutcome{{Field: "date", Raw: fs.Raw, Signals: s, Words: words, Correct: right}},
			Correct:    right,
		}
	}
	return docs
}

// TestLearnWords: calibrate counts the words around kept values, its words
// signal is out of fold (a right value's own words are not what make its
// words usual), it ranks by them, and scoring computes the same signal from
// a draft's words, replacing one an earlier calibration recorded, and
// tells the reviewer which word is unusual.
func TestLearnWords(t *testing.T) {
	docs := wordsDocs(3, 300)
	stale := docs[0].Fields[0].Signals
	stale[countersign.SignalWords] = 0.123 // as an earlier calibration recorded it
	cal := learn(t, docs, calibration.Options{Seed: 1, Holdout: 0.5, TrainedThrough: t0.Add(time.Hour * 1000)})
	if stale[countersign.SignalWords] != 0.123 {
		t.Error("Learn changed the outcomes' signals in place")
	}
	if !slices.Contains(cal.Model.Features, countersign.SignalWords) {
		t.Fatalf("features %v lack %s", cal.Model.Features, countersign.SignalWords)
	}
	wc := cal.Model.Words["date"]
	if wc.Counts["runs"] != 0 || wc.Counts["loss"] != wc.Kept || wc.Kept == 0 {
		t.Errorf("counts %+v: want every kept value with loss, none with runs", wc)
	}
	var auc float64
	for _, s := range cal.Report.Signals {
		if s.Signal == countersign.SignalWords && s.AUC != nil {
			auc = *s.AUC
		}
	}
	if auc < 0.95 {
		t.Errorf("words signal AUC out of fold %v, want near 1", auc)
	}

	score := func(words []string, signals map[string]float64) countersign.FieldScore {
		c := &countersign.Confidence{Calibration: "old", Fields: map[string]countersign.FieldScore{
			"date": {Raw: 0.8, Signals: signals, Words: words, Required: true},
		}}
		return scoring.Recalibrate(invoices, c, cal, calibration.RawScore).Fields["date"]
	}
	usual := score([]string{"date", "loss"}, map[string]float64{"schema": 1, "grounding": 1, "context": 0.5, "token_prob": 0.8, countersign.SignalWords: 0.001})
	odd := score([]string{"policy", "runs"}, map[string]float64{"schema": 1, "grounding": 1, "context": 0.5, "token_prob": 0.8})
	if usual.Signals[countersign.SignalWords] < 0.5 || odd.Signals[countersign.SignalWords] > 0.02 {
		t.Errorf("words signal usual %v, odd %v", usual.Signals[countersign.SignalWords], odd.Signals[countersign.SignalWords])
	}
	if usual.Score <= odd.Score {
		t.Errorf("score with the usual label %v, not above that with an odd one %v", usual.Score, odd.Score)
	}
	if len(usual.Reasons) != 0 || len(odd.Reasons) != 1 || !strings.Contains(odd.Reasons[0], `"policy" (before it) stood near 0 of the`) {
		t.Errorf("reasons usual %q, odd %q", usual.Reasons, odd.Reasons)
	}
	// Without the context read, there is no words signal, whatever was
	// recorded before.
	none := score(nil, map[string]float64{"schema": 1, "grounding": 1, "token_prob": 0.8, countersign.SignalWords: 0.9})
	if _, ok := none.Signals[countersign.SignalWords]; ok {
		t.Errorf("words signal %v kept for a value whose context was not read", none.Signals)
	}
}

// TestReportKeepsOmissionsApart: a field's empty values, scored as
// omissions, get their own row in the report, not mixed into the row of
// its drafted values.
func TestReportKeepsOmissionsApart(t *testing.T) {
	docs := synthetic(8, 300)
	rng := rand.New(rand.NewPCG(8, 8))
	empty := 0
	for i := range docs {
		if slices.ContainsFunc(docs[i].Fields, func(f calibration.FieldOutcome) bool { return f.Field == "note" }) {
			continue
		}
		v := rng.Float64()
		docs[i].Fields = append(docs[i].Fields, calibration.FieldOutcome{Field: "note", Raw: v, Signals: map[string]float64{countersign.SignalOmission: v}, Correct: rng.Float64() < v})
		empty++
	}
	cal := learn(t, docs, calibration.Options{Seed: 1, Holdout: 0.5, TrainedThrough: t0.Add(time.Hour * 1000)})
	var drafted, omitted int
	for _, r := range cal.Report.Fields {
		if r.Field != "note" {
			continue
		}
		if r.Omitted {
			omitted += r.Samples
		} else {
			drafted += r.Samples
		}
	}
	if omitted == 0 || drafted == 0 || omitted+drafted != cal.Report.Pooled.Samples-countOther(cal.Report.Fields) {
		t.Errorf("note rows: %d drafted, %d omitted; report %+v", drafted, omitted, cal.Report.Fields)
	}
}

func countOther(rows []countersign.FieldReliability) int {
	n := 0
	for _, r := range rows {
		if r.Field != "note" {
			n += r.Samples
		}
	}
	return n
}

// TestWordsAbsentWithoutWords: values scored before the words were kept
// (or with none around them) get no words signal, in training and in
// scoring, so half the documents without words neither dilute the counts
// nor rank with the most unusual words: the signal still separates the
// documents that have words, and a score without words has no signal.
func TestWordsAbsentWithoutWords(t *testing.T) {
	docs := wordsDocs(4, 300)
	for i := range docs {
		if i%2 == 0 {
			docs[i].Fields[0].Words = nil
			fs := docs[i].Confidence.Fields["date"]
			fs.Words = nil
			docs[i].Confidence.Fields["date"] = fs
		}
	}
	cal := learn(t, docs, calibration.Options{Seed: 1, Holdout: 0.5, TrainedThrough: t0.Add(time.Hour * 1000)})
	var auc float64
	var present int
	for _, s := range cal.Report.Signals {
		if s.Signal == countersign.SignalWords && s.AUC != nil {
			auc, present = *s.AUC, s.Present
		}
	}
	if auc < 0.95 || present == 0 || present > 160 {
		t.Errorf("words signal AUC %v over %d outcomes; want near 1 over the half with words", auc, present)
	}
	if !slices.Contains(cal.Model.Features, countersign.FeatureAbsent+countersign.SignalWords) {
		t.Errorf("features %v lack the absence of the words signal", cal.Model.Features)
	}
	c := &countersign.Confidence{Calibration: "old", Fields: map[string]countersign.FieldScore{
		"date": {Raw: 0.8, Signals: map[string]float64{"schema": 1, "grounding": 1, "context": 0.5, "token_prob": 0.8, countersign.SignalWords: 0.5}, Required: true},
	}}
	fs := scoring.Recalibrate(invoices, c, cal, calibration.RawScore).Fields["date"]
	if _, ok := fs.Signals[countersign.SignalWords]; ok {
		t.Errorf("a score without words has the words signal: %v", fs.Signals)
	}
	// Recalibrated through no calibration, a score keeps neither the words
	// signal nor the reason an earlier calibration gave.
	c.Fields["date"] = countersign.FieldScore{Raw: 0.8, Words: []string{"runs"}, Required: true,
		Signals: map[string]float64{"schema": 1, "grounding": 1, "context": 0.5, countersign.SignalWords: 0.01},
		Reasons: []string{"the words around the value are unusual for date: \"runs\" (before it) stood near 0 of the 9 values people kept"}}
	fs = scoring.Recalibrate(invoices, c, nil, calibration.RawScore).Fields["date"]
	if _, ok := fs.Signals[countersign.SignalWords]; ok || len(fs.Reasons) != 0 {
		t.Errorf("uncalibrated: signals %v, reasons %q; want no words signal or reason", fs.Signals, fs.Reasons)
	}
}
