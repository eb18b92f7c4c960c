package calibration

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/scoring"
)

// The settings of Learn.
const (
	// DefaultHoldout is the share of reviewed documents kept out of
	// training when the caller names none.
	DefaultHoldout = 0.5
	// PooledPenalty is the L2 penalty on the pooled model's standardized
	// coefficients (not its intercept): a prior worth about one outcome,
	// enough to keep a separable signal finite.
	PooledPenalty = 1.0
	// FieldPenalty is the L2 penalty pulling a field's own standardized
	// coefficients, intercept included, toward the pooled ones: a field
	// moves away from the pool only as far as tens of its own outcomes
	// insist.
	FieldPenalty = 10.0
	// MinCompared is the fewest documents the active calibration did not
	// train on that a new one is compared with it on; with fewer, it is
	// compared on all its training documents.
	MinCompared = 30
	// interceptPenalty keeps the pooled intercept finite in a fold whose
	// outcomes happen to be all alike; it is too small to matter otherwise.
	interceptPenalty = 1e-3
)

// Options are the choices of a fit that are not in the outcomes.
type Options struct {
	// Seed draws the holdout split and the cross-validation folds: the
	// same seed and outcomes give the same calibration.
	Seed int64
	// Holdout is the share of reviewed documents kept out of training, in
	// [0, 1).
	Holdout float64
	// TrainedThrough is the time of the fit; documents created after it
	// are not trained on.
	TrainedThrough time.Time
	// Active is the calibration routing uses now, the one to beat; nil
	// when routing uses the raw scores.
	Active *countersign.Calibration
}

// Learn fits a task type's confidence model from the human outcomes of its
// reviewed documents, those of the training split only (see
// countersign.Calibration.TrainedOn).
//
// A field's probability of being right as drafted is a logistic regression
// on its signals: each signal's value, the log-odds of those that take many
// values between 0 and 1 (token probability, agreement and the like), and
// an indicator of a signal's absence where some drafts lack it; features are
// taken from countersign.Signals, so a new signal needs no change here. A
// pooled model is fitted on every field's outcomes (penalty
// PooledPenalty), and each field with MinFieldSamples outcomes of both
// kinds gets its own coefficients pulled toward the pooled ones (penalty
// FieldPenalty); it keeps them only when they predict its outcomes better
// out of sample (Brier score over the folds) than the pooled ones.
// Features are standardized for the fit and the coefficients stored on the
// raw scale. Values that fail a hard check (schema, grounding, constraint)
// are not fitted: they get the floor.
//
// A document's probability is that of the product of its fields' (a missing
// required value at the floor), mapped by a Platt fit of the document
// outcomes (every field kept as drafted) on the logit of that product, as
// predicted out of fold. All probabilities are bounded within
// [Floor, 1−Floor], Floor = 1/(documents+2), by shrinking them toward ½
// (countersign.ConfidenceModel.Bound), which keeps their order.
//
// Every figure after calibration in the report is out of sample: Folds-fold
// cross-validation over the training documents, in an order shuffled by
// the seed, the Platt map refitted without each fold too. The calibration
// is made active when its out-of-fold document Brier score is below that
// of the active calibration on the training documents the active one did
// not train on (MinCompared of them at least; otherwise on all, in sample
// for the active one), or, with none active, below that of the
// uncalibrated confidence; otherwise Inactive says why.
//
// CreatedAt and CreatedBy are left to the caller. Learn fails with
// countersign.ErrInvalid when the training split has too few outcomes
// (see Enough) or a signal is not a finite number.
func Learn(tt *countersign.TaskType, outcomes *Outcomes, opt Options) (*countersign.Calibration, error) {
	if !(opt.Holdout >= 0 && opt.Holdout < 1) {
		return nil, countersign.Errorf(countersign.CodeInvalid, "calibrate %s: holdout %v is not a share in [0, 1)", tt.Name, opt.Holdout)
	}
	cal := &countersign.Calibration{TaskType: tt.Name, Seed: opt.Seed, Holdout: opt.Holdout, TrainedThrough: opt.TrainedThrough}
	var docs []DocumentOutcome
	versions := map[string]bool{}
	for _, d := range outcomes.Documents {
		if !cal.TrainedOn(d.ID, d.CreatedAt) {
			cal.Report.HeldOut++
			continue
		}
		if err := finite(tt.Name, d); err != nil {
			return nil, err
		}
		docs = append(docs, d)
		versions[d.TaskTypeVersion] = true
	}
	if err := Enough(tt.Name, docs); err != nil {
		return nil, err
	}
	slices.SortFunc(docs, func(a, b DocumentOutcome) int { return cmp.Compare(a.ID, b.ID) })
	cal.Report.Documents = len(docs)
	cal.Report.TaskTypeVersions = slices.Sorted(maps.Keys(versions))

	l := newLearner(docs, opt.Seed)
	if err := l.crossValidate(); err != nil {
		return nil, countersign.Errorf(countersign.CodeInvalid, "calibrate %s: %w", tt.Name, err)
	}
	final, err := l.fit(l.rows, l.own)
	if err != nil {
		return nil, countersign.Errorf(countersign.CodeInvalid, "calibrate %s: %w", tt.Name, err)
	}
	final.Document, err = FitPlatt(l.docLogit, l.docCorrect)
	if err != nil {
		return nil, countersign.Errorf(countersign.CodeInvalid, "calibrate %s: %w", tt.Name, err)
	}
	// The counts go with the model when any of its features reads the
	// words signal: scoring computes it from them.
	for _, f := range final.Features {
		if countersign.FeatureSignal(f) == countersign.SignalWords {
			final.Words = l.words
		}
	}
	cal.Model = final
	if err := l.report(tt, cal, opt.Active); err != nil {
		return nil, countersign.Errorf(countersign.CodeInvalid, "calibrate %s: %w", tt.Name, err)
	}

	doc := cal.Report.Document
	cal.Active = doc.ComparedBrier < doc.BaselineBrier
	if !cal.Active {
		against, on := "the uncalibrated confidence's", fmt.Sprintf("the same %d documents", doc.Compared)
		if doc.Baseline != "" {
			against = "the active calibration " + doc.Baseline + "'s"
			if l.unseen {
				on = fmt.Sprintf("the %d documents of its training split that %s did not train on", doc.Compared, doc.Baseline)
			} else {
				on += ", some of which " + doc.Baseline + " trained on"
			}
		}
		cal.Inactive = fmt.Sprintf("out of sample its document Brier score %.4f is not below %.4f, %s, on %s",
			doc.ComparedBrier, doc.BaselineBrier, against, on)
	}
	v, err := modelVersion(cal)
	if err != nil {
		return nil, countersign.Errorf(countersign.CodeInternal, "calibrate %s: version: %w", tt.Name, err)
	}
	cal.Version = v
	return cal, nil
}

