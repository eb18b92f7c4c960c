package countersign_test

import (
	"testing"

	"github.com/countersign/countersign"
)

func TestDisposition(t *testing.T) {
	fields := countersign.Fields{"label": "false_positive"}
	for _, c := range []struct {
		name  string
		final *countersign.Final
		want  countersign.Disposition
	}{
		{"none", nil, ""},
		{"auto-accepted", &countersign.Final{Outcome: countersign.OutcomeAutoAccept, DecidedBy: countersign.SystemActor, Fields: fields}, countersign.DispositionAutomatic},
		{"audit confirmed", &countersign.Final{Outcome: countersign.OutcomeAutoAcceptWithAudit, DecidedBy: countersign.SystemActor, AuditedBy: "ana", Fields: fields}, countersign.DispositionAutomatic},
		{"audit corrected", &countersign.Final{Outcome: countersign.OutcomeAutoAcceptWithAudit, DecidedBy: countersign.SystemActor, AuditedBy: "ana", CorrectedAfterAudit: true, Fields: fields}, countersign.DispositionAnalyst},
		{"vetoed", &countersign.Final{Outcome: countersign.OutcomeAutoAccept, DecidedBy: "sam", Vetoed: true}, countersign.DispositionAnalyst},
		{"reject rule", &countersign.Final{Outcome: countersign.OutcomeReject, DecidedBy: countersign.SystemActor}, countersign.DispositionAutomatic},
		{"reviewed", &countersign.Final{Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionApprove, DecidedBy: "ana", Fields: fields}, countersign.DispositionAnalyst},
	} {
		if got := c.final.Disposition(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
