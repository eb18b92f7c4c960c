package tasktype_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/tasktype"
)

const verdictType = `
name: alerts
guideline: Triage the alert.
verdict:
  labels: [true_positive, benign_true_positive, false_positive]
  severity: {min: 1, max: 5}
  reasons:
    - {code: known_scanner, description: a scanner the team runs}
    - {code: admin_activity, description: scheduled administration}
    - {code: confirmed_malicious}
policy:
  mode: hitl
`

func TestVerdictDeclaresFields(t *testing.T) {
	tt, err := tasktype.Parse([]byte(verdictType), "alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tt.FieldOrder, ","); got != "label,severity,reason_codes,rationale" {
		t.Fatalf("field order %s", got)
	}
	if got := strings.Join(tt.Required, ","); got != "label,severity,reason_codes" {
		t.Fatalf("required %s", got)
	}
	if tt.Verdict == nil || tt.Verdict.Severity != (countersign.SeverityScale{Min: 1, Max: 5}) || len(tt.Verdict.Reasons) != 3 || tt.Verdict.Reasons[0].Description != "a scanner the team runs" {
		t.Fatalf("verdict %+v", tt.Verdict)
	}
	compiled, err := schema.Compile(tt.Schema)
	if err != nil {
		t.Fatal(err)
	}
	ok := countersign.Fields{"label": "false_positive", "severity": 2.0, "reason_codes": []any{"known_scanner"}, "rationale": "The scanner."}
	if err := compiled.Validate(ok); err != nil {
		t.Fatalf("a verdict in the taxonomy refused: %v", err)
	}
	for name, patch := range map[string]countersign.Fields{
		"unknown label":       {"label": "maybe"},
		"severity too high":   {"severity": 6.0},
		"severity too low":    {"severity": 0.0},
		"fractional severity": {"severity": 2.5},
		"unknown reason code": {"reason_codes": []any{"known_scanner", "gut_feeling"}},
		"repeated code":       {"reason_codes": []any{"known_scanner", "known_scanner"}},
		"no label":            {"label": nil},
	} {
		err := compiled.Validate(countersign.Correct(ok, patch))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for field := range patch {
			if !strings.Contains(err.Error(), field) {
				t.Errorf("%s: the error does not name %s: %v", name, field, err)
			}
		}
	}
	prompt, err := tasktype.RenderPrompt(tt, tt.Prompt, &countersign.Document{Content: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one of: true_positive, benign_true_positive, false_positive", "from 1 (lowest) to 5", "known_scanner (a scanner the team runs)", "confirmed_malicious"} {
		if !strings.Contains(prompt.User, want) {
			t.Errorf("the prompt does not tell the model %q:\n%s", want, prompt.User)
		}
	}
}

func TestVerdictErrors(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"empty labels", "labels: [true_positive, benign_true_positive, false_positive]", "labels: []", "alerts.yaml: verdict.labels: is empty"},
		{"duplicate label", "benign_true_positive, false_positive]", "false_positive, false_positive]", `verdict.labels[2]: "false_positive" is listed twice`},
		{"bad label", "benign_true_positive,", "Benign TP,", "verdict.labels[1]: must be lowercase"},
		{"duplicate code", "code: confirmed_malicious", "code: known_scanner", `verdict.reasons[2].code: "known_scanner" is listed twice`},
		{"no reasons", "  reasons:\n    - {code: known_scanner, description: a scanner the team runs}\n    - {code: admin_activity, description: scheduled administration}\n    - {code: confirmed_malicious}\n", "  reasons: []\n", "verdict.reasons: is empty"},
		{"inverted scale", "{min: 1, max: 5}", "{min: 5, max: 1}", "verdict.severity: must be a scale with 0 <= min < max"},
		{"half a scale", "{min: 1, max: 5}", "{max: 5}", "verdict.severity: needs both min and max"},
		{"no scale", "  severity: {min: 1, max: 5}\n", "", "verdict.severity: is missing"},
		{"fields too", "policy:", "fields: {type: object, properties: {x: {type: string}}}\npolicy:", "fields: is declared by verdict"},
	} {
		src := strings.Replace(verdictType, c.from, c.to, 1)
		if src == verdictType {
			t.Fatalf("%s: the replacement changed nothing", c.name)
		}
		_, err := tasktype.Parse([]byte(src), "alerts.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestInput(t *testing.T) {
	src := verdictType + `input:
  format: json
  max_bytes: 65536
  id: /finding_info/uid
  map: {rule_name: /finding_info/analytic/name, src_ip: /src_endpoint/ip}
  schema: {type: object, required: [finding_info]}
`
	tt, err := tasktype.Parse([]byte(src), "alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !tt.Input.JSON() || tt.Input.MaxBytes != 65536 || tt.Input.ID != "/finding_info/uid" || tt.Input.Map["src_ip"] != "/src_endpoint/ip" || !strings.Contains(string(tt.Input.Schema), `"required":["finding_info"]`) {
		t.Fatalf("input %+v", tt.Input)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"unknown format", "format: json", "format: xml", `input.format: unknown format "xml"`},
		{"text with a map", "format: json", "format: text", "input: id, map, max_bytes and schema read JSON documents"},
		{"negative size", "max_bytes: 65536", "max_bytes: -1", "input.max_bytes: must not be negative"},
		{"ID not a pointer", "id: /finding_info/uid", "id: finding_info.uid", `input.id: must start with /`},
		{"mapped to no pointer", "src_ip: /src_endpoint/ip", "src_ip: src_endpoint.ip", `input.map.src_ip: must start with /`},
		{"bad key", "src_ip:", "Src-IP:", `input.map: key "Src-IP" must be lowercase`},
		{"a schema that does not compile", "required: [finding_info]", "required: finding_info", "input.schema"},
	} {
		_, err := tasktype.Parse([]byte(strings.Replace(src, c.from, c.to, 1)), "alerts.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
