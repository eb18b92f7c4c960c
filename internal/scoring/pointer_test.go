package scoring_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/scoring"
)

const alertType = `
name: alerts
verdict:
  labels: [true_positive, false_positive]
  severity: {min: 1, max: 5}
  reasons: [{code: known_scanner}, {code: confirmed_malicious}]
input: {format: json, id: /finding_info/uid}
policy: {mode: hotl, auto_accept_threshold: 0.9}
`

const alertJSON = `{"finding_info": {"uid": "f-1", "title": "Port scan from 10.20.0.5"},
  "src_endpoint": {"ip": "10.20.0.5"}, "severity_id": 2, "actor": {"user": {"name": "Svc-Scanner"}}}`

// TestPointerGrounding: evidence that points into a JSON alert is grounded
// when the field is there and holds the quote, and an ungrounded pointer
// scores 0 with its reason, as a quote missing from text does; text
// evidence into the same document is scored as before.
func TestPointerGrounding(t *testing.T) {
	tt, sch := compile(t, alertType, "alerts.yaml")
	cases := []struct {
		name     string
		evidence countersign.Evidence
		want     float64
		reason   string
	}{
		{"holds the quote", countersign.Evidence{Pointer: "/src_endpoint/ip", Quote: "10.20.0.5"}, 1, ""},
		{"a number as written", countersign.Evidence{Pointer: "/severity_id", Quote: "2"}, 1, ""},
		{"part of the value", countersign.Evidence{Pointer: "/finding_info/title", Quote: "Port scan"}, 0.8, "the quote is part of the value at /finding_info/title"},
		{"after folding case", countersign.Evidence{Pointer: "/actor/user/name", Quote: "svc-scanner"}, 0.6, "only after folding case"},
		{"no such field", countersign.Evidence{Pointer: "/src_endpoint/port", Quote: "443"}, 0, "evidence pointer /src_endpoint/port is not in the alert"},
		{"another value", countersign.Evidence{Pointer: "/src_endpoint/ip", Quote: "203.0.113.7"}, 0, `evidence pointer /src_endpoint/ip holds "10.20.0.5", not the quote`},
		{"not a pointer", countersign.Evidence{Pointer: "src_endpoint.ip", Quote: "10.20.0.5"}, 0, "is not a JSON Pointer"},
		{"text evidence", countersign.Evidence{Quote: `"ip": "10.20.0.5"`, Start: strings.Index(alertJSON, `"ip"`), End: strings.Index(alertJSON, `"ip"`) + 17}, 1, ""},
	}
	for _, c := range cases {
		draft := &countersign.Draft{
			Fields:   countersign.Fields{"label": "false_positive", "severity": 2.0, "reason_codes": []any{"known_scanner"}},
			Evidence: map[string]countersign.Evidence{"label": c.evidence, "severity": {Pointer: "/severity_id", Quote: "2"}, "reason_codes": {Pointer: "/src_endpoint/ip", Quote: "10.20.0.5"}},
		}
		conf := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: alertJSON})
		fs := conf.Fields["label"]
		if got := fs.Signals[countersign.SignalGrounding]; got != c.want {
			t.Errorf("%s: grounding %v, want %v (reasons %v)", c.name, got, c.want, fs.Reasons)
		}
		if c.reason != "" && !strings.Contains(strings.Join(fs.Reasons, "; "), c.reason) {
			t.Errorf("%s: reasons %v, want %q", c.name, fs.Reasons, c.reason)
		}
		if c.want == 0 && conf.Overall != 0 {
			t.Errorf("%s: an ungrounded label left the verdict a confidence of %v", c.name, conf.Overall)
		}
	}
	notJSON := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Content: "port scan from 10.20.0.5", Draft: &countersign.Draft{
		Fields:   countersign.Fields{"label": "false_positive"},
		Evidence: map[string]countersign.Evidence{"label": {Pointer: "/src_endpoint/ip", Quote: "10.20.0.5"}},
	}})
	if fs := notJSON.Fields["label"]; fs.Signals[countersign.SignalGrounding] != 0 || !strings.Contains(strings.Join(fs.Reasons, ";"), "the document is not JSON") {
		t.Errorf("a pointer into text: %v %v", fs.Signals, fs.Reasons)
	}
}
