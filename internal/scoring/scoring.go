// Package scoring measures how far a draft can be trusted. Every signal is
// computed from the document and the task type, never from what the model
// says about itself, so a document cannot talk its way into a higher score.
package scoring

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/evidence"
	"github.com/countersign/countersign/internal/expr"
	"github.com/countersign/countersign/internal/schema"
)

// Grounding levels: how well a field's quote is anchored in the document.
const (
	groundExact  = 1.0 // the quote stands at its offsets
	groundMoved  = 0.8 // the quote is in the document, at other offsets
	groundFolded = 0.6 // only after folding case and white space
)

// Input is what a draft is scored on.
type Input struct {
	TaskType *countersign.TaskType
	// Schema is the task type's compiled schema.
	Schema   *schema.Schema
	Draft    *countersign.Draft
	Content  string
	Metadata map[string]string
	// Calibration, when fitted, maps raw field scores to observed
	// correctness.
	Calibration *countersign.Calibration
	// Layout, for a document read from a file, is where its text stands on
	// the pages, with OCR's word confidences on scanned pages
	// (SignalOCRConfidence).
	Layout *countersign.Layout
	// Prepared is what scoring reads from the task type for every draft
	// (Prepare); nil prepares it for this draft.
	Prepared *Prepared
}

// Prepared is what scoring reads from a task type for every draft, worked
// out once: its fields' schema properties, its rules' patterns compiled,
// and the words that say a passage is about each field. Working them out
// for each draft cost as much as the ambiguity signal's search of the
// document. It is read only, so drafts scored at once may share it.
type Prepared struct {
	props map[string]property
	// rules are by field, in the order of the task type's rules; nil
	// stands for a pattern that does not compile, which scoring skips.
	rules    map[string][]*regexp.Regexp
	keywords map[string][]keyword
}

// Prepare works out what scoring reads from tt for every draft.
func Prepare(tt *countersign.TaskType) *Prepared {
	var doc struct {
		Properties map[string]property `json:"properties"`
	}
	// The schema compiled before scoring began; a property that does not
	// read as one is a field whose kind is not known.
	_ = json.Unmarshal(tt.Schema, &doc)
	p := &Prepared{props: doc.Properties, rules: make(map[string][]*regexp.Regexp, len(tt.Rules)), keywords: map[string][]keyword{}}
	for field, rules := range tt.Rules {
		compiled := make([]*regexp.Regexp, len(rules))
		for i, rule := range rules {
			compiled[i], _ = regexp.Compile(rule.Pattern)
		}
		p.rules[field] = compiled
		p.keywords[field] = p.fieldKeywords(tt, field)
	}
	for field := range p.props {
		p.keywords[field] = p.fieldKeywords(tt, field)
	}
	return p
}

// rule is the i-th rule of field compiled, or nil.
func (p *Prepared) rule(field string, i int) *regexp.Regexp {
	if rules := p.rules[field]; i < len(rules) {
		return rules[i]
	}
	return nil
}

// fieldKeywords are the words that say a passage is about field: its
// name's, its rules' and its description's.
func (p *Prepared) fieldKeywords(tt *countersign.TaskType, field string) []keyword {
	prop := p.props[field]
	return fieldKeywords(field, []string{prop.Description, prop.Title}, tt.Rules[field])
}

