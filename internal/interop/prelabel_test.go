package interop_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/interop"
)

// TestReadPrelabels: Label Studio's best-scored prediction, with an
// evidence span counted in UTF-16 units after an emoji turned into
// characters; an Argilla record's suggestions with their agent; a task
// without a prediction and a record without suggestions read without a
// pre-label; a value the schema refuses and a span that marks other text
// named in the error.
func TestReadPrelabels(t *testing.T) {
	schema := []byte(`{"type":"object","properties":{"full_name":{"type":"string"},"age":{"type":"integer"}}}`)
	const ls = `[
{"id": 7, "data": {"text": "🙂 Ann Lee, 42"}, "predictions": [
  {"model_version": "a", "score": 0.1, "result": [{"from_name": "full_name", "type": "textarea", "value": {"text": ["Ann"]}}]},
  {"model_version": "b", "score": 0.8, "result": [
    {"from_name": "full_name", "type": "textarea", "value": {"text": ["Ann Lee"]}},
    {"from_name": "age", "type": "textarea", "value": {"text": ["42"]}},
    {"from_name": "evidence", "type": "labels", "value": {"start": 3, "end": 10, "text": "Ann Lee", "labels": ["full_name"]}}]}]},
{"id": 8, "data": {"text": "nobody", "external_id": "doc-8"}}
]`
	var got []interop.Prelabelled
	if err := interop.ReadPrelabels(strings.NewReader(ls), interop.LabelStudio, interop.GoldOptions{Schema: schema}, func(p interop.Prelabelled) error {
		got = append(got, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ExternalID != "label-studio-7" || got[0].Prelabel == nil || got[0].Prelabel.Source != "label-studio:b" ||
		got[0].Prelabel.Fields["full_name"] != "Ann Lee" || got[0].Prelabel.Fields["age"] != float64(42) {
		t.Fatalf("label studio = %+v", got)
	}
	if ev := got[0].Prelabel.Evidence["full_name"]; ev.Start != 2 || ev.End != 9 || ev.Quote != "Ann Lee" {
		t.Fatalf("evidence = %+v; want characters 2 to 9 (the span counted UTF-16 units, the emoji two of them)", ev)
	}
	if got[1].ExternalID != "doc-8" || got[1].Prelabel != nil {
		t.Fatalf("a task without a prediction = %+v", got[1])
	}

	const argilla = `{"id": "r1", "fields": {"text": "Ann Lee"}, "suggestions": {"full_name": {"value": "Ann Lee", "score": 0.7, "agent": "gpt-x"}}}
{"id": "r2", "fields": {"text": "nobody"}}
`
	got = nil
	if err := interop.ReadPrelabels(strings.NewReader(argilla), interop.Argilla, interop.GoldOptions{Schema: schema}, func(p interop.Prelabelled) error {
		got = append(got, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ExternalID != "r1" || got[0].Prelabel.Source != "argilla:gpt-x" || got[0].Prelabel.Fields["full_name"] != "Ann Lee" || got[1].Prelabel != nil {
		t.Fatalf("argilla = %+v", got)
	}

	for _, tc := range []struct{ input, says string }{
		{`{"id": 1, "data": {"text": "Ann"}, "predictions": [{"result": [{"from_name": "age", "type": "textarea", "value": {"text": ["old"]}}]}]}`, "task 1 (id 1)"},
		{`{"id": 2, "data": {"text": "Ann Lee"}, "predictions": [{"result": [{"from_name": "full_name", "type": "textarea", "value": {"text": ["Ann"]}},
			{"from_name": "evidence", "type": "labels", "value": {"start": 0, "end": 3, "text": "Lee", "labels": ["full_name"]}}]}]}`, `do not mark "Lee" in the text`},
		{`{"id": 3, "data": {"text": "Ann Lee"}, "predictions": [{"result": [{"from_name": "full_name", "type": "textarea", "value": {"text": ["Ann"]}},
			{"from_name": "evidence", "type": "labels", "value": {"start": 0, "end": 30, "labels": ["full_name"]}}]}]}`, "outside the text"},
	} {
		err := interop.ReadPrelabels(strings.NewReader(tc.input), interop.LabelStudio, interop.GoldOptions{Schema: schema}, func(interop.Prelabelled) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ReadPrelabels(%.40s…) = %v; want an error saying %q", tc.input, err, tc.says)
		}
	}
}
