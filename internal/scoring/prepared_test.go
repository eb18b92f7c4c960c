package scoring_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/scoring"
)

// TestPreparedShared: drafts scored with one Prepared, as the Score
// activity keeps it per task type version, score as each does with its
// own, whatever was scored with it before.
func TestPreparedShared(t *testing.T) {
	tt, sch := modelSetup(t)
	wrongPayer := modelDraft()
	wrongPayer.Fields["payer"] = "John Doe"
	other := "Payer: John Doe\nPayer: Jane Roe\nAmount: 1200 EUR\nFrom 2025-01-01 to 2025-12-31."
	ctt, csch := compile(t, contractSpec, "contracts.yaml")
	at := strings.Index(contract, "12 May 2025")
	dated := &countersign.Draft{
		Fields:   countersign.Fields{"effective_date": "2025-05-12", "claim_number": "CLM-2024-00999"},
		Evidence: map[string]countersign.Evidence{"effective_date": ev("12 May 2025", len([]rune(contract[:at])))},
	}
	inputs := []scoring.Input{
		{TaskType: tt, Schema: sch, Draft: modelDraft(), Content: payment},
		{TaskType: tt, Schema: sch, Draft: wrongPayer, Content: other},
		{TaskType: tt, Schema: sch, Draft: modelDraft(), Content: other},
		{TaskType: ctt, Schema: csch, Draft: dated, Content: contract},
	}
	prepared := map[*countersign.TaskType]*scoring.Prepared{tt: scoring.Prepare(tt), ctt: scoring.Prepare(ctt)}
	for round := range 2 {
		for i, in := range inputs {
			want := scoring.Score(in)
			in.Prepared = prepared[in.TaskType]
			if got := scoring.Score(in); !reflect.DeepEqual(got, want) {
				t.Errorf("round %d, input %d: with the shared Prepared\n%+v\nwith its own\n%+v", round, i, got, want)
			}
		}
	}
}