// Score computes per-field and document confidence for a draft.
func Score(in Input) *countersign.Confidence {
	tt, draft := in.TaskType, in.Draft
	c := &countersign.Confidence{Fields: map[string]countersign.FieldScore{}}
	if in.Calibration != nil {
		c.Calibration = in.Calibration.Version
	}
	if draft.Failed() {
		for _, name := range tt.Required {
			c.Fields[name] = countersign.FieldScore{Required: true, Signals: map[string]float64{}, Reasons: []string{"no draft: extraction failed"}}
		}
		c.Reasons = []string{"no draft: " + draftError(draft)}
		c.Weakest = firstOr(tt.Required, "")
		return c
	}
	if tt.Comparison != nil {
		return scoreComparison(in, c)
	}

	invalid := map[string][]string{}
	if err := in.Schema.Validate(draft.Fields); err != nil {
		if errs, ok := err.(schema.Errors); ok {
			for _, fe := range errs {
				if fe.Field == "" {
					c.Reasons = append(c.Reasons, "fields: "+fe.Message)
					continue
				}
				invalid[fe.Field] = append(invalid[fe.Field], fe.Message)
			}
		} else {
			c.Reasons = append(c.Reasons, "fields: "+err.Error())
		}
	}
	broken := constraints(tt, draft.Fields, in.Metadata)
	prepared := in.Prepared
	if prepared == nil {
		prepared = Prepare(tt)
	}
	look := newLookalikes(tt, prepared, in.Content)
	alert := &jsonDocument{}
	scan := newOCRLayout(in.Layout, in.Content)

	for _, name := range fieldNames(tt, draft) {
		value, present := draft.Fields[name]
		required := tt.IsRequired(name)
		if !present {
			if required {
				c.Fields[name] = countersign.FieldScore{Required: true, Signals: map[string]float64{}, Reasons: []string{"no value found"}}
			} else {
				c.Fields[name] = calibrate(name, omitted(tt, draft, look, name), in.Calibration)
			}
			continue
		}
		fs := countersign.FieldScore{Required: required, Signals: map[string]float64{}}
		fs.Signals[countersign.SignalSchema] = 1
		for _, msg := range invalid[name] {
			fs.Signals[countersign.SignalSchema] = 0
			fs.Reasons = append(fs.Reasons, "breaks the schema: "+msg)
		}
		if reasons, checked := broken[name]; checked {
			fs.Signals[countersign.SignalConstraints] = 1
			if len(reasons) > 0 {
				fs.Signals[countersign.SignalConstraints] = 0
				fs.Reasons = append(fs.Reasons, reasons...)
			}
		}
		grounding, reasons := alert.ground(in.Content, draft.Evidence, name)
		fs.Signals[countersign.SignalGrounding] = grounding
		fs.Reasons = append(fs.Reasons, reasons...)
		fs.Reasons = append(fs.Reasons, modelSignals(tt, draft, name, value, fs.Signals)...)
		reasons, words := look.ambiguity(name, value, draft.Evidence[name], fs.Signals)
		fs.Reasons = append(fs.Reasons, reasons...)
		fs.Words = words
		fs.Reasons = append(fs.Reasons, quoteMatch(value, draft.Evidence[name], fs.Signals)...)
		fs.Reasons = append(fs.Reasons, scan.confidence(draft.Evidence[name], fs.Signals)...)
		fs.Raw = combine(fs.Signals, tt.Weights)
		c.Fields[name] = calibrate(name, fs, in.Calibration)
	}
	if model := modelOf(in.Calibration); model != nil {
		for name, fs := range c.Fields {
			if len(fs.Signals) == 0 { // a required field without a value
				fs.Score = model.Floor
				c.Fields[name] = fs
			}
		}
	}
	c.Overall, c.Weakest = overall(tt, c.Fields, c.Reasons, in.Calibration)
	return c
}

// omitted scores an optional field the draft left empty: how likely it is
// that the document states no value for it (see SignalOmission), with the
// samples that answered it, the null's token probability and the rules
// cross-check. Its Raw score is their weighted mean, the omission signal
// weighing at least 1: it is the one signal every omission has, and an
// omission takes no part in an uncalibrated document confidence, which
// the default weight of 0 is there to keep steady.
func omitted(tt *countersign.TaskType, draft *countersign.Draft, look *lookalikes, name string) countersign.FieldScore {
	fs := countersign.FieldScore{Signals: map[string]float64{}}
	fs.Reasons = append(fs.Reasons, look.omission(name, fs.Signals)...)
	fs.Reasons = append(fs.Reasons, modelSignals(tt, draft, name, nil, fs.Signals)...)
	weights := map[string]float64{}
	maps.Copy(weights, tt.Weights)
	weights[countersign.SignalOmission] = max(weights[countersign.SignalOmission], 1)
	fs.Raw = combine(fs.Signals, weights)
	return fs
}