// Enough reports why the outcomes of the training documents cannot yet
// support a calibration, or nil. With too few, or with no wrong value (or no
// right one) among those a model can learn from (values that passed the
// hard checks), the fit would promise what no outcome showed.
func Enough(taskType string, docs []DocumentOutcome) error {
	var n, correct int
	for _, d := range docs {
		for _, f := range d.Fields {
			if !f.Failed {
				n++
				if f.Correct {
					correct++
				}
			}
		}
	}
	if n < MinOutcomes || correct == 0 || correct == n || len(docs) < Folds {
		return countersign.Errorf(countersign.CodeInvalid,
			"calibrate %s: %d field outcomes (%d kept, %d corrected) in the %d documents of the training split are not enough: a calibration needs at least %d, with both kept and corrected values among them, from %d documents or more",
			taskType, n, correct, n-correct, len(docs), MinOutcomes, Folds)
	}
	return nil
}

func finite(taskType string, d DocumentOutcome) error {
	for _, f := range d.Fields {
		bad := math.IsNaN(f.Raw) || math.IsInf(f.Raw, 0)
		for name, v := range f.Signals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				bad = true
				f.Field += " signal " + name
			}
		}
		if bad {
			return countersign.Errorf(countersign.CodeInvalid, "calibrate %s: document %s, field %s: not a finite number", taskType, d.ID, f.Field)
		}
	}
	return nil
}

// row is one field outcome a model learns from.
type row struct {
	doc     int
	field   string
	signals map[string]float64
	words   []string
	correct bool
	// checked is set when the value failed a check (see
	// countersign.CheckSignals): the regression does not learn from it.
	checked bool
}

// regressed are the rows the regression learns from: those that failed
// no check.
func regressed(rows []row) []row {
	out := make([]row, 0, len(rows))
	for _, r := range rows {
		if !r.checked {
			out = append(out, r)
		}
	}
	return out
}

