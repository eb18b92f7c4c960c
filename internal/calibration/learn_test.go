package calibration_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
)

var (
	t0       = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	invoices = &countersign.TaskType{Name: "invoices", FieldOrder: []string{"total", "date", "note"}, Required: []string{"total", "date"}}
)

// truth is the probability that a field with these signals is right, in
// the synthetic documents: token probability says a lot for every field
// but date, for which (an overconfident model) it says the opposite;
// agreement says a little. So the pooled model fits no field well, and the
// fields with enough outcomes earn their own.
func truth(field string, s map[string]float64) float64 {
	z := 0.5 + 1.2*countersign.Logit(s["token_prob"])
	if field == "date" {
		z = 1.5 - 1.2*countersign.Logit(s["token_prob"])
	}
	if a, ok := s["agreement"]; ok {
		z += 2 * (a - 0.6)
	}
	return countersign.Sigmoid(z)
}

// synthetic makes n reviewed documents of invoices. Each field's signals
// are drawn, and whether a person kept it follows truth; a few quotes are
// not in the document (grounding 0, a hard failure) and those values are
// wrong; now and then the required date is missing, which a person adds.
// The raw score is the mean of the signals, as uncalibrated scoring has it.
func synthetic(seed uint64, n int) []calibration.DocumentOutcome {
	rng := rand.New(rand.NewPCG(seed, 99))
	docs := make([]calibration.DocumentOutcome, n)
	for i := range docs {
		d := calibration.DocumentOutcome{
			ID: fmt.Sprintf("doc%05d", i), CreatedAt: t0.Add(time.Duration(i) * time.Minute), TaskTypeVersion: "v1",
			Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{}}, Correct: true,
		}
		for _, field := range []string{"date", "note", "total"} {
			if field == "note" && rng.IntN(40) != 0 {
				continue // optional, and rare
			}
			if field == "date" && rng.IntN(25) == 0 {
				d.Missing++
				d.Correct = false
				d.Confidence.Fields[field] = countersign.FieldScore{Required: true, Signals: map[string]float64{}}
				continue
			}
			s := map[string]float64{"schema": 1, "grounding": 1, "token_prob": 1 - math.Pow(rng.Float64(), 3)*0.9}
			if rng.IntN(2) == 0 {
				s["agreement"] = float64(1+rng.IntN(5)) / 5
			}
			right := rng.Float64() < truth(field, s)
			if rng.IntN(40) == 0 {
				s["grounding"], right = 0, false
			}
			var sum float64
			for _, name := range slices.Sorted(maps.Keys(s)) { // in one order: sums of floats depend on it
				sum += s[name]
			}
			fs := countersign.FieldScore{Raw: sum / float64(len(s)), Signals: s, Required: field != "note"}
			fs.Score = fs.Raw
			if s["grounding"] == 0 {
				fs.Raw, fs.Score = 0, 0
			}
			d.Confidence.Fields[field] = fs
			d.Fields = append(d.Fields, calibration.FieldOutcome{Field: field, Raw: fs.Raw, Signals: s, Failed: s["grounding"] == 0, Correct: right})
			d.Correct = d.Correct && right
		}
		docs[i] = d
	}
	return docs
}