// IsOmission reports whether a field score is of a field the draft left
// empty (see countersign.SignalOmission), not of a value.
func IsOmission(fs countersign.FieldScore) bool {
	_, ok := fs.Signals[countersign.SignalOmission]
	return ok
}

// counts reports whether a field's score takes part in the document's
// confidence under a model: every drafted field's does, an omission's only
// when the model learned from omissions (it was fitted on outcomes that
// had them), so that a calibration fitted before omissions were scored
// keeps giving the confidences it was validated on.
func counts(model *countersign.ConfidenceModel, fs countersign.FieldScore) bool {
	if !IsOmission(fs) {
		return true
	}
	return model != nil && slices.ContainsFunc(model.Features, func(f string) bool {
		return countersign.FeatureSignal(f) == countersign.SignalOmission
	})
}

// calibrate sets a drafted field's Score from its Raw score and signals:
// the model's probability, the curve's map of Raw, or Raw itself. An
// omission's is the model's probability when the model learned from
// omissions, its Raw score otherwise.
//
// Hard failures (a value that breaks the schema or a constraint, or whose
// quote is nowhere in the document) get no confidence, however sure the
// model was: other signals must not average them away. Raw and, without a
// model, Score are 0; a model gives its floor, since a person has been
// seen to keep such values too, if rarely.
func calibrate(name string, fs countersign.FieldScore, cal *countersign.Calibration) countersign.FieldScore {
	fs = withoutLearnedWords(fs)
	if IsOmission(fs) && !counts(modelOf(cal), fs) {
		fs.Score = fs.Raw
		return fs
	}
	failed := HardFailure(fs.Signals)
	if failed {
		fs.Raw = 0
	}
	fs.Score = fs.Raw
	switch {
	case cal == nil:
	case cal.Model != nil && failed:
		fs.Score = cal.Model.Floor
	case cal.Model != nil:
		var reason string
		fs.Signals, reason = learnedWords(name, fs, cal.Model)
		if reason != "" && !slices.Contains(fs.Reasons, reason) {
			fs.Reasons = append(slices.Clip(fs.Reasons), reason)
		}
		fs.Score = cal.Model.FieldProbability(name, fs.Signals)
	case fs.Raw > 0:
		fs.Score = round(cal.Curve(name).Apply(fs.Raw))
	}
	return fs
}

// wordsReason starts the reason learnedWords gives.
const wordsReason = "the words around the value are unusual for "

// withoutLearnedWords is fs without the words signal and its reason, which
// only a calibration gives (learnedWords): a score recalibrated through
// another calibration, or none, must not keep the earlier one's. It copies
// what it changes.
func withoutLearnedWords(fs countersign.FieldScore) countersign.FieldScore {
	if _, had := fs.Signals[countersign.SignalWords]; had {
		fs.Signals = maps.Clone(fs.Signals)
		delete(fs.Signals, countersign.SignalWords)
	}
	if slices.ContainsFunc(fs.Reasons, func(r string) bool { return strings.HasPrefix(r, wordsReason) }) {
		fs.Reasons = slices.DeleteFunc(slices.Clone(fs.Reasons), func(r string) bool { return strings.HasPrefix(r, wordsReason) })
	}
	return fs
}