// checkRates are, per check signal some row has, the smoothed share of the
// rows that failed it that people kept: (kept + ½)/(failed + 1), the mean
// of the Jeffreys posterior, which is ½ with none failed and never 0 or 1.
func checkRates(rows []row) map[string]float64 {
	var out map[string]float64
	for _, name := range countersign.CheckSignals {
		seen, failed, kept := false, 0, 0
		for _, r := range rows {
			if _, ok := r.signals[name]; !ok {
				continue
			}
			seen = true
			if slices.Contains(countersign.FailedChecks(r.signals), name) {
				failed++
				if r.correct {
					kept++
				}
			}
		}
		if !seen {
			continue
		}
		if out == nil {
			out = map[string]float64{}
		}
		out[name] = (float64(kept) + 0.5) / (float64(failed) + 1)
	}
	return out
}

// learner holds the training documents of a fit and what cross-validation
// learned about them.
type learner struct {
	docs     []DocumentOutcome
	fold     []int // per document
	rows     []row // the field outcomes that passed the hard checks
	features []string
	floor    float64
	eligible []string                          // fields with enough outcomes of both kinds for their own coefficients
	words    map[string]countersign.WordCounts // the words counted on every row

	// Out of fold, per document and field outcome (in document order, then
	// field order): the pooled and the own prediction, and the chosen one.
	pooledOOF, ownOOF map[[2]int]float64
	chosen            map[[2]int]float64
	own               map[string]bool // the fields that keep their own coefficients
	docLogit          []float64
	docCorrect        []bool
	// unseen is set when the activation rule compared on documents the
	// active calibration did not train on.
	unseen bool
}

