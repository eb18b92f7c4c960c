package scoring

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
)

// scoreComparison scores a comparison's draft: every field it has gets the
// schema signal (the JSON Schema and countersign.CheckComparison against
// the item's candidates), and the ranking the position signal, the share
// of candidate pairs the judge ordered alike in every order it saw them in
// (SignalPosition), the agreement of its samples and the probability its
// verdict tokens gave its first place (SignalVerdictProb). Nothing in a
// comparison is quoted from the document, so no grounding is measured. A tie in the judge's ranking is a reason
// of the whole draft: the overall confidence is 0 and a person breaks it.
func scoreComparison(in Input, c *countersign.Confidence) *countersign.Confidence {
	tt, draft := in.TaskType, in.Draft
	spec := *tt.Comparison
	// The judge's ties are told apart below, whatever the tie policy.
	spec.TiePolicy = countersign.TiesAllow
	var ids []string
	if item, err := countersign.ReadDocumentItem(in.Content, in.Draft, &spec); err != nil {
		c.Reasons = append(c.Reasons, "the item: "+err.Error())
	} else {
		ids = item.IDs()
		for _, cand := range item.Candidates {
			if what := JudgeDirected(cand.Response); what != "" {
				c.Reasons = append(c.Reasons, fmt.Sprintf("candidate %s's response holds text aimed at the judge (%s): it may have steered the ranking, so a person judges the item", cand.ID, what))
			}
		}
	}
	invalid := map[string][]string{}
	if err := in.Schema.Validate(draft.Fields); err != nil {
		if errs, ok := err.(schema.Errors); ok {
			for _, fe := range errs {
				invalid[fe.Field] = append(invalid[fe.Field], fe.Message)
			}
		} else {
			c.Reasons = append(c.Reasons, "fields: "+err.Error())
		}
	}
	if ids != nil {
		if err := countersign.CheckComparison(&spec, ids, draft.Fields); err != nil {
			invalid[countersign.FieldRanking] = append(invalid[countersign.FieldRanking], err.Error())
		}
	}
	for _, name := range fieldNames(tt, draft) {
		if _, present := draft.Fields[name]; !present {
			if tt.IsRequired(name) {
				c.Fields[name] = countersign.FieldScore{Required: true, Signals: map[string]float64{}, Reasons: []string{"no value found"}}
			}
			continue
		}
		fs := countersign.FieldScore{Required: tt.IsRequired(name), Signals: map[string]float64{countersign.SignalSchema: 1}}
		for _, msg := range invalid[name] {
			fs.Signals[countersign.SignalSchema] = 0
			fs.Reasons = append(fs.Reasons, "breaks the schema: "+msg)
		}
		if name == countersign.FieldRanking {
			fs.Reasons = append(fs.Reasons, position(&spec, ids, draft, fs.Signals)...)
			fs.Reasons = append(fs.Reasons, sampleAgreement(ids, tt.Model.Samples, draft, fs.Signals)...)
			fs.Reasons = append(fs.Reasons, verdictProb(draft, fs.Signals)...)
		}
		fs.Raw = combine(fs.Signals, tt.Weights)
		c.Fields[name] = calibrate(name, fs, in.Calibration)
	}
	if tiers, err := countersign.Tiers(draft.Fields[countersign.FieldRanking]); err == nil {
		for _, tier := range tiers {
			if len(tier) > 1 {
				c.Reasons = append(c.Reasons, fmt.Sprintf("the judge ranked %s equal: a person breaks the tie", strings.Join(tier, " and ")))
			}
		}
	}
	c.Overall, c.Weakest = overall(tt, c.Fields, c.Reasons, in.Calibration)
	return c
}

// judgeDirected is the short list of what, in a candidate's response,
// speaks to the judge rather than to the prompt's asker: a forged label
// header, the boundary markers judges' inputs are often wrapped in, and
// notes or instructions addressed to a grader or judge. The judge is told
// to ignore such text and sees each response as one JSON string value
// (internal/llm judgeUser), but a response that holds it goes to a person.
var judgeDirected = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a \"Response X:\" label header", regexp.MustCompile(`(?m)^\s*Response [A-Z]\s*:`)},
	{"a <<< or >>> boundary marker", regexp.MustCompile(`<<<|>>>`)},
	{"a note or instruction to the grader", regexp.MustCompile(`(?i)\b(grader|grading|judge|evaluator|rater|annotator)('s|s)? (note|instruction|instructions)\b|\b(note|instructions?|message) (to|for) (the )?(grader|judge|evaluator|rater|annotator)s?\b`)},
	{"an order to ignore instructions", regexp.MustCompile(`(?i)\b(ignore|disregard) (all |any )?(the )?(previous|prior|above|earlier|other) (instructions|rules|rubric)\b`)},
}

// JudgeDirected says what in a candidate's response is aimed at the judge
// (the first of judgeDirected that matches), or "" when nothing is.
func JudgeDirected(response string) string {
	for _, p := range judgeDirected {
		if p.re.MatchString(response) {
			return p.what
		}
	}
	return ""
}

