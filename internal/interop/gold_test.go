package interop_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/export"
	"github.com/countersign/countersign/internal/interop"
)

// docStore serves documents to an export; only ScanDocuments is
// implemented.
type docStore struct {
	countersign.DocumentStore
	docs []*countersign.Document
}

func (s docStore) ScanDocuments(_ context.Context, _ countersign.DocumentFilter, fn func(*countersign.Document) error) error {
	for _, d := range s.docs {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// schema is the fields schema of the documents below: invoice_number is a
// string that looks like a number.
const schema = `{"type":"object","properties":{"party":{"type":"string"},"amount":{"type":"number"},"invoice_number":{"type":"string"},"signed":{"type":"boolean"},"tags":{"type":"array","items":{"type":"string"}}},"required":["party"]}`

func decided() []*countersign.Document {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	doc := func(id, content string, draft, final countersign.Fields) *countersign.Document {
		return &countersign.Document{
			ID: id, TaskType: "contract", TaskTypeVersion: "tt1", Status: countersign.StatusAccepted, Content: content, CreatedAt: at,
			Draft: &countersign.Draft{Fields: draft, Extractor: "openai", Model: "gpt-x", Evidence: map[string]countersign.Evidence{"party": {Quote: "Acme", Start: 0, End: 4}}},
			Final: &countersign.Final{Fields: final, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita", DecidedAt: at},
		}
	}
	return []*countersign.Document{
		doc("0a1b2c", "Acme 🙂 pays 1200 on invoice 9.", countersign.Fields{"party": "Acme", "amount": 1000.0},
			countersign.Fields{"party": "Acme", "amount": 1200.0, "invoice_number": "9", "signed": true, "tags": []any{"a", "b"}}),
		doc("3d4e5f", "Acme & Co, nothing owed.", countersign.Fields{"party": "Acme"}, countersign.Fields{"party": "Acme & Co"}),
	}
}

func exported(t *testing.T, format export.Format, docs []*countersign.Document) string {
	t.Helper()
	var out strings.Builder
	if _, err := export.Run(t.Context(), docStore{docs: docs}, nil, export.Filter{}, format, &out, nil); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestGoldRoundTrip: what countersign exports for Label Studio and Argilla
// imports back as gold items with the documents' text and final fields,
// the text answers read by the schema.
func TestGoldRoundTrip(t *testing.T) {
	docs := decided()
	for _, format := range []export.Format{export.LabelStudio, export.Argilla} {
		t.Run(string(format), func(t *testing.T) {
			f, err := interop.ParseFormat(string(format))
			if err != nil {
				t.Fatal(err)
			}
			res, err := interop.ReadGold(strings.NewReader(exported(t, format, docs)), f, interop.GoldOptions{Schema: json.RawMessage(schema)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != len(docs) || res.Skipped != 0 {
				t.Fatalf("%d items, %d skipped, want %d and 0", len(res.Items), res.Skipped, len(docs))
			}
			for i, item := range res.Items {
				d := docs[i]
				if item.ID != d.ID || item.Content != d.Content || item.Reject || !countersign.SameValue(item.Answer, d.Final.Fields) {
					t.Errorf("item %d: %+v, want %s with %q and %v", i, item, d.ID, d.Content, d.Final.Fields)
				}
			}
			// Without the schema, text that is JSON reads as JSON: the
			// invoice number "9" comes back a number.
			res, err = interop.ReadGold(strings.NewReader(exported(t, format, docs)), f, interop.GoldOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Items[0].Answer["invoice_number"]; got != 9.0 {
				t.Errorf("without a schema, invoice_number %#v, want 9", got)
			}
		})
	}
}

// TestGoldFromLabelStudio reads tasks as Label Studio itself exports them:
// numeric IDs, annotators by ID, choices, a cancelled annotation, one
// marked ground truth among disagreeing ones, offsets in UTF-16 units after
// an emoji, and a task nobody annotated.
func TestGoldFromLabelStudio(t *testing.T) {
	in := `[
{"id": 17, "data": {"text": "🙂 Acme pays"}, "annotations": [
  {"id": 1, "completed_by": 3, "was_cancelled": true, "result": []},
  {"id": 2, "completed_by": 3, "ground_truth": false, "result": [{"id": "x", "from_name": "party", "to_name": "text", "type": "textarea", "value": {"text": ["Acme Inc"]}}]},
  {"id": 3, "completed_by": 4, "ground_truth": true, "result": [
    {"id": "y", "from_name": "party", "to_name": "text", "type": "textarea", "value": {"text": ["Acme"]}},
    {"id": "z", "from_name": "ev", "to_name": "text", "type": "labels", "value": {"start": 3, "end": 7, "text": "Acme", "labels": ["party"]}},
    {"id": "w", "from_name": "tags", "to_name": "text", "type": "choices", "value": {"choices": ["urgent"]}},
    {"id": "v", "from_name": "amount", "to_name": "text", "type": "number", "value": {"number": 12}}]}]},
{"id": 18, "data": {"text": "Nobody looked"}, "annotations": [], "predictions": []}
]`
	res, err := interop.ReadGold(strings.NewReader(in), interop.LabelStudio, interop.GoldOptions{Schema: json.RawMessage(schema)})
	if err != nil {
		t.Fatal(err)
	}
	want := countersign.Fields{"party": "Acme", "tags": []any{"urgent"}, "amount": 12.0}
	if len(res.Items) != 1 || res.Items[0].ID != "ls-17" || res.Items[0].Content != "🙂 Acme pays" || !countersign.SameValue(res.Items[0].Answer, want) || res.Skipped != 1 {
		t.Errorf("result %+v, want ls-17 with %v and one skipped", res, want)
	}
}

func TestGoldFromArgilla(t *testing.T) {
	// Record.to_dict's own shape: no status on responses; a draft response
	// is left out; two people who agree give one answer.
	in := `{"id": "Rec 1/A", "fields": {"prompt": "Acme pays 5"}, "metadata": {}, "suggestions": {"party": {"value": "Acme", "score": 0.4, "agent": "m"}},
 "responses": {"party": [{"value": "Acme Ltd", "user_id": "u1"}, {"value": "Acme Ltd", "user_id": "u2", "status": "submitted"}], "amount": [{"value": 5, "user_id": "u1"}], "signed": [{"value": "yes", "user_id": "u3", "status": "draft"}]}, "vectors": {}}
{"id": "rec-2", "fields": {"prompt": "Unanswered"}, "responses": {}}
`
	res, err := interop.ReadGold(strings.NewReader(in), interop.Argilla, interop.GoldOptions{TextKey: "prompt"})
	if err != nil {
		t.Fatal(err)
	}
	want := countersign.Fields{"party": "Acme Ltd", "amount": 5.0}
	if len(res.Items) != 1 || res.Items[0].ID != "rec-1-a" || !countersign.SameValue(res.Items[0].Answer, want) || res.Skipped != 1 {
		t.Errorf("result %+v, want rec-1-a with %v and one skipped", res, want)
	}
}

// TestGoldRefusesBadInput: each problem is refused with an error naming the
// task or record and the field.
func TestGoldRefusesBadInput(t *testing.T) {
	ls := func(result string) string {
		return `[{"id": 5, "data": {"text": "Acme pays 12"}, "annotations": [{"result": [` + result + `]}]}]`
	}
	textarea := func(name, value string) string {
		return `{"from_name": "` + name + `", "to_name": "text", "type": "textarea", "value": {"text": [` + value + `]}}`
	}
	for _, tc := range []struct {
		name   string
		format interop.Format
		in     string
		opts   interop.GoldOptions
		want   []string
	}{
		{"empty", interop.LabelStudio, "  \n", interop.GoldOptions{}, []string{"empty"}},
		{"not JSON", interop.LabelStudio, `[{"data": }]`, interop.GoldOptions{}, []string{"item 1", "not JSON"}},
		{"not an object", interop.LabelStudio, `[{"data": {"text": "a"}}, 7]`, interop.GoldOptions{}, []string{"task 2", "not a JSON object"}},
		{"no text", interop.LabelStudio, `[{"id": 5, "data": {"body": "x"}, "annotations": []}]`, interop.GoldOptions{}, []string{"task 1 (id 5)", "data.text", "--text-key"}},
		{"two texts", interop.LabelStudio, ls(textarea("party", `"a", "b"`)), interop.GoldOptions{}, []string{"task 1 (id 5): annotations[0].result[0]", "party", "list of one text"}},
		{"no value", interop.LabelStudio, ls(`{"from_name": "party", "type": "textarea"}`), interop.GoldOptions{}, []string{"result[0]", "value are required"}},
		{"span off", interop.LabelStudio, ls(textarea("party", `"Acme"`) + `, {"from_name": "ev", "type": "labels", "value": {"start": 1, "end": 5, "text": "Acme", "labels": ["party"]}}`), interop.GoldOptions{},
			[]string{"annotations[0].result[1]", "value.start 1 and value.end 5", `"Acme"`}},
		{"not a number", interop.LabelStudio, ls(textarea("party", `"Acme"`) + "," + textarea("amount", `"twelve"`)), interop.GoldOptions{Schema: json.RawMessage(schema)},
			[]string{"result[1]", "amount", `"twelve"`, "number"}},
		{"schema", interop.LabelStudio, ls(textarea("amount", `"12"`)), interop.GoldOptions{Schema: json.RawMessage(schema)}, []string{"task 1 (id 5)", "schema", "party"}},
		{"twice", interop.LabelStudio, ls(textarea("party", `"a"`) + "," + textarea("party", `"b"`)), interop.GoldOptions{}, []string{"result[1]", "second answer for party"}},
		{"unknown control", interop.LabelStudio, ls(`{"from_name": "when", "type": "datetime", "value": {"date": "x"}}`), interop.GoldOptions{}, []string{"result[0]", "when", "value.datetime"}},
		{"disagree", interop.LabelStudio, `[{"id": 5, "data": {"text": "x"}, "annotations": [{"result": [` + textarea("party", `"a"`) + `]}, {"result": [` + textarea("party", `"b"`) + `]}]}]`, interop.GoldOptions{},
			[]string{"task 1 (id 5)", "2 annotations", "ground_truth"}},
		{"same ID", interop.LabelStudio, `[{"id": 5, "data": {"text": "x"}, "annotations": [{"result": [` + textarea("party", `"a"`) + `]}]}, {"id": 5, "data": {"text": "y"}, "annotations": [{"result": [` + textarea("party", `"a"`) + `]}]}]`, interop.GoldOptions{},
			[]string{"task 2 (id 5)", "ls-5", "task 1 (id 5)"}},
		{"taken ID", interop.LabelStudio, ls(textarea("party", `"a"`)), interop.GoldOptions{Taken: []string{"ls-5"}}, []string{"ls-5", "the task type"}},
		{"argilla no text", interop.Argilla, `{"id": "r1", "fields": {"prompt": "x"}, "responses": {}}`, interop.GoldOptions{}, []string{"record 1 (id r1)", "fields.text"}},
		{"argilla disagree", interop.Argilla, `{"id": "r1", "fields": {"text": "x"}, "responses": {"party": [{"value": "a", "user_id": "u1"}, {"value": "b", "user_id": "u2"}]}}`, interop.GoldOptions{},
			[]string{"record 1 (id r1)", "responses.party", "disagree"}},
		{"argilla null", interop.Argilla, `{"id": "r1", "fields": {"text": "x"}, "responses": {"party": [{"value": null, "user_id": "u1"}]}}`, interop.GoldOptions{}, []string{"responses.party[0]", "value is required"}},
		{"format", interop.Format("kili"), "[]", interop.GoldOptions{}, []string{`"kili"`, "label-studio, argilla"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := interop.ReadGold(strings.NewReader(tc.in), tc.format, tc.opts)
			if err == nil {
				t.Fatalf("no error, want one saying %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
