package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm/llmtest"
	"github.com/countersign/countersign/workflows"
)

// TestModelNullRequiredField: the model answers null for full_name, which
// the task type requires, as the prompt tells it to for a value it cannot
// find. The answer is used as it is, without a repair: the document goes to
// a person with every other field drafted, the rules' cross-check kept, and
// full_name named as missing.
func TestModelNullRequiredField(t *testing.T) {
	f, srv := modelFixture(t)
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	srv.Enqueue(llmtest.Answer(llmtest.Fields(
		"full_name", nil,
		"email", &llmtest.Field{Value: "maria.gonzalez@example.com", Quote: "Maria.Gonzalez@example.com"},
		"phone", &llmtest.Field{Value: "(503) 555-0187", Quote: "(503) 555-0187"},
		"date_of_birth", &llmtest.Field{Value: "1984-11-23", Quote: "11/23/1984"},
		"postal_address", nil,
		"customer_id", &llmtest.Field{Value: "HP-4471902", Quote: "HP-4471902"},
	)))
	reviewID := countersign.ReviewID(in.DocumentID, 1)
	decision := f.decideAfter(time.Minute, workflows.DecisionRequest{
		ReviewID: reviewID, Action: countersign.ActionCorrect, Actor: reviewer("rita"), Channel: countersign.ChannelAPI,
		Fields: countersign.Fields{"full_name": "Maria Gonzalez"},
	})
	result := f.run(in)
	if decision.result == nil {
		t.Fatalf("decision: rejected %v failed %v", decision.rejected, decision.failed)
	}
	if result.Outcome != countersign.OutcomeHumanReview {
		t.Fatalf("outcome %s; a draft missing a required field goes to a person", result.Outcome)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests; a null is not worth a repair", n)
	}
	doc := f.stored(in.DocumentID)
	if doc.Draft.Failed() || doc.Draft.Fields["email"] != "maria.gonzalez@example.com" || doc.Draft.Fields["customer_id"] != "HP-4471902" {
		t.Fatalf("draft %+v; want the other fields drafted", doc.Draft)
	}
	if _, ok := doc.Draft.Fields["full_name"]; ok {
		t.Errorf("full_name drafted as %v", doc.Draft.Fields["full_name"])
	}
	if doc.Draft.CrossCheck["full_name"] != "Maria Gonzalez" {
		t.Errorf("cross-check %v; want the rules' full_name kept", doc.Draft.CrossCheck)
	}
	name := doc.Confidence.Fields["full_name"]
	if name.Score != 0 || !strings.Contains(strings.Join(name.Reasons, "; "), "no value found") {
		t.Errorf("full_name score %v reasons %v", name.Score, name.Reasons)
	}
	if email := doc.Confidence.Fields["email"]; email.Signals["grounding"] < 0.6 || email.Signals["rules"] != 1 {
		t.Errorf("email signals %v; the drafted fields are scored as usual", email.Signals)
	}
	if doc.Final == nil || doc.Final.Fields["full_name"] != "Maria Gonzalez" || doc.Final.Fields["email"] != "maria.gonzalez@example.com" {
		t.Errorf("final %+v; the reviewer added the name to the draft", doc.Final)
	}
}
