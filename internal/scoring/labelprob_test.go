package scoring_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/scoring"
)

const verdictSpec = `
name: alerts
extractor: openai
verdict:
  labels: [true_positive, benign_true_positive, false_positive]
  severity: {min: 1, max: 5}
  reasons: [{code: known_scanner}]
policy: {mode: hotl, auto_accept_threshold: 0.9}
`

const scannerAlert = `{"src_ip": "10.20.0.5", "rule": "Port scan"}`

func verdictDraft(label string, tokenProb float64, lp *countersign.LabelProbability) *countersign.Draft {
	ip := countersign.Evidence{Quote: "10.20.0.5", Start: strings.Index(scannerAlert, "10.20.0.5"), End: strings.Index(scannerAlert, "10.20.0.5") + 9}
	d := &countersign.Draft{
		Extractor: "openai",
		Fields:    countersign.Fields{"label": label, "severity": 1.0, "reason_codes": []any{"known_scanner"}},
		Evidence:  map[string]countersign.Evidence{"label": ip, "severity": ip, "reason_codes": ip},
		TokenProb: map[string]float64{"label": tokenProb, "severity": 1, "reason_codes": 1},
	}
	if lp != nil {
		d.LabelProb = map[string]countersign.LabelProbability{"label": *lp}
	}
	return d
}

// TestLabelProbSignal: a label drafted where the model held 0.3 of its
// probability over the labels for another one records label_prob 0.7 with
// a reason naming that label, and weighs like token_prob: below a label
// the model gave as much token probability, all of whose doubt was outside
// the labels (a null). A draft without the figure has no signal.
func TestLabelProbSignal(t *testing.T) {
	tt, sch := compile(t, verdictSpec, "alerts.yaml")
	score := func(d *countersign.Draft) countersign.FieldScore {
		return scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: d, Content: scannerAlert}).Fields["label"]
	}
	split := score(verdictDraft("false_positive", 0.7, &countersign.LabelProbability{Prob: 0.7, Rival: []string{"true_positive"}, RivalProb: 0.3}))
	sure := score(verdictDraft("false_positive", 0.7, &countersign.LabelProbability{Prob: 1, Outside: 0.3}))
	if split.Signals[countersign.SignalLabelProb] != 0.7 || sure.Signals[countersign.SignalLabelProb] != 1 {
		t.Errorf("label_prob %v and %v, want 0.7 and 1", split.Signals, sure.Signals)
	}
	want := `the model was unsure of the label: it gave "false_positive" 0.70 of its probability over the labels and "true_positive" 0.30`
	if !strings.Contains(strings.Join(split.Reasons, "; "), want) {
		t.Errorf("reasons %q, want %q", split.Reasons, want)
	}
	if strings.Contains(strings.Join(sure.Reasons, "; "), "of its probability over the labels") {
		t.Errorf("reasons %q for a label the model was sure of among the labels", sure.Reasons)
	}
	if !(split.Raw < sure.Raw) || split.Raw != 0.85 {
		t.Errorf("raw %v split, %v sure: want (1+1+0.7+0.7)/4 = 0.85 below (1+1+0.7+1)/4", split.Raw, sure.Raw)
	}
	shared := score(verdictDraft("false_positive", 0.5, &countersign.LabelProbability{Prob: 0.5, Rival: []string{"true_positive", "benign_true_positive"}, RivalProb: 0.5}))
	if want := `"true_positive" or "benign_true_positive" 0.50`; !strings.Contains(strings.Join(shared.Reasons, "; "), want) {
		t.Errorf("reasons %q, want the labels that shared the rival entry, %s", shared.Reasons, want)
	}
	none := score(verdictDraft("false_positive", 0.7, nil))
	if _, ok := none.Signals[countersign.SignalLabelProb]; ok || none.Raw != 0.9 {
		t.Errorf("without the figure: signals %v raw %v, want no label_prob and (1+1+0.7)/3", none.Signals, none.Raw)
	}
}