func newLearner(docs []DocumentOutcome, seed int64) *learner {
	l := &learner{docs: docs, floor: 1 / float64(len(docs)+2)}
	// Folds follow a shuffle of the documents sorted by ID, drawn from the
	// seed: not the order they were submitted in.
	order := rand.New(rand.NewPCG(uint64(seed), 0x636f756e74657273)).Perm(len(docs))
	l.fold = make([]int, len(docs))
	for pos, i := range order {
		l.fold[i] = pos % Folds
	}
	l.ownSignals()
	counts, kept := map[string]int{}, map[string]int{}
	for i, d := range l.docs {
		for _, f := range d.Fields {
			if f.Failed {
				continue
			}
			checked := len(countersign.FailedChecks(f.Signals)) > 0
			l.rows = append(l.rows, row{doc: i, field: f.Field, signals: f.Signals, words: f.Words, correct: f.Correct, checked: checked})
			if checked {
				continue
			}
			counts[f.Field]++
			if f.Correct {
				kept[f.Field]++
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		if counts[name] >= MinFieldSamples && kept[name] > 0 && kept[name] < counts[name] {
			l.eligible = append(l.eligible, name)
		}
	}
	l.words = l.learnWords()
	l.features = chooseFeatures(regressed(l.rows))
	return l
}

// chooseFeatures names the features the rows can teach, signal by signal
// in the order of countersign.Signals: the value when it varies, its
// log-odds when it takes three values or more strictly between 0 and 1,
// and its absence when some rows have it and some do not. A signal no row
// has gives none.
func chooseFeatures(rows []row) []string {
	var features []string
	for _, signal := range countersign.Signals {
		present := 0
		values, interior := map[float64]bool{}, map[float64]bool{}
		for _, r := range rows {
			v, ok := r.signals[signal]
			if !ok {
				continue
			}
			present++
			values[v] = true
			if v > 0 && v < 1 {
				interior[v] = true
			}
		}
		if len(values) > 1 {
			features = append(features, signal)
		}
		if len(interior) >= 3 {
			// The log-odds as a curve flat above the highest knot: see
			// countersign.FeatureCap.
			ks := knots(rows, signal)
			for _, knot := range ks {
				features = append(features, countersign.CapFeature(knot, signal))
			}
			if len(ks) == 0 {
				features = append(features, countersign.FeatureLogit+signal)
			}
		}
		if present > 0 && present < len(rows) {
			features = append(features, countersign.FeatureAbsent+signal)
		}
	}
	return features
}

// CapQuantiles are where, among the log-odds of a signal's values in the
// training rows, the knots of its capped log-odds stand (see
// countersign.FeatureCap): together a curve of the log-odds that bends at the
// lowest tenth and quarter of the values and is flat from the median up.
var CapQuantiles = []float64{0.1, 0.25, 0.5}

// knots are the knots of a signal's capped log-odds: the CapQuantiles of
// the log-odds of its values in rows (clamped as countersign.FeatureValues clamps them),
// rounded to two decimals, each once, and only those some value lies above
// and some below by more than 0.1 (a knot at the lowest value would be
// constant, one at the highest would repeat the log-odds). They read the values only, never
// whether a person kept them.
func knots(rows []row, signal string) []float64 {
	var logits []float64
	for _, r := range rows {
		if v, ok := r.signals[signal]; ok {
			logits = append(logits, countersign.Logit(min(max(v, countersign.LogitClamp), 1-countersign.LogitClamp)))
		}
	}
	if len(logits) == 0 {
		return nil
	}
	slices.Sort(logits)
	lo, hi := logits[0], logits[len(logits)-1]
	var out []float64
	for _, q := range CapQuantiles {
		k := math.Round(logits[int(q*float64(len(logits)-1))]*100) / 100
		if k > lo+0.1 && k < hi-0.1 && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// fit fits the pooled coefficients on rows and, for the fields in own, the
// field's own ones pulled toward them, on standardized features; it returns
// them on the raw scale, as a model with l's features and floor.
func (l *learner) fit(all []row, own map[string]bool) (*countersign.ConfidenceModel, error) {
	rows := regressed(all)
	k := len(l.features)
	x := make([][]float64, len(rows))
	y := make([]float64, len(rows))
	mean, sd := make([]float64, k), make([]float64, k)
	for i, r := range rows {
		x[i] = countersign.FeatureValues(l.features, r.signals)
		if r.correct {
			y[i] = 1
		}
		for j, v := range x[i] {
			mean[j] += v / float64(len(rows))
		}
	}
	for _, xi := range x {
		for j, v := range xi {
			sd[j] += (v - mean[j]) * (v - mean[j]) / float64(len(rows))
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j])
		if sd[j] == 0 { // constant in these rows: standardized to 0, no weight
			sd[j] = 1
		}
	}
	z := make([][]float64, len(rows))
	for i, xi := range x {
		z[i] = make([]float64, k)
		for j, v := range xi {
			z[i][j] = (v - mean[j]) / sd[j]
		}
	}

	penalty := make([]float64, k+1)
	penalty[0] = interceptPenalty
	for j := 1; j <= k; j++ {
		penalty[j] = PooledPenalty
	}
	pooled, err := Logistic(z, y, nil, nil, penalty)
	if err != nil {
		return nil, fmt.Errorf("pooled model: %w", err)
	}
	m := &countersign.ConfidenceModel{Features: l.features, Pooled: raw(pooled, mean, sd), Floor: l.floor}
	m.Checks = checkRates(all)
	fieldPenalty := make([]float64, k+1)
	for j := range fieldPenalty {
		fieldPenalty[j] = FieldPenalty
	}
	for _, name := range slices.Sorted(maps.Keys(own)) {
		var zf [][]float64
		var yf []float64
		for i, r := range rows {
			if r.field == name {
				zf, yf = append(zf, z[i]), append(yf, y[i])
			}
		}
		if len(zf) == 0 {
			continue
		}
		beta, err := Logistic(zf, yf, nil, pooled, fieldPenalty)
		if err != nil {
			return nil, fmt.Errorf("model of field %s: %w", name, err)
		}
		if m.Fields == nil {
			m.Fields = map[string][]float64{}
		}
		m.Fields[name] = raw(beta, mean, sd)
	}
	return m, nil
}

// raw turns coefficients of standardized features into those of the raw
// ones: β·(x−μ)/σ = (β/σ)·x − β·μ/σ.
func raw(beta, mean, sd []float64) []float64 {
	out := make([]float64, len(beta))
	out[0] = beta[0]
	for j := range mean {
		out[j+1] = beta[j+1] / sd[j]
		out[0] -= beta[j+1] * mean[j] / sd[j]
	}
	return out
}

// crossValidate predicts every row out of fold, pooled and (for eligible
// fields) with its own coefficients, chooses for each eligible field the
// better of the two (l.own), and computes each document's out-of-fold logit
// of the product of its field probabilities.
func (l *learner) crossValidate() error {
	l.pooledOOF, l.ownOOF = map[[2]int]float64{}, map[[2]int]float64{}
	eligible := map[string]bool{}
	for _, name := range l.eligible {
		eligible[name] = true
	}
	for k := range Folds {
		var train []row
		for _, r := range l.rows {
			if l.fold[r.doc] != k {
				train = append(train, r)
			}
		}
		train = l.wordsWithout(train, k)
		m, err := l.fit(train, eligible)
		if err != nil {
			return fmt.Errorf("fold %d: %w", k+1, err)
		}
		pooled := &countersign.ConfidenceModel{Features: m.Features, Pooled: m.Pooled, Floor: m.Floor, Checks: m.Checks}
		for i, d := range l.docs {
			if l.fold[i] != k {
				continue
			}
			for j, f := range d.Fields {
				if f.Failed {
					continue
				}
				l.pooledOOF[[2]int{i, j}] = pooled.FieldProbability(f.Field, f.Signals)
				if _, ok := m.Fields[f.Field]; ok {
					l.ownOOF[[2]int{i, j}] = m.FieldProbability(f.Field, f.Signals)
				}
			}
		}
	}

	l.own = map[string]bool{}
	for _, name := range l.eligible {
		var pooled, own []Sample
		for i, d := range l.docs {
			for j, f := range d.Fields {
				key := [2]int{i, j}
				if f.Field != name || f.Failed {
					continue
				}
				p, ok := l.ownOOF[key]
				if !ok { // no outcome of the field outside this fold
					p = l.pooledOOF[key]
				}
				pooled = append(pooled, Sample{Score: l.pooledOOF[key], Correct: f.Correct})
				own = append(own, Sample{Score: p, Correct: f.Correct})
			}
		}
		if Brier(own) < Brier(pooled) {
			l.own[name] = true
		}
	}

	m := &countersign.ConfidenceModel{Floor: l.floor}
	l.chosen = map[[2]int]float64{}
	l.docLogit, l.docCorrect = make([]float64, len(l.docs)), make([]bool, len(l.docs))
	for i, d := range l.docs {
		var probs []float64
		for j, f := range d.Fields {
			key := [2]int{i, j}
			p := l.floor
			if !f.Failed {
				p = l.pooledOOF[key]
				if own, ok := l.ownOOF[key]; ok && l.own[f.Field] {
					p = own
				}
			}
			l.chosen[key] = p
			probs = append(probs, p)
		}
		for range d.Missing {
			probs = append(probs, l.floor)
		}
		l.docLogit[i] = countersign.Logit(m.Product(probs))
		l.docCorrect[i] = d.Correct
	}
	return nil
}

// report fills cal.Report: per field and over all fields, the raw scores'
// reliability and the out-of-fold probabilities' of the coefficients each
// field uses; each signal's AUC; the documents' reliability before (the
// uncalibrated confidence), after (out of fold, the Platt map refitted
// without each fold) and under the active calibration.
func (l *learner) report(tt *countersign.TaskType, cal *countersign.Calibration, active *countersign.Calibration) error {
	rep := &cal.Report
	// field and whether the rows are of omissions -> indexes into all
	type rowsOf struct {
		field   string
		omitted bool
	}
	byField := map[rowsOf][]int{}
	var before, after []Sample
	for i, d := range l.docs {
		for j, f := range d.Fields {
			key := rowsOf{f.Field, scoring.IsOmission(countersign.FieldScore{Signals: f.Signals})}
			byField[key] = append(byField[key], len(before))
			before = append(before, Sample{Score: f.Raw, Correct: f.Correct})
			after = append(after, Sample{Score: l.chosen[[2]int{i, j}], Correct: f.Correct})
		}
	}
	pick := func(s []Sample, idx []int) []Sample {
		out := make([]Sample, len(idx))
		for i, k := range idx {
			out[i] = s[k]
		}
		return out
	}
	eligible := map[string]bool{}
	for _, name := range l.eligible {
		eligible[name] = true
	}
	keys := slices.SortedFunc(maps.Keys(byField), func(a, b rowsOf) int {
		return cmp.Or(cmp.Compare(a.field, b.field), cmp.Compare(btoi(a.omitted), btoi(b.omitted)))
	})
	for _, key := range keys {
		name := key.field
		r := reliabilityOf(pick(before, byField[key]), pick(after, byField[key]))
		r.Field, r.Own, r.Omitted = name, l.own[name], key.omitted
		switch {
		case r.Own:
		case eligible[name]:
			r.Pooled = "its own coefficients predicted it no better out of sample than the pooled ones"
		default:
			r.Pooled = fmt.Sprintf("fewer than %d outcomes of both kinds that passed the hard checks", MinFieldSamples)
		}
		rep.Fields = append(rep.Fields, r)
	}
	rep.Pooled = reliabilityOf(before, after)
	rep.Pooled.Field = "*"

	for _, signal := range countersign.Signals {
		var s []Sample
		for _, d := range l.docs {
			for _, f := range d.Fields {
				if v, ok := f.Signals[signal]; ok {
					s = append(s, Sample{Score: v, Correct: f.Correct})
				}
			}
		}
		if len(s) == 0 {
			continue
		}
		sd := countersign.SignalDiscrimination{Signal: signal, Present: len(s)}
		if auc, ok := AUC(s); ok {
			sd.AUC = &auc
		}
		rep.Signals = append(rep.Signals, sd)
	}

	docAfter := make([]Sample, len(l.docs))
	for k := range Folds {
		var x []float64
		var y []bool
		for i := range l.docs {
			if l.fold[i] != k {
				x, y = append(x, l.docLogit[i]), append(y, l.docCorrect[i])
			}
		}
		platt, err := FitPlatt(x, y)
		if err != nil {
			return fmt.Errorf("fold %d: %w", k+1, err)
		}
		m := &countersign.ConfidenceModel{Document: platt, Floor: l.floor}
		for i := range l.docs {
			if l.fold[i] == k {
				docAfter[i] = Sample{Score: m.Bound(platt.Apply(l.docLogit[i])), Correct: l.docCorrect[i]}
			}
		}
	}
	docBefore := make([]Sample, len(l.docs))
	for i, d := range l.docs {
		docBefore[i] = Sample{Score: scoring.Recalibrate(tt, d.Confidence, nil, RawScore).Overall, Correct: d.Correct}
	}
	doc := &countersign.DocumentReliability{
		Documents:   len(l.docs),
		ECEBefore:   ECE(docBefore, Bins, nil),
		ECEAfter:    ECE(docAfter, Bins, nil),
		BrierBefore: Brier(docBefore),
		BrierAfter:  Brier(docAfter),
	}
	// Compared with the active calibration where both are out of sample:
	// on the documents it did not train on, when there are enough of them.
	compared, baseline := docAfter, docBefore
	if active != nil {
		doc.Baseline = active.Version
		var unseen, all, theirs []Sample
		for i, d := range l.docs {
			p := Sample{Score: scoring.Recalibrate(tt, d.Confidence, active, RawScore).Overall, Correct: d.Correct}
			all = append(all, p)
			if !active.TrainedOn(d.ID, d.CreatedAt) {
				unseen, theirs = append(unseen, docAfter[i]), append(theirs, p)
			}
		}
		compared, baseline = docAfter, all
		if len(unseen) >= MinCompared {
			compared, baseline, l.unseen = unseen, theirs, true
		}
	}
	doc.Compared = len(compared)
	doc.ComparedBrier = Brier(compared)
	doc.BaselineBrier = Brier(baseline)
	for _, c := range l.docCorrect {
		if c {
			doc.Accuracy++
		}
	}
	doc.Accuracy /= float64(len(l.docs))
	// The ranking the calibration gives is that of its Platt map of the
	// out-of-fold products: AUC does not change under a monotone map, and
	// the maps refitted without each fold, on few documents, may each have
	// another slope and scale, which would mix the folds' rankings.
	ranked := make([]Sample, len(l.docs))
	for i := range l.docs {
		platt := cal.Model.Document // its log-odds, which do not round to 0 or 1
		ranked[i] = Sample{Score: platt.A*l.docLogit[i] + platt.B, Correct: l.docCorrect[i]}
	}
	doc.AUCBefore, _ = AUC(docBefore)
	doc.AUCAfter, _ = AUC(ranked)
	rep.Document = doc
	return nil
}

// reliabilityOf gives the figures of one set of field outcomes: before
// holds their raw scores, after their out-of-fold probabilities.
func reliabilityOf(before, after []Sample) countersign.FieldReliability {
	r := countersign.FieldReliability{
		Samples:   len(before),
		ECEBefore: ECE(before, Bins, nil),
		ECEAfter:  ECE(after, Bins, nil),
		Brier:     Brier(after),
	}
	if len(before) > 0 {
		r.Accuracy = float64(countCorrect(before)) / float64(len(before))
	}
	if auc, ok := AUC(after); ok {
		r.AUC = &auc
	}
	return r
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
