package dispatch

import (
	"errors"
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

func TestReadJSONInput(t *testing.T) {
	in := &countersign.InputSpec{Format: countersign.InputJSON, MaxBytes: 400, ID: "/finding_info/uid", Map: map[string]string{
		"rule_name": "/finding_info/analytic/name",
		"src_ip":    "/src_endpoint/ip",
		"severity":  "/severity_id",
		"user":      "/actor/user/name",
	}}
	alert := `{"finding_info": {"uid": "f-17", "analytic": {"name": "Brute force"}}, "src_endpoint": {"ip": "203.0.113.7"}, "severity_id": 4}`
	sub, err := readJSONInput(in, Submission{TaskType: "alerts", Content: alert, Metadata: map[string]string{"source": "siem"}})
	if err != nil {
		t.Fatal(err)
	}
	if sub.ExternalID != "f-17" {
		t.Errorf("external ID %q, want the alert's f-17", sub.ExternalID)
	}
	want := map[string]string{"source": "siem", "rule_name": "Brute force", "src_ip": "203.0.113.7", "severity": "4"}
	if len(sub.Metadata) != len(want) {
		t.Errorf("metadata %v, want %v (user is not in the alert)", sub.Metadata, want)
	}
	for k, v := range want {
		if sub.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, sub.Metadata[k], v)
		}
	}
	// The submitter does not fill in a mapped key the alert lacks.
	spoofed, err := readJSONInput(in, Submission{TaskType: "alerts", Content: alert, Metadata: map[string]string{"user": "svc-scanner"}})
	if err != nil || spoofed.Metadata["user"] != "" {
		t.Errorf("a mapped key the alert lacks, given by the submitter: metadata %v, %v; want it left out", spoofed.Metadata, err)
	}
	if same, err := readJSONInput(in, Submission{TaskType: "alerts", Content: alert, ExternalID: "f-17"}); err != nil || same.ExternalID != "f-17" {
		t.Errorf("the alert's own ID given as external_id: %v", err)
	}

	for _, c := range []struct {
		name, content, externalID string
		metadata                  map[string]string
		code                      countersign.Code
		want                      string
	}{
		{"not JSON", "alert: brute force", "", nil, countersign.CodeBadRequest, "content is not one JSON value read one way"},
		{"a key twice", `{"finding_info": {"uid": "f-1", "uid": "f-2"}}`, "", nil, countersign.CodeBadRequest, `key "uid" appears twice in one object`},
		{"a closing bracket after it", `{"finding_info": {"uid": "f-1"}}]`, "", nil, countersign.CodeBadRequest, "more than one JSON value"},
		{"an array", `[{"finding_info": {"uid": "f-1"}}]`, "", nil, countersign.CodeInvalid, "takes a JSON object: content is a JSON array"},
		{"two values", alert + alert, "", nil, countersign.CodeBadRequest, "more than one JSON value"},
		{"too large", `{"x": "` + strings.Repeat("a", 400) + `"}`, "", nil, countersign.CodeTooLarge, "takes at most 400 (input.max_bytes)"},
		{"no ID", `{"finding_info": {}}`, "", nil, countersign.CodeInvalid, "the alert has no ID at /finding_info/uid"},
		{"ID not a string", `{"finding_info": {"uid": {"a": 1}}}`, "", nil, countersign.CodeInvalid, "the alert has no ID at /finding_info/uid"},
		{"another external ID", alert, "f-18", nil, countersign.CodeInvalid, `external_id "f-18" is not the alert's ID "f-17"`},
		{"metadata against the alert", alert, "", map[string]string{"src_ip": "10.0.0.1"}, countersign.CodeInvalid, `metadata src_ip is "10.0.0.1", but the alert has "203.0.113.7" at /src_endpoint/ip`},
	} {
		_, err := readJSONInput(in, Submission{TaskType: "alerts", Content: c.content, ExternalID: c.externalID, Metadata: c.metadata})
		var coded *countersign.Error
		if err == nil || !errors.As(err, &coded) || coded.Code != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %s %q", c.name, err, c.code, c.want)
		}
	}
}

// TestReadJSONInputHoldsAlertsToTheSchema: with input.schema, an alert that
// does not fit is refused with 422 naming what is wrong; one that fits
// goes on.
func TestReadJSONInputHoldsAlertsToTheSchema(t *testing.T) {
	in := &countersign.InputSpec{Format: countersign.InputJSON, ID: "/finding_info/uid",
		Schema: []byte(`{"type":"object","required":["class_uid","finding_info"],"properties":{"class_uid":{"const":2004},"finding_info":{"type":"object","required":["uid","title"]}}}`)}
	if _, err := readJSONInput(in, Submission{TaskType: "alerts", Content: `{"class_uid": 2004, "finding_info": {"uid": "f-1", "title": "Port scan"}}`}); err != nil {
		t.Fatalf("an alert that fits: %v", err)
	}
	for _, c := range []struct{ content, want string }{
		{`{"class_uid": 3002, "finding_info": {"uid": "f-1", "title": "x"}}`, "class_uid"},
		{`{"class_uid": 2004, "finding_info": {"uid": "f-1"}}`, "finding_info"},
	} {
		_, err := readJSONInput(in, Submission{TaskType: "alerts", Content: c.content})
		var coded *countersign.Error
		if err == nil || !errors.As(err, &coded) || coded.Code != countersign.CodeInvalid || !strings.Contains(err.Error(), "does not fit input.schema of task type alerts") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want 422 naming %s", c.content, err, c.want)
		}
	}
}
