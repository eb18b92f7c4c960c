package llm_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/llm/llmtest"
	"github.com/countersign/countersign/internal/tasktype"
)

const alertSpec = `
name: alerts
guideline: Triage the alert.
extractor: openai
model: {name: test-model, temperature: 0}
verdict:
  labels: [true_positive, false_positive]
  severity: {min: 1, max: 5}
  reasons: [{code: known_scanner}, {code: confirmed_malicious}]
input: {format: json, id: /finding_info/uid, map: {src_ip: /src_endpoint/ip}}
policy: {mode: hotl, auto_accept_threshold: 0.9}
`

// TestVerdictWithPointers: for a task type of JSON alerts the model is
// asked, in the strict answer schema, for a JSON Pointer beside each quote
// and for a label and reason codes of the taxonomy; the draft keeps the
// pointers as evidence, the codes as drafted, and a label outside the
// taxonomy is kept apart as breaking the schema.
func TestVerdictWithPointers(t *testing.T) {
	tt, err := tasktype.Parse([]byte(alertSpec), "alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := llm.AnswerSchema(tt)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]struct {
			AnyOf []struct {
				Required   []string                  `json:"required"`
				Properties map[string]map[string]any `json:"properties"`
			} `json:"anyOf"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	label := s.Properties["label"].AnyOf[0]
	if strings.Join(label.Required, ",") != "value,quote,pointer" {
		t.Errorf("label answer requires %v, want value, quote and pointer", label.Required)
	}
	if enum, _ := label.Properties["value"]["enum"].([]any); len(enum) != 2 {
		t.Errorf("the label's answer schema does not hold the labels: %s", raw)
	}

	alert := `{"finding_info": {"uid": "f-1"}, "src_endpoint": {"ip": "10.20.0.5"}, "severity_id": 2}`
	srv := llmtest.New(t)
	srv.Enqueue(llmtest.Answer(llmtest.Fields(
		"label", &llmtest.Field{Value: "false_positive", Quote: "10.20.0.5", Pointer: "/src_endpoint/ip"},
		"severity", &llmtest.Field{Value: 1, Quote: "2", Pointer: "/severity_id"},
		"reason_codes", &llmtest.Field{Value: []string{"known_scanner"}, Quote: "10.20.0.5", Pointer: "/src_endpoint/ip"},
		"rationale", &llmtest.Field{Value: "The source is the team's scanner.", Quote: "10.20.0.5", Pointer: "/src_endpoint/ip"},
	)))
	draft, err := extractWith(t, srv, tt, alert)
	if err != nil {
		t.Fatal(err)
	}
	if ev := draft.Evidence["label"]; ev.Pointer != "/src_endpoint/ip" || ev.Quote != "10.20.0.5" || ev.Start != strings.Index(alert, "10.20.0.5") {
		t.Errorf("label evidence %+v", ev)
	}
	if !countersign.SameValue(draft.Fields["reason_codes"], []any{"known_scanner"}) || draft.Fields["label"] != "false_positive" {
		t.Errorf("fields %v", draft.Fields)
	}
	prompt := srv.Requests()[0].Messages
	if !strings.Contains(prompt[len(prompt)-1].Content, "src_ip: 10.20.0.5") && !strings.Contains(prompt[len(prompt)-1].Content, alert) {
		t.Errorf("the prompt does not show the alert: %s", prompt[len(prompt)-1].Content)
	}

	srv.Enqueue(llmtest.Answer(llmtest.Fields(
		"label", &llmtest.Field{Value: "suspicious", Quote: "10.20.0.5", Pointer: "/src_endpoint/ip"},
		"severity", &llmtest.Field{Value: 1, Quote: "2", Pointer: "/severity_id"},
		"reason_codes", &llmtest.Field{Value: []string{"known_scanner"}, Quote: "10.20.0.5", Pointer: "/src_endpoint/ip"},
		"rationale", nil,
	)))
	srv.Enqueue(llmtest.Answer(llmtest.Fields(
		"label", &llmtest.Field{Value: "suspicious", Quote: "10.20.0.5", Pointer: "/src_endpoint/ip"},
		"severity", &llmtest.Field{Value: 1, Quote: "2", Pointer: "/severity_id"},
		"reason_codes", &llmtest.Field{Value: []string{"known_scanner"}, Quote: "10.20.0.5", Pointer: "/src_endpoint/ip"},
		"rationale", nil,
	)))
	draft, err = extractWith(t, srv, tt, alert)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(draft.Notes, " "), "label") {
		t.Errorf("a label outside the taxonomy passed unremarked: notes %v, fields %v", draft.Notes, draft.Fields)
	}
}