// learnedWords returns a copy of fs's signals with the words signal as
// model computes it from fs's words (see countersign.SignalWords), when the
// model learned words for the field and the context was read with words
// around the value; fs's signals as they are otherwise (calibrate has
// dropped any words signal an earlier calibration recorded, with
// withoutLearnedWords). When the words are unusual around kept values (the
// signal below unsureWords), the reason names the rarest of them.
func learnedWords(name string, fs countersign.FieldScore, model *countersign.ConfidenceModel) (map[string]float64, string) {
	_, read := fs.Signals[countersign.SignalContext]
	v, against, ok := model.WordsSignal(name, fs.Words)
	if !ok || !read || len(fs.Words) == 0 {
		return fs.Signals, ""
	}
	signals := maps.Clone(fs.Signals)
	signals[countersign.SignalWords] = v
	if v >= unsureWords || against == "" {
		return signals, ""
	}
	word, where := against, "before"
	if after, ok := strings.CutPrefix(against, "+"); ok {
		word, where = after, "after"
	}
	wc := model.Words[name]
	return signals, fmt.Sprintf(wordsReason+"%s: %q (%s it) stood near %d of the %d values people kept", strings.ReplaceAll(name, "_", " "), word, where, wc.Counts[against], wc.Kept)
}

// HardFailure reports whether a drafted field's signals rule it out: it
// breaks the schema or a constraint, or its quote is not in the document.
// A quote that seems to say another value (quote_match 0) is not one: a
// value normalized from its quote (a negative amount quoted in brackets, a
// scale or unit word, a spelling variant) can read as another, so it is a
// signal calibration weighs, with its reason for the reviewer. An omission
// (an empty field's score) has no value to fail a check.
func HardFailure(signals map[string]float64) bool {
	if _, omission := signals[countersign.SignalOmission]; omission {
		return false
	}
	constraints, checked := signals[countersign.SignalConstraints]
	// A comparison's fields quote nothing, so they have no grounding.
	grounding, grounded := signals[countersign.SignalGrounding]
	return signals[countersign.SignalSchema] == 0 || grounded && grounding == 0 || checked && constraints == 0
}

func modelOf(cal *countersign.Calibration) *countersign.ConfidenceModel {
	if cal == nil {
		return nil
	}
	return cal.Model
}

// overall is the document confidence and the field that weighs on it most.
// With a model it is the probability that every field is right, and the
// weakest field the least likely one; otherwise the weakest required
// field's score. A reason about the draft as a whole (an object-level
// schema error) puts it at the lowest the calibration gives: 0, or a
// model's floor.
func overall(tt *countersign.TaskType, fields map[string]countersign.FieldScore, reasons []string, cal *countersign.Calibration) (float64, string) {
	model := modelOf(cal)
	if model == nil {
		score, name := weakest(tt, fields)
		if len(reasons) > 0 {
			score = 0
		}
		return score, name
	}
	names := append([]string(nil), tt.FieldOrder...)
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	var probs []float64
	low, name := math.Inf(1), ""
	for _, field := range names {
		fs, ok := fields[field]
		if !ok || !counts(model, fs) {
			continue
		}
		probs = append(probs, fs.Score)
		if fs.Score < low {
			low, name = fs.Score, field
		}
	}
	if len(reasons) > 0 {
		return model.Floor, name
	}
	return model.DocumentProbability(probs), name
}

// Below these, a model signal is worth a reviewer's attention.
const (
	unsureTokenProb    = 0.5
	unsureAgreement    = 1.0
	unsureAlternatives = 0.8
	unsureLabelProb    = 0.8
	unsureWords        = 0.02
)

