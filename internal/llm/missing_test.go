package llm_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// TestNullRequiredFieldIsMissing: the prompt tells the model to answer null
// for a field the document does not state, and it does so for vendor, which
// the task type requires. The answer is usable: the draft has the other
// fields, vendor is missing, and no repair is asked for.
func TestNullRequiredFieldIsMissing(t *testing.T) {
	srv := llmtest.New(t)
	srv.Enqueue(llmtest.Answer(llmtest.Fields(
		"vendor", nil,
		"total", &llmtest.Field{Value: 1250.0, Quote: "1250.00 EUR"},
		"due_date", &llmtest.Field{Value: "2025-07-01", Quote: "payable by 2025-07-01"},
	)))
	draft, err := extractWith(t, srv, invoiceType(t, 1, 0), invoice)
	if err != nil {
		t.Fatalf("err = %v; a null required field is a missing field, not an unusable answer", err)
	}
	want := countersign.Fields{"total": 1250.0, "due_date": "2025-07-01"}
	if !countersign.SameValue(draft.Fields, want) {
		t.Errorf("fields = %v, want %v", draft.Fields, want)
	}
	if _, ok := draft.Evidence["vendor"]; ok {
		t.Errorf("evidence for vendor %v; the model gave none", draft.Evidence["vendor"])
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests: a repair is wasted on a null", n)
	}
	if len(draft.Notes) != 0 || draft.Failed() {
		t.Errorf("notes %v, error %q; want neither", draft.Notes, draft.Error)
	}
}

// TestSamplesVoteOnTheFieldsTheyAnswered: of three samples, one breaks the
// total's schema and one answers null for the due date. Neither is dropped
// whole: each votes on the fields it answered, the broken total takes no part
// in the total's vote, and the samples say which answered what.
func TestSamplesVoteOnTheFieldsTheyAnswered(t *testing.T) {
	srv := llmtest.New(t)
	brokenTotal := llmtest.Fields(
		"vendor", &llmtest.Field{Value: "Acme Corp", Quote: "Acme  Corp"},
		"total", &llmtest.Field{Value: -1250.0, Quote: "1250.00 EUR"},
		"due_date", &llmtest.Field{Value: "2025-07-01", Quote: "payable by 2025-07-01"},
	)
	noDate := llmtest.Fields(
		"vendor", &llmtest.Field{Value: "Acme Corp", Quote: "Acme  Corp"},
		"total", &llmtest.Field{Value: 1520.0, Quote: "1250.00 EUR"},
		"due_date", nil,
	)
	srv.Enqueue(llmtest.Answer(brokenTotal, noDate, goodAnswer()))
	draft, err := extractWith(t, srv, invoiceType(t, 3, 0), invoice)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests; every field had usable answers, so no repair", n)
	}
	// total: 1520 and 1250 tie among the two that answered it; the earlier
	// (the second sample) wins. due_date: two of three gave it.
	want := countersign.Fields{"vendor": "Acme Corp", "total": 1520.0, "due_date": "2025-07-01"}
	if !countersign.SameValue(draft.Fields, want) {
		t.Errorf("fields = %v, want %v", draft.Fields, want)
	}
	if len(draft.Samples) != 3 {
		t.Fatalf("samples = %v", draft.Samples)
	}
	if _, ok := draft.Samples[0]["total"]; ok || draft.Samples[0]["vendor"] != "Acme Corp" {
		t.Errorf("sample 1 = %v: it answered vendor and due_date, and no usable total", draft.Samples[0])
	}
	if v, ok := draft.Samples[1]["due_date"]; !ok || v != nil {
		t.Errorf("sample 2 due_date = %v (present %v): a null answer is kept as null", v, ok)
	}
	if notes := strings.Join(draft.Notes, "; "); !strings.Contains(notes, "sample 1: field total breaks the schema") {
		t.Errorf("notes = %v, want the broken total named", draft.Notes)
	}
}

// TestOnlyBrokenValuesAreRepaired: when every sample's value for a field
// breaks its schema, the vote has nothing to go on, so a repair is asked
// for once; nulls alone never cause one.
func TestOnlyBrokenValuesAreRepaired(t *testing.T) {
	srv := llmtest.New(t)
	badDate := llmtest.Fields(
		"vendor", &llmtest.Field{Value: "Acme Corp", Quote: "Acme  Corp"},
		"total", nil,
		"due_date", &llmtest.Field{Value: "1 July 2025", Quote: "payable by 2025-07-01"},
	)
	srv.Enqueue(llmtest.Answer(badDate, badDate), llmtest.Answer(goodAnswer()))
	draft, err := extractWith(t, srv, invoiceType(t, 2, 0), invoice)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || !strings.Contains(reqs[1].Messages[len(reqs[1].Messages)-1].Content, "field due_date breaks the schema") {
		t.Fatalf("%d requests; want one repair naming due_date", len(reqs))
	}
	if draft.Fields["due_date"] != "2025-07-01" || len(draft.Notes) != 1 || !strings.Contains(draft.Notes[0], "repair attempt replaced it") {
		t.Errorf("fields %v notes %v; want the repaired answer", draft.Fields, draft.Notes)
	}
}
