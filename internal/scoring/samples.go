package scoring

import (
	"fmt"

	"github.com/countersign/countersign"
)

// agreement records the share of the samples that answered the field that
// gave the drafted value. A sample answered a field when it gave a value or
// said the document does not state it (null, which disagrees with any value);
// a sample unusable as a whole, or whose value broke the field's schema, did
// not, and neither counts. Fewer than two answers measure nothing.
func agreement(draft *countersign.Draft, name string, value any, signals map[string]float64) []string {
	answered, agree := 0, 0
	for _, sample := range draft.Samples {
		other, ok := sample[name]
		if !ok {
			continue
		}
		answered++
		if countersign.Equivalent(value, other) {
			agree++
		}
	}
	if answered < 2 {
		return nil
	}
	share := float64(agree) / float64(answered)
	signals[countersign.SignalAgreement] = round(share)
	switch {
	case share >= unsureAgreement:
	case value == nil:
		return []string{fmt.Sprintf("%d of %d samples that answered left it empty", agree, answered)}
	default:
		return []string{fmt.Sprintf("%d of %d samples that answered gave this value", agree, answered)}
	}
	return nil
}

// alternatives records 1 minus the probability the model's top_logprobs
// gave other tokens than the ones it wrote, at the token of the value where
// that probability was highest: the model weighed writing something else
// there.
func alternatives(draft *countersign.Draft, name string, value any, signals map[string]float64) []string {
	alt, ok := draft.Alternatives[name]
	if !ok {
		return nil
	}
	sure := round(min(max(1-alt.Mass, 0), 1))
	signals[countersign.SignalAlternatives] = sure
	if sure >= unsureAlternatives {
		return nil
	}
	reason := fmt.Sprintf("the model gave other tokens %.2f where it wrote %s in the value", alt.Mass, short(alt.Token))
	if value == nil {
		reason = fmt.Sprintf("the model gave other tokens %.2f where it wrote null", alt.Mass)
	}
	if alt.Other != "" {
		reason += fmt.Sprintf(" (%s at %.2f)", short(alt.Other), alt.OtherProb)
	}
	return []string{reason}
}