// modelSignals adds the signals that exist only for some drafts (token
// probability, sample agreement, the alternatives in top_logprobs, the
// label probability, the rules cross-check, the judge) and returns the
// reasons they give a reviewer.
func modelSignals(tt *countersign.TaskType, draft *countersign.Draft, name string, value any, signals map[string]float64) []string {
	var reasons []string
	if p, ok := draft.TokenProb[name]; ok {
		signals[countersign.SignalTokenProb] = p
		switch {
		case p >= unsureTokenProb:
		case value == nil:
			reasons = append(reasons, fmt.Sprintf("the model was unsure the document states none (token probability %.2f)", p))
		default:
			reasons = append(reasons, fmt.Sprintf("the model was unsure of the value (token probability %.2f)", p))
		}
	}
	reasons = append(reasons, agreement(draft, name, value, signals)...)
	reasons = append(reasons, alternatives(draft, name, value, signals)...)
	reasons = append(reasons, labelProb(draft, name, value, signals)...)
	if draft.CrossCheck != nil && len(tt.Rules[name]) > 0 {
		if found, ok := draft.CrossCheck[name]; ok {
			signals[countersign.SignalRules] = 0
			if countersign.Equivalent(value, found) {
				signals[countersign.SignalRules] = 1
			} else {
				reasons = append(reasons, fmt.Sprintf("the rules extractor found %s", short(found)))
			}
		}
	}
	if j, ok := draft.Judge[name]; ok {
		signals[countersign.SignalJudge] = j
		switch {
		case j == 0:
			reasons = append(reasons, "the judge found the value wrong")
		case j < 1:
			reasons = append(reasons, "the judge was unsure of the value")
		}
	}
	return reasons
}

// constraints evaluates the task type's constraints on the draft. It returns,
// for every field some constraint checked, the reasons it broke (none when it
// held). A constraint whose fields are not all in the draft, or that reads a
// metadata key the document does not have, is skipped.
func constraints(tt *countersign.TaskType, fields countersign.Fields, metadata map[string]string) map[string][]string {
	out := map[string][]string{}
	for _, c := range tt.Constraints {
		complete := true
		for _, f := range c.Fields {
			if _, ok := fields[f]; !ok {
				complete = false
			}
		}
		if !complete {
			continue
		}
		var reason string
		prg, err := expr.Compile(c.Rule)
		if err == nil {
			var ok bool
			ok, err = prg.Eval(expr.Vars{Fields: fields, Metadata: metadata})
			if err == nil && !ok {
				reason = "breaks constraint " + c.Name
				if c.Message != "" {
					reason += ": " + c.Message
				}
			}
		}
		if errors.Is(err, expr.ErrMissingKey) {
			continue // about metadata the document does not have
		}
		if err != nil {
			reason = fmt.Sprintf("constraint %s could not be checked: %v", c.Name, err)
		}
		for _, f := range c.Fields {
			reasons := out[f] // a nil entry still says the field was checked
			if reason != "" {
				reasons = append(reasons, reason)
			}
			out[f] = reasons
		}
	}
	return out
}