func learn(t *testing.T, docs []calibration.DocumentOutcome, opt calibration.Options) *countersign.Calibration {
	t.Helper()
	cal, err := calibration.Learn(invoices, &calibration.Outcomes{Documents: docs}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func TestLearnRanksDocumentsBetterThanTheWeakestField(t *testing.T) {
	docs := synthetic(1, 1200)
	cal := learn(t, docs, calibration.Options{Seed: 1, Holdout: 0.5, TrainedThrough: t0.Add(time.Hour * 1000)})
	rep, doc, m := cal.Report, cal.Report.Document, cal.Model
	t.Logf("documents %d (held out %d), features %v", rep.Documents, rep.HeldOut, m.Features)
	t.Logf("document AUC %.3f → %.3f, ECE %.3f → %.3f, Brier %.4f → %.4f", doc.AUCBefore, doc.AUCAfter, doc.ECEBefore, doc.ECEAfter, doc.BrierBefore, doc.BrierAfter)
	if rep.Documents+rep.HeldOut != len(docs) || rep.Documents < 500 || rep.Documents > 700 {
		t.Errorf("%d trained on, %d held out of %d: want about half each", rep.Documents, rep.HeldOut, len(docs))
	}
	if doc.AUCAfter < doc.AUCBefore+0.1 || doc.ECEAfter > 0.06 || doc.BrierAfter >= doc.BrierBefore {
		t.Errorf("document figures %+v: want a clearly better ranking, ECE below 0.06 and a lower Brier score", doc)
	}
	if !cal.Active || cal.Inactive != "" || doc.Baseline != "" || doc.BaselineBrier != doc.BrierBefore || doc.Compared != rep.Documents || doc.ComparedBrier != doc.BrierAfter {
		t.Errorf("active %v (%q), baseline %q %v: want active against the uncalibrated confidence", cal.Active, cal.Inactive, doc.Baseline, doc.BaselineBrier)
	}
	if m.Floor != 1/float64(rep.Documents+2) {
		t.Errorf("floor %v, want 1/(%d+2)", m.Floor, rep.Documents)
	}
	// date's signal runs backwards, total's forwards: each earns
	// coefficients of its own. note, with its few outcomes, does not.
	for _, f := range rep.Fields {
		if f.Own != (f.Field != "note") || f.Own == (f.Pooled != "") {
			t.Errorf("field %s: own %v (%q)", f.Field, f.Own, f.Pooled)
		}
	}
	if own := slices.Sorted(maps.Keys(m.Fields)); !slices.Equal(own, []string{"date", "total"}) {
		t.Errorf("own coefficients for %v, want date and total", own)
	}
	// The log-odds of the two signals enter capped at the tenth, quarter
	// and median of their values (the knots of this draw), with no
	// uncapped log-odds.
	want := []string{"token_prob", "cap:-0.6:token_prob", "cap:0.54:token_prob", "cap:1.94:token_prob", "agreement", "cap:-0.41:agreement", "cap:0.41:agreement", "absent:agreement"}
	if !slices.Equal(m.Features, want) {
		t.Errorf("features %v, want %v (schema and grounding do not vary once hard failures are set aside)", m.Features, want)
	}

	// The "(all fields)" row is the fields' rows together, each with the
	// coefficients it uses: its Brier score is their outcome-weighted mean.
	var n int
	var brier float64
	for _, f := range rep.Fields {
		n += f.Samples
		brier += f.Brier * float64(f.Samples)
	}
	if rep.Pooled.Samples != n || math.Abs(rep.Pooled.Brier-brier/float64(n)) > 1e-12 {
		t.Errorf("(all fields) %d outcomes, Brier %v; the fields' rows give %d and %v", rep.Pooled.Samples, rep.Pooled.Brier, n, brier/float64(n))
	}

	// Each signal's discrimination over all fields' outcomes: agreement
	// ranks them, token_prob, pointing both ways, hardly, grounding only
	// separates the hard failures, and schema, never broken, not at all.
	aucs := map[string]float64{}
	for _, s := range rep.Signals {
		if s.AUC != nil {
			aucs[s.Signal] = *s.AUC
		}
	}
	if _, ok := aucs["judge"]; ok || aucs["agreement"] < 0.55 || math.Abs(aucs["token_prob"]-0.5) > 0.1 || aucs["grounding"] <= 0.5 || aucs["schema"] != 0.5 {
		t.Errorf("signal AUCs %v", aucs)
	}
}

func TestLearnSameSeedSameCalibration(t *testing.T) {
	opt := calibration.Options{Seed: 42, Holdout: 0.5, TrainedThrough: t0.Add(time.Hour * 1000)}
	first := learn(t, synthetic(2, 300), opt)
	// The same documents submitted in another order: the same folds.
	shuffled := synthetic(2, 300)
	rand.New(rand.NewPCG(5, 5)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	again := learn(t, shuffled, opt)
	if !reflect.DeepEqual(first, again) {
		t.Errorf("the same seed gave\n%+v\nthen\n%+v", first, again)
	}
	if first.Seed != 42 || first.Holdout != 0.5 || !first.TrainedThrough.Equal(opt.TrainedThrough) {
		t.Errorf("seed %d, holdout %v, trained through %v: not recorded", first.Seed, first.Holdout, first.TrainedThrough)
	}
	opt.Seed = 43
	other := learn(t, synthetic(2, 300), opt)
	if other.Version == first.Version || other.Report.Document.BrierAfter == first.Report.Document.BrierAfter {
		t.Errorf("another seed gave the same calibration %s", other.Version)
	}
}

func TestLearnTrainsOnTheTrainingSplitOnly(t *testing.T) {
	through := t0.Add(200 * time.Minute)
	opt := calibration.Options{Seed: 9, Holdout: 0.3, TrainedThrough: through}
	docs := synthetic(3, 400) // the last 199 created after the fit
	cal := learn(t, docs, opt)
	trained := 0
	for _, d := range docs {
		if cal.TrainedOn(d.ID, d.CreatedAt) {
			trained++
		}
	}
	if cal.Report.Documents != trained || cal.Report.HeldOut != len(docs)-trained || trained < 110 || trained > 170 {
		t.Errorf("trained on %d, held out %d; TrainedOn says %d of %d", cal.Report.Documents, cal.Report.HeldOut, trained, len(docs))
	}

	// What the documents not trained on say changes nothing.
	changed := synthetic(3, 400)
	for i, d := range changed {
		if !cal.TrainedOn(d.ID, d.CreatedAt) {
			changed[i].Correct = !d.Correct
			for j := range d.Fields {
				d.Fields[j].Correct = !d.Fields[j].Correct
				d.Fields[j].Signals = map[string]float64{"schema": 1, "grounding": 1, "judge": 0.5}
			}
		}
	}
	if again := learn(t, changed, opt); !reflect.DeepEqual(again, cal) {
		t.Errorf("the held-out outcomes changed the calibration")
	}
}

func TestLearnStaysInactiveUnlessBetter(t *testing.T) {
	// The model the synthetic outcomes follow (for fields but date, with
	// no agreement): a calibration that knows it predicts better than one
	// learned from 80 documents.
	oracle := &countersign.Calibration{Version: "oracle", Model: &countersign.ConfidenceModel{
		Features: []string{"logit:token_prob", "agreement", "absent:agreement"},
		Pooled:   []float64{0.5 - 1.2, 1.2, 2, 1.2},
		Fields:   map[string][]float64{"date": {1.5 - 1.2, -1.2, 2, 1.2}},
		Document: countersign.Platt{A: 1},
		Floor:    1e-4,
	}}
	docs := synthetic(4, 80)
	opt := calibration.Options{Seed: 3, Holdout: 0.2, TrainedThrough: t0.Add(time.Hour * 1000), Active: oracle}
	cal := learn(t, docs, opt)
	doc := cal.Report.Document
	t.Logf("learned %.4f, oracle %.4f, uncalibrated %.4f", doc.BrierAfter, doc.BaselineBrier, doc.BrierBefore)
	if cal.Active || doc.Baseline != "oracle" || doc.BaselineBrier >= doc.BrierAfter || doc.Compared != doc.Documents || doc.ComparedBrier != doc.BrierAfter {
		t.Fatalf("active %v against %q (%v vs %v): want inactive against the oracle", cal.Active, doc.Baseline, doc.BrierAfter, doc.BaselineBrier)
	}
	for _, part := range []string{"not below", "active calibration oracle", fmt.Sprintf("%.4f", doc.BrierAfter), fmt.Sprintf("the %d documents of its training split that oracle did not train on", doc.Documents)} {
		if !strings.Contains(cal.Inactive, part) {
			t.Errorf("reason %q does not say %q", cal.Inactive, part)
		}
	}

	// Against a calibration that has it backwards, it wins.
	backwards := &countersign.Calibration{Version: "backwards", Model: &countersign.ConfidenceModel{
		Features: []string{"logit:token_prob"}, Pooled: []float64{0, -1}, Document: countersign.Platt{A: 1}, Floor: 1e-4,
	}}
	opt.Active = backwards
	if cal := learn(t, docs, opt); !cal.Active || cal.Inactive != "" {
		t.Errorf("against a backwards calibration: active %v (%q)", cal.Active, cal.Inactive)
	}
	// And an old curve calibration is compared through its curves.
	opt.Active = &countersign.Calibration{Version: "curves", Pooled: countersign.Curve{X: []float64{0, 1}, Y: []float64{0.5, 0.5}}}
	if cal := learn(t, docs, opt); cal.Report.Document.Baseline != "curves" || cal.Report.Document.BaselineBrier == cal.Report.Document.BrierBefore {
		t.Errorf("against curves: %+v", cal.Report.Document)
	}
}

func TestLearnComparesWhereBothAreOutOfSample(t *testing.T) {
	// The active calibration learned from the first 300 documents; a new
	// one, with another seed, from 700. They are compared on the new one's
	// training documents the active one did not train on: its holdout
	// split and the documents created after it.
	docs := synthetic(7, 700)
	first := learn(t, docs[:300], calibration.Options{Seed: 1, Holdout: 0.5, TrainedThrough: docs[299].CreatedAt})
	second := learn(t, docs, calibration.Options{Seed: 2, Holdout: 0.5, TrainedThrough: docs[699].CreatedAt, Active: first})
	unseen := 0
	for _, d := range docs {
		if second.TrainedOn(d.ID, d.CreatedAt) && !first.TrainedOn(d.ID, d.CreatedAt) {
			unseen++
		}
	}
	doc := second.Report.Document
	t.Logf("compared on %d of %d: %.4f against %.4f", doc.Compared, doc.Documents, doc.ComparedBrier, doc.BaselineBrier)
	if doc.Compared != unseen || unseen >= doc.Documents || doc.Baseline != first.Version || second.Active != (doc.ComparedBrier < doc.BaselineBrier) {
		t.Errorf("compared on %d documents (%d unseen by %s): %+v, active %v", doc.Compared, unseen, first.Version, doc, second.Active)
	}

	// The same seed and documents again: nothing the active one did not
	// train on, so all are compared, in sample for it, and it stays.
	again := learn(t, docs[:300], calibration.Options{Seed: 1, Holdout: 0.5, TrainedThrough: docs[299].CreatedAt.Add(time.Minute), Active: first})
	if doc := again.Report.Document; doc.Compared != doc.Documents || again.Active || !strings.Contains(again.Inactive, "some of which "+first.Version+" trained on") {
		t.Errorf("the same documents again: compared on %d of %d, active %v (%q)", doc.Compared, doc.Documents, again.Active, again.Inactive)
	}
}

func TestLearnNeverPromisesCertainty(t *testing.T) {
	// token_prob separates right from wrong perfectly: without a penalty
	// and a floor, probabilities would run to 0 and 1.
	docs := make([]calibration.DocumentOutcome, 60)
	for i := range docs {
		right := i%3 != 0
		p := 0.2
		if right {
			p = 0.95
		}
		s := map[string]float64{"schema": 1, "grounding": 1, "token_prob": p + float64(i)/1000}
		docs[i] = calibration.DocumentOutcome{
			ID: fmt.Sprintf("d%02d", i), CreatedAt: t0, Correct: right,
			Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{"total": {Raw: p, Score: p, Signals: s, Required: true}}},
			Fields:     []calibration.FieldOutcome{{Field: "total", Raw: p, Signals: s, Correct: right}},
		}
	}
	cal := learn(t, docs, calibration.Options{Seed: 1, TrainedThrough: t0})
	m := cal.Model
	if m.Floor != 1.0/62 {
		t.Fatalf("floor %v, want 1/62 for 60 documents", m.Floor)
	}
	for _, b := range m.Pooled {
		if math.IsNaN(b) || math.Abs(b) > 100 {
			t.Errorf("pooled coefficients %v: the penalty should keep them moderate", m.Pooled)
		}
	}
	// At the extremes, probabilities stay within [floor, 1−floor], and
	// those the model tells apart stay apart: bounding keeps their order.
	// (A probability far below the floor's last digit, as token_prob 0
	// gives on these separable outcomes, rounds to the floor itself.)
	var last float64
	for _, tp := range []float64{0, 0.2, 0.9, 0.99, 0.999, 1} {
		p := m.FieldProbability("total", map[string]float64{"token_prob": tp})
		if p < m.Floor || p > 1-m.Floor || p <= last {
			t.Errorf("token_prob %v: probability %v, want within (%v, %v) and above %v", tp, p, m.Floor, 1-m.Floor, last)
		}
		last = p
	}
	for _, fields := range [][]float64{{1}, {1, 1, 1}, {0.999999}} {
		if d := m.DocumentProbability(fields); d <= m.Floor || d >= 1-m.Floor {
			t.Errorf("document probability of %v: %v, want within (floor, 1−floor)", fields, d)
		}
	}
	if d := m.DocumentProbability([]float64{m.Floor, 1}); d <= m.Floor || d >= 0.5 {
		t.Errorf("document probability with a field at the floor: %v", d)
	}
}

func TestLearnRefusesWhatItCannotLearn(t *testing.T) {
	opt := calibration.Options{Seed: 1, TrainedThrough: t0.Add(time.Hour * 1000)}
	allRight := synthetic(5, 100)
	for i := range allRight {
		for j := range allRight[i].Fields {
			allRight[i].Fields[j].Correct = true
		}
	}
	nan := synthetic(5, 100)
	nan[7].Fields[0].Signals["token_prob"] = math.NaN()
	cases := []struct {
		name string
		docs []calibration.DocumentOutcome
		opt  calibration.Options
		want string
	}{
		{"too few", synthetic(5, 10), opt, "are not enough: a calibration needs at least 30"},
		{"never corrected", allRight, opt, "(" + fmt.Sprint(countFields(allRight)) + " kept, 0 corrected)"},
		{"all held out", synthetic(5, 100), calibration.Options{Seed: 1, TrainedThrough: t0.Add(-time.Hour)}, "0 field outcomes"},
		{"not a number", nan, opt, "document doc00007, field " + nan[7].Fields[0].Field + " signal token_prob: not a finite number"},
		{"holdout of 1", synthetic(5, 100), calibration.Options{Holdout: 1}, "holdout 1 is not a share"},
	}
	for _, c := range cases {
		_, err := calibration.Learn(invoices, &calibration.Outcomes{Documents: c.docs}, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, countersign.ErrInvalid) {
			t.Errorf("%s: error %v, want an invalid error containing %q", c.name, err, c.want)
		}
	}
}

func countFields(docs []calibration.DocumentOutcome) int {
	n := 0
	for _, d := range docs {
		for _, f := range d.Fields {
			if !f.Failed {
				n++
			}
		}
	}
	return n
}

func TestLearnTakesNewSignals(t *testing.T) {
	// A signal added to countersign.Signals, recorded for some fields
	// only, becomes features without a change to the calibration.
	saved := countersign.Signals
	countersign.Signals = append(slices.Clone(saved), "novel")
	t.Cleanup(func() { countersign.Signals = saved })
	docs := synthetic(6, 300)
	rng := rand.New(rand.NewPCG(6, 6))
	for _, d := range docs {
		for _, f := range d.Fields {
			if rng.IntN(2) == 0 {
				v := 0.3 + 0.4*rng.Float64()
				if f.Correct {
					v += 0.25
				}
				f.Signals["novel"] = v
			}
		}
	}
	cal := learn(t, docs, calibration.Options{Seed: 1, Holdout: 0.5, TrainedThrough: t0.Add(time.Hour * 1000)})
	for _, want := range []string{"novel", "absent:novel"} {
		if !slices.Contains(cal.Model.Features, want) {
			t.Errorf("features %v lack %s", cal.Model.Features, want)
		}
	}
	if !slices.ContainsFunc(cal.Model.Features, func(f string) bool {
		_, signal, ok := countersign.ParseCap(f)
		return ok && signal == "novel"
	}) {
		t.Errorf("features %v lack novel's capped log-odds", cal.Model.Features)
	}
	var auc float64
	for _, s := range cal.Report.Signals {
		if s.Signal == "novel" && s.AUC != nil {
			auc = *s.AUC
		}
	}
	if auc < 0.8 {
		t.Errorf("novel's AUC %v, want the separation it was drawn with", auc)
	}
}

// TestLearnLabelProb: label_prob, recorded for the fields whose values are
// labels and only when the endpoint sent top_logprobs, is learned like any
// signal, its absence too: a label the model split its probability on
// comes out less likely right than one it was sure of.
func TestLearnLabelProb(t *testing.T) {
	docs := synthetic(7, 400)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, d := range docs {
		for _, f := range d.Fields {
			if f.Field != "total" || f.Failed || rng.IntN(4) == 0 {
				continue // not a label, or no top_logprobs
			}
			v := 1.0
			if !f.Correct || rng.IntN(5) == 0 {
				v = 0.35 + 0.5*rng.Float64()
			}
			f.Signals[countersign.SignalLabelProb] = v
		}
	}
	cal := learn(t, docs, calibration.Options{Seed: 1, Holdout: 0.5, TrainedThrough: t0.Add(time.Hour * 1000)})
	for _, want := range []string{"label_prob", "absent:label_prob"} {
		if !slices.Contains(cal.Model.Features, want) {
			t.Errorf("features %v lack %s", cal.Model.Features, want)
		}
	}
	if !slices.ContainsFunc(cal.Model.Features, func(f string) bool {
		return strings.HasPrefix(f, "cap:") && strings.HasSuffix(f, ":label_prob")
	}) {
		t.Errorf("features %v lack a capped log-odds of label_prob", cal.Model.Features)
	}
	signals := func(lp float64) map[string]float64 {
		return map[string]float64{"schema": 1, "grounding": 1, "token_prob": 0.9, countersign.SignalLabelProb: lp}
	}
	split, sure := cal.Model.FieldProbability("total", signals(0.55)), cal.Model.FieldProbability("total", signals(1))
	if split >= sure-0.1 {
		t.Errorf("probability right %v with label_prob 0.55, %v with 1: want the split label clearly lower", split, sure)
	}
}