// position measures how far the judge's ranking held when the order of the
// candidates changed: the share of candidate pairs every order ranked the
// same way round. Fewer usable orders than the task type asks for measure
// nothing, and count as 0: a judge whose swapped run failed was not
// checked.
func position(spec *countersign.Comparison, ids []string, draft *countersign.Draft, signals map[string]float64) []string {
	want := spec.OrdersFor(len(ids))
	if want < 2 {
		return nil
	}
	if len(draft.Orders) < want {
		signals[countersign.SignalPosition] = 0
		return []string{fmt.Sprintf("only %d of the %d orders of the candidates gave a usable judgement, so the judge's position bias is unmeasured", len(draft.Orders), want)}
	}
	places := make([]map[string]int, len(draft.Orders))
	for k, o := range draft.Orders {
		places[k] = map[string]int{}
		for p, id := range o.Ranking {
			places[k][id] = p
		}
	}
	pairs, agree := 0, 0
	var flipped []string
	for i := 0; i < len(ids); i++ {
		for j := i + 1; j < len(ids); j++ {
			a, b := ids[i], ids[j]
			pairs++
			first := places[0][a] < places[0][b]
			same := true
			for k := 1; k < len(places); k++ {
				if (places[k][a] < places[k][b]) != first {
					same = false
				}
			}
			if same {
				agree++
			} else {
				flipped = append(flipped, a+"/"+b)
			}
		}
	}
	if pairs == 0 {
		return nil
	}
	v := round(float64(agree) / float64(pairs))
	signals[countersign.SignalPosition] = v
	if len(flipped) == 0 {
		return nil
	}
	var shown []string
	for _, o := range draft.Orders {
		shown = append(shown, fmt.Sprintf("shown %s, ranked %s", strings.Join(o.Order, ","), strings.Join(o.Ranking, ">")))
	}
	return []string{fmt.Sprintf("the judge changed its ranking when the candidates' order changed (%s flipped; %s)", strings.Join(flipped, ", "), strings.Join(shown, "; "))}
}

// sampleAgreement measures, when the judge drew several samples in each
// order (model.samples above 1), how far they agreed: the share of
// candidate pairs that every sample of every order ranked the same way
// round as the first sample of its order (SignalAgreement). Across orders
// is position's to measure, so a judge that is sure but biased by place
// loses position, not agreement. Absent with one sample. As for position,
// an order that gave fewer usable samples than were asked for (unusable
// answers, or an endpoint that sent fewer) leaves the agreement
// unmeasured, which counts as 0: samples that did not come are no
// evidence of agreement.
func sampleAgreement(ids []string, samples int, draft *countersign.Draft, signals map[string]float64) []string {
	if samples < 2 || len(draft.Orders) == 0 {
		return nil
	}
	for k, o := range draft.Orders {
		if got := 1 + len(o.Samples); got < samples {
			signals[countersign.SignalAgreement] = 0
			return []string{fmt.Sprintf("only %d of the %d samples of the judge's order %d (%s) were usable, so the agreement of its samples is unmeasured", got, samples, k+1, strings.Join(o.Order, ","))}
		}
	}
	pairs, agree := 0, 0
	var split []string
	for i := 0; i < len(ids); i++ {
		for j := i + 1; j < len(ids); j++ {
			a, b := ids[i], ids[j]
			pairs++
			same := true
			for _, o := range draft.Orders {
				first := slices.Index(o.Ranking, a) < slices.Index(o.Ranking, b)
				for _, s := range o.Samples {
					if (slices.Index(s, a) < slices.Index(s, b)) != first {
						same = false
					}
				}
			}
			if same {
				agree++
			} else {
				split = append(split, a+"/"+b)
			}
		}
	}
	if pairs == 0 {
		return nil
	}
	signals[countersign.SignalAgreement] = round(float64(agree) / float64(pairs))
	if len(split) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the judge's samples ranked %s both ways round in the same order of the candidates", strings.Join(split, ", "))}
}

// verdictProb records how sure the judge was of the candidate it put
// first, from the logprobs of its verdict tokens (SignalVerdictProb): the
// mean, over the judgements whose answers came with top_logprobs, of the
// share of the probability over the candidates' labels that it gave its
// first place (JudgeOrder.FirstPlace). Each is the judgement's own first
// place, in its order: whether the orders agree is position's to measure.
// Absent when no answer came with top_logprobs (an endpoint that does not
// send them), which calibration learns as the signal's absence, not as a
// 0 or a 1. The reason names each judgement that was unsure (below the
// threshold label_prob's reason uses), with the candidate it weighed most
// against its pick.
func verdictProb(draft *countersign.Draft, signals map[string]float64) []string {
	var sum float64
	read := 0
	var unsure []string
	for k, o := range draft.Orders {
		for s, lp := range o.FirstPlace {
			if lp == nil {
				continue
			}
			sum += lp.Prob
			read++
			ranking := o.Ranking
			if s > 0 && s <= len(o.Samples) {
				ranking = o.Samples[s-1]
			}
			if lp.Prob >= unsureLabelProb || len(ranking) == 0 || len(lp.Rival) == 0 {
				continue
			}
			what := fmt.Sprintf("in order %d (shown %s)", k+1, strings.Join(o.Order, ","))
			if len(o.FirstPlace) > 1 {
				what += fmt.Sprintf(", usable sample %d", s+1)
			}
			unsure = append(unsure, fmt.Sprintf("%s it gave %s %.2f and %s %.2f", what, ranking[0], lp.Prob, strings.Join(lp.Rival, " or "), lp.RivalProb))
		}
	}
	if read == 0 {
		return nil
	}
	signals[countersign.SignalVerdictProb] = round(sum / float64(read))
	if len(unsure) == 0 {
		return nil
	}
	return []string{"the judge was unsure of its first place, by the probability of its verdict tokens over the candidates: " + strings.Join(unsure, "; ")}
}
