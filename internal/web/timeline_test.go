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
