package scoring

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign"
)

// labelProb records the probability the model gave the drafted label over
// the field's label set (countersign.SignalLabelProb). The reason names the
// label it weighed most against the drafted one, with the shares of both.
func labelProb(draft *countersign.Draft, name string, value any, signals map[string]float64) []string {
	lp, ok := draft.LabelProb[name]
	if !ok || value == nil {
		return nil
	}
	signals[countersign.SignalLabelProb] = lp.Prob
	if lp.Prob >= unsureLabelProb || len(lp.Rival) == 0 {
		return nil
	}
	rival := make([]string, len(lp.Rival))
	for i, l := range lp.Rival {
		rival[i] = short(l)
	}
	return []string{fmt.Sprintf("the model was unsure of the label: it gave %s %.2f of its probability over the labels and %s %.2f",
		short(value), lp.Prob, strings.Join(rival, " or "), lp.RivalProb)}
}
