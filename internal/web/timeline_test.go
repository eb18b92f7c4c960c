package web

import (
	"testing"

	"github.com/countersign/countersign"
)

// TestDescribeEscalation: the timeline says an escalation in words: who,
// how severe, why, and what the document said then; nothing is left over.
func TestDescribeEscalation(t *testing.T) {
	e := countersign.AuditEvent{
		Type: countersign.EventDocumentEscalated, Actor: "rita",
		Data: []byte(`{"document_label":"true_positive","document_severity":4,"reason":"lateral movement","role":"reviewer","severity":5}`),
	}
	sentence, _, rest := describe(e)
	want := "rita (reviewer) escalated the document to an incident, severity 5: lateral movement. The document then said label true_positive, severity 4."
	if sentence != want {
		t.Errorf("sentence %q, want %q", sentence, want)
	}
	if len(rest) != 0 {
		t.Errorf("left over: %v", rest)
	}
	if eventLabels[countersign.EventDocumentEscalated] == "" {
		t.Error("no label for document.escalated")
	}
}

// TestDescribeGeneratedCandidates: the timeline names the model that wrote
// each generated candidate, with its parameters and response hash.
func TestDescribeGeneratedCandidates(t *testing.T) {
	e := countersign.AuditEvent{
		Type: countersign.EventCandidatesGenerated, Actor: countersign.SystemActor,
		Data: []byte(`{"candidates":[{"id":"small-1","model":"gen-small","params":{"generator":"small","seed":11,"temperature":0.3},"response_sha256":"ab12"},{"id":"big","model":"gen-big","params":{"generator":"big","temperature":0.9},"response_sha256":"cd34"}]}`),
	}
	sentence, rows, rest := describe(e)
	if sentence != "Generated 2 candidates for the prompt; each row names the model that wrote one, its parameters and its response's SHA-256." || len(rest) != 0 {
		t.Errorf("sentence %q, left over %v", sentence, rest)
	}
	if len(rows) != 2 || rows[0].Field != "small-1" || rows[1].Field != "big" ||
		rows[0].Value != `model gen-small {"generator":"small","seed":11,"temperature":0.3} sha256 ab12` {
		t.Errorf("rows %+v", rows)
	}
	if eventLabels[countersign.EventCandidatesGenerated] == "" {
		t.Error("no label for candidates.generated")
	}
}