// short renders a value for a reason, clipped.
func short(v any) string {
	s := fmt.Sprintf("%q", fmt.Sprint(v))
	if _, ok := v.(string); !ok {
		s = fmt.Sprint(v)
	}
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

func draftError(d *countersign.Draft) string {
	if d == nil {
		return "no draft"
	}
	return d.Error
}

func firstOr(list []string, fallback string) string {
	if len(list) > 0 {
		return list[0]
	}
	return fallback
}

// fieldNames lists the task type's fields in declared order, then any field
// the draft has that the task type does not declare.
func fieldNames(tt *countersign.TaskType, draft *countersign.Draft) []string {
	names := append([]string(nil), tt.FieldOrder...)
	for _, name := range draft.Fields.Names() {
		if !contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// combine is the weighted mean of the signals present.
func combine(signals map[string]float64, weights map[string]float64) float64 {
	var sum, total float64
	for _, name := range countersign.Signals {
		v, ok := signals[name]
		w := weights[name]
		if !ok || w <= 0 {
			continue
		}
		sum += w * v
		total += w
	}
	if total == 0 {
		return 0
	}
	return round(sum / total)
}

// weakest returns the lowest score among required fields (among all scored
// fields when none is required), and its field. Ties go to the field declared
// first.
func weakest(tt *countersign.TaskType, fields map[string]countersign.FieldScore) (float64, string) {
	candidates := tt.Required
	if len(candidates) == 0 {
		candidates = tt.FieldOrder
	}
	low, name := math.Inf(1), ""
	for _, field := range candidates {
		fs, ok := fields[field]
		if !ok || IsOmission(fs) {
			continue
		}
		if fs.Score < low {
			low, name = fs.Score, field
		}
	}
	if name == "" {
		return 0, ""
	}
	return low, name
}

// ground scores how well a field's evidence is anchored in the document: the
// quote must really be there, at the offsets given. The value itself may be a
// normalized form of the quote (an ISO date, a currency code), so it is not
// compared with it.
func (j *jsonDocument) ground(content string, quotes map[string]countersign.Evidence, field string) (float64, []string) {
	ev, ok := quotes[field]
	if !ok || strings.TrimSpace(ev.Quote) == "" {
		return 0, []string{"no evidence quote"}
	}
	if ev.Pointer != "" {
		return j.groundPointer(content, ev)
	}
	from, to := byteOffset(content, ev.Start), byteOffset(content, ev.End)
	switch {
	case from >= 0 && to >= from && content[from:to] == ev.Quote:
		return groundExact, nil
	case strings.Contains(content, ev.Quote):
		return groundMoved, []string{fmt.Sprintf("quote found in the document, but not at characters %d-%d", ev.Start, ev.End)}
	case strings.Contains(evidence.Fold(content), evidence.Fold(ev.Quote)):
		return groundFolded, []string{"quote matches the document only after folding case and white space"}
	}
	return 0, []string{"quote is not in the document"}
}

// byteOffset returns the byte offset of the n-th character of s, or -1 when
// s is shorter.
func byteOffset(s string, n int) int {
	if n < 0 {
		return -1
	}
	i := 0
	for b := range s {
		if i == n {
			return b
		}
		i++
	}
	if i == n {
		return len(s)
	}
	return -1
}

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// Recalibrate recomputes a stored confidence through cal, as Score would
// have with that calibration, from what the confidence recorded: each
// field's raw score (read by raw) and signals. A model gives each field its
// probability and the document the probability that every field is right; a
// curve calibration maps the raw scores; nil leaves them raw. Hard failures
// (a broken schema or constraint, a quote not in the document, a missing
// required value, a draft-level reason) stay at the lowest: 0, or a model's
// floor. A confidence without a draft (only reasons, no field with
// signals) stays at 0.
func Recalibrate(tt *countersign.TaskType, c *countersign.Confidence, cal *countersign.Calibration, raw func(*countersign.Confidence, countersign.FieldScore) float64) *countersign.Confidence {
	out := &countersign.Confidence{Fields: make(map[string]countersign.FieldScore, len(c.Fields)), Reasons: c.Reasons}
	if cal != nil {
		out.Calibration = cal.Version
	}
	model := modelOf(cal)
	drafted := false
	for name, fs := range c.Fields {
		fs = withoutLearnedWords(fs) // only cal may give them again
		fs.Raw = raw(c, fs)
		switch {
		case model != nil && len(fs.Signals) == 0: // a required field without a value
			fs.Raw, fs.Score = 0, model.Floor
		case IsOmission(fs) && !counts(model, fs):
			// Shown, not counted, as Score leaves it (see calibrate).
			fs.Score = fs.Raw
		case model != nil:
			drafted = true
			fs = calibrate(name, fs, cal)
		case cal != nil && fs.Raw > 0:
			// By the raw score alone: confidences recorded before signals
			// were kept have nothing else, and 0 was a hard failure.
			fs.Score = round(cal.Curve(name).Apply(fs.Raw))
		default:
			fs.Score = fs.Raw
		}
		out.Fields[name] = fs
	}
	out.Overall, out.Weakest = overall(tt, out.Fields, out.Reasons, cal)
	if model != nil && !drafted && len(out.Reasons) > 0 {
		out.Overall = 0
	}
	return out
}
