package export_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/export"
)

// interopDocuments are documents whose drafts carry evidence: quotes in
// text with accents and an emoji (offsets count code points, not bytes),
// one whose quoted field a person corrected, and one whose quote is not
// where its offsets say.
func interopDocuments() []*countersign.Document {
	const text = "Café Ünïon 🙂 pays 1200 to Zoë Ltd."
	return []*countersign.Document{
		{
			ID: "doc-ls1", TaskType: "contract", TaskTypeVersion: "tt1", ExternalID: "contract-7.pdf", Status: countersign.StatusAccepted,
			Content: text, Metadata: map[string]string{"title": "Contract 7"}, CreatedAt: base,
			Draft: &countersign.Draft{
				Fields: countersign.Fields{"amount": 1200.0, "payer": "Café Ünïon", "payee": "Zoe Ltd"},
				Evidence: map[string]countersign.Evidence{
					"amount": {Quote: "1200", Start: 18, End: 22},
					"payer":  {Quote: "Café Ünïon", Start: 0, End: 10},
					"payee":  {Quote: "Zoë Ltd", Start: 26, End: 33},
				},
				Extractor: "openai", Model: "gpt-x", Prompt: "p1",
			},
			Confidence: &countersign.Confidence{Overall: 0.62, Fields: map[string]countersign.FieldScore{"amount": {Score: 0.97}, "payer": {Score: 0.9}, "payee": {Score: 0.62}}},
			Route:      &countersign.Route{Outcome: countersign.OutcomeHumanReview, PolicyVersion: "pol1"},
			Final: &countersign.Final{
				Fields:  countersign.Fields{"amount": 1200.0, "payer": "Café Ünïon", "payee": "Zoë Ltd", "signed": true},
				Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita@example.com", DecidedAt: base.Add(time.Hour),
			},
		},
		{
			ID: "doc-ls2", TaskType: "contract", TaskTypeVersion: "tt1", Status: countersign.StatusAccepted,
			Content: "Beta pays 5.", CreatedAt: base.Add(time.Minute),
			Draft: &countersign.Draft{
				Fields:    countersign.Fields{"amount": 5.0, "payer": "Beta"},
				Evidence:  map[string]countersign.Evidence{"amount": {Quote: "5", Start: 3, End: 4}, "payer": {Quote: "Beta", Start: 0, End: 4}},
				Extractor: "rules",
			},
			Route: &countersign.Route{Outcome: countersign.OutcomeAutoAccept, PolicyVersion: "pol1"},
			Final: &countersign.Final{
				Fields:  countersign.Fields{"amount": 5.0, "payer": "Beta"},
				Outcome: countersign.OutcomeAutoAccept, DecidedBy: countersign.SystemActor, DecidedAt: base.Add(time.Minute),
			},
		},
	}
}

func TestLabelStudio(t *testing.T) {
	out := run(t, interopDocuments(), export.Filter{}, export.LabelStudio)
	// Every task is a line of its own, between the array's brackets.
	compareLines(t, out, []string{
		`[`,
		`{"data":{"text":"Café Ünïon 🙂 pays 1200 to Zoë Ltd.","document_id":"doc-ls1","external_id":"contract-7.pdf","task_type":"contract","metadata":{"title":"Contract 7"}},` +
			`"meta":{"document_id":"doc-ls1","task_type":"contract","task_type_version":"tt1","policy_version":"pol1","model":"gpt-x","prompt_version":"p1","extractor":"openai","decided_by":"rita@example.com","action":"correct","outcome":"human_review","corrected_after_audit":false,"disposition":"analyst","audited_by":"","reviewers":["rita@example.com"],"audit_events":[],"changed_fields":["payee","signed"]},` +
			`"annotations":[{"result":[` +
			`{"id":"amount","from_name":"amount","to_name":"text","type":"textarea","value":{"text":["1200"]}},` +
			`{"id":"evidence-amount","from_name":"evidence","to_name":"text","type":"labels","value":{"start":18,"end":22,"text":"1200","labels":["amount"]}},` +
			`{"id":"payee","from_name":"payee","to_name":"text","type":"textarea","value":{"text":["Zoë Ltd"]}},` +
			`{"id":"payer","from_name":"payer","to_name":"text","type":"textarea","value":{"text":["Café Ünïon"]}},` +
			`{"id":"evidence-payer","from_name":"evidence","to_name":"text","type":"labels","value":{"start":0,"end":10,"text":"Café Ünïon","labels":["payer"]}},` +
			`{"id":"signed","from_name":"signed","to_name":"text","type":"textarea","value":{"text":["true"]}}],` +
			`"completed_by":{"email":"rita@example.com"},"created_at":"2026-03-02T10:00:00Z","ground_truth":false,"was_cancelled":false}],` +
			`"predictions":[{"model_version":"gpt-x/p1","score":0.62,"result":[` +
			`{"id":"amount","from_name":"amount","to_name":"text","type":"textarea","value":{"text":["1200"]},"score":0.97},` +
			`{"id":"evidence-amount","from_name":"evidence","to_name":"text","type":"labels","value":{"start":18,"end":22,"text":"1200","labels":["amount"]},"score":0.97},` +
			`{"id":"payee","from_name":"payee","to_name":"text","type":"textarea","value":{"text":["Zoe Ltd"]},"score":0.62},` +
			`{"id":"evidence-payee","from_name":"evidence","to_name":"text","type":"labels","value":{"start":26,"end":33,"text":"Zoë Ltd","labels":["payee"]},"score":0.62},` +
			`{"id":"payer","from_name":"payer","to_name":"text","type":"textarea","value":{"text":["Café Ünïon"]},"score":0.9},` +
			`{"id":"evidence-payer","from_name":"evidence","to_name":"text","type":"labels","value":{"start":0,"end":10,"text":"Café Ünïon","labels":["payer"]},"score":0.9}]}]},`,
		// The rules extractor's quote of "5" is one character off: no span.
		`{"data":{"text":"Beta pays 5.","document_id":"doc-ls2","external_id":"","task_type":"contract","metadata":{}},` +
			`"meta":{"document_id":"doc-ls2","task_type":"contract","task_type_version":"tt1","policy_version":"pol1","model":"","prompt_version":"","extractor":"rules","decided_by":"countersign","action":"","outcome":"auto_accept","corrected_after_audit":false,"disposition":"automatic","audited_by":"","reviewers":[],"audit_events":[],"changed_fields":[]},` +
			`"annotations":[{"result":[` +
			`{"id":"amount","from_name":"amount","to_name":"text","type":"textarea","value":{"text":["5"]}},` +
			`{"id":"payer","from_name":"payer","to_name":"text","type":"textarea","value":{"text":["Beta"]}},` +
			`{"id":"evidence-payer","from_name":"evidence","to_name":"text","type":"labels","value":{"start":0,"end":4,"text":"Beta","labels":["payer"]}}],` +
			`"created_at":"2026-03-02T09:01:00Z","ground_truth":false,"was_cancelled":false}],` +
			`"predictions":[{"model_version":"rules","score":0,"result":[` +
			`{"id":"amount","from_name":"amount","to_name":"text","type":"textarea","value":{"text":["5"]}},` +
			`{"id":"payer","from_name":"payer","to_name":"text","type":"textarea","value":{"text":["Beta"]}},` +
			`{"id":"evidence-payer","from_name":"evidence","to_name":"text","type":"labels","value":{"start":0,"end":4,"text":"Beta","labels":["payer"]}}]}]}`,
		`]`,
	})
}

// checkLabelStudioTasks checks an export against Label Studio's documented
// task format, task by task: the keys and their types, a result item's id,
// from_name, to_name, type and value, a TextArea value's text list, and a
// span's offsets slicing the task's text (in code points) to its text.
func checkLabelStudioTasks(t *testing.T, out string, docs []*countersign.Document) {
	t.Helper()
	var tasks []map[string]any
	if err := json.Unmarshal([]byte(out), &tasks); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	byID := map[string]*countersign.Document{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	for i, task := range tasks {
		at := fmt.Sprintf("task %d", i)
		keys(t, at, task, "data", "meta", "annotations", "predictions")
		data := task["data"].(map[string]any)
		keys(t, at+".data", data, "text", "document_id", "external_id", "task_type", "metadata")
		d := byID[data["document_id"].(string)]
		if d == nil || data["text"] != d.Content {
			t.Fatalf("%s: data %v does not give a known document's text", at, data)
		}
		checkMetadata(t, task["meta"].(map[string]any))
		text := []rune(d.Content)
		annotations := task["annotations"].([]any)
		if len(annotations) != 1 {
			t.Fatalf("%s: %d annotations, want 1", at, len(annotations))
		}
		a := annotations[0].(map[string]any)
		if _, ok := a["completed_by"]; ok {
			keys(t, at+".annotations[0]", a, "result", "completed_by", "created_at", "ground_truth", "was_cancelled")
			if email := a["completed_by"].(map[string]any)["email"]; email != d.Final.DecidedBy {
				t.Errorf("%s: completed_by %v, want the decider's address", at, email)
			}
		} else {
			keys(t, at+".annotations[0]", a, "result", "created_at", "ground_truth", "was_cancelled")
		}
		if created, err := time.Parse(time.RFC3339Nano, a["created_at"].(string)); err != nil || !created.Equal(d.Final.DecidedAt) {
			t.Errorf("%s: created_at %v (%v), want the decision time", at, a["created_at"], err)
		}
		if a["ground_truth"] != false || a["was_cancelled"] != false {
			t.Errorf("%s: ground_truth %v, was_cancelled %v, want false and false", at, a["ground_truth"], a["was_cancelled"])
		}
		got := checkResults(t, at+".annotations[0]", a["result"].([]any), text, false)
		checkAnswers(t, at+".annotations[0]", got, d.Final.Fields)
		predictions := task["predictions"].([]any)
		if d.Draft.Failed() {
			if len(predictions) != 0 {
				t.Errorf("%s: predictions %v of a failed draft", at, predictions)
			}
			continue
		}
		p := predictions[0].(map[string]any)
		keys(t, at+".predictions[0]", p, "model_version", "score", "result")
		if _, ok := p["score"].(float64); !ok {
			t.Errorf("%s: prediction score %v is not a number", at, p["score"])
		}
		got = checkResults(t, at+".predictions[0]", p["result"].([]any), text, true)
		checkAnswers(t, at+".predictions[0]", got, d.Draft.Fields)
	}
	if len(tasks) == 0 {
		t.Error("no tasks")
	}
}

// checkResults checks result items and returns the TextArea answers by
// name.
func checkResults(t *testing.T, at string, results []any, text []rune, scored bool) map[string]string {
	t.Helper()
	answers := map[string]string{}
	for j, r := range results {
		item := r.(map[string]any)
		at := fmt.Sprintf("%s.result[%d]", at, j)
		if _, ok := item["score"]; ok {
			if !scored {
				t.Errorf("%s: a score on an annotation", at)
			}
			keys(t, at, item, "id", "from_name", "to_name", "type", "value", "score")
		} else {
			keys(t, at, item, "id", "from_name", "to_name", "type", "value")
		}
		for _, k := range []string{"id", "from_name", "to_name", "type"} {
			if s, ok := item[k].(string); !ok || s == "" {
				t.Errorf("%s: %s %v is not a non-empty string", at, k, item[k])
			}
		}
		if item["to_name"] != export.LabelStudioText {
			t.Errorf("%s: to_name %v", at, item["to_name"])
		}
		value := item["value"].(map[string]any)
		switch item["type"] {
		case "textarea":
			keys(t, at+".value", value, "text")
			list, _ := value["text"].([]any)
			if len(list) != 1 {
				t.Fatalf("%s: value.text %v, want one string", at, value["text"])
			}
			answers[item["from_name"].(string)] = list[0].(string)
		case "labels":
			keys(t, at+".value", value, "start", "end", "text", "labels")
			start, end := int(value["start"].(float64)), int(value["end"].(float64))
			if start < 0 || end > len(text) || start >= end || string(text[start:end]) != value["text"] {
				t.Errorf("%s: [%d:%d] of the text is not %q", at, start, end, value["text"])
			}
			if item["from_name"] != export.LabelStudioEvidence || len(value["labels"].([]any)) != 1 {
				t.Errorf("%s: span %v, want one label of %q", at, item, export.LabelStudioEvidence)
			}
		default:
			t.Errorf("%s: type %v", at, item["type"])
		}
	}
	return answers
}

// checkAnswers compares text answers with fields: a string as it is, any
// other value as JSON.
func checkAnswers(t *testing.T, at string, got map[string]string, want countersign.Fields) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: answers %v, want %v", at, got, want)
	}
	for name, v := range want {
		text, ok := got[name]
		if s, isString := v.(string); isString {
			if text != s {
				t.Errorf("%s: %s is %q, want %q", at, name, text, s)
			}
			continue
		}
		var decoded any
		if !ok || json.Unmarshal([]byte(text), &decoded) != nil || !countersign.SameValue(decoded, v) {
			t.Errorf("%s: %s is %q, want %v", at, name, text, v)
		}
	}
}

// keys checks that m has exactly the keys named.
func keys(t *testing.T, at string, m map[string]any, want ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: keys %v, want %v", at, got, want)
	}
}

func TestLabelStudioTasksFollowTheFormat(t *testing.T) {
	docs := append(testDocuments(), interopDocuments()...)
	checkLabelStudioTasks(t, run(t, docs, export.Filter{}, export.LabelStudio), docs)
}

func TestLabelStudioEmpty(t *testing.T) {
	compareLines(t, run(t, nil, export.Filter{}, export.LabelStudio), []string{"[]"})
}

// A cut-short Label Studio export is not a valid JSON array.
func TestLabelStudioNotClosedOnError(t *testing.T) {
	docs := testDocuments()
	var out strings.Builder
	_, err := export.Run(t.Context(), &memStore{docs: docs}, nil, export.Filter{}, export.LabelStudio, &out,
		func(c export.Counts) {
			if c.Scanned == 2 {
				docs[2].Final.Fields = countersign.Fields{"bad": func() {}}
			}
		})
	if err == nil || !strings.Contains(err.Error(), "doc-audited") {
		t.Fatalf("error %v, want one naming doc-audited", err)
	}
	if !strings.HasPrefix(out.String(), "[\n") || strings.HasSuffix(strings.TrimSpace(out.String()), "]") || json.Valid([]byte(out.String())) {
		t.Errorf("output of a failed export:\n%s\nwant an opened, unclosed array", out.String())
	}
}

func TestArgilla(t *testing.T) {
	out := run(t, interopDocuments(), export.Filter{}, export.Argilla)
	rita, system := export.ArgillaUserID("rita@example.com"), export.ArgillaUserID(countersign.SystemActor)
	compareLines(t, out, []string{
		`{"id":"doc-ls1","status":"completed","fields":{"text":"Café Ünïon 🙂 pays 1200 to Zoë Ltd."},` +
			`"metadata":{"action":"correct","audit_events":[],"audited_by":"","changed_fields":["payee","signed"],"corrected_after_audit":"false","decided_by":"rita@example.com","document_id":"doc-ls1","external_id":"contract-7.pdf","extractor":"openai","model":"gpt-x","outcome":"human_review","policy_version":"pol1","prompt_version":"p1","reviewers":["rita@example.com"],"task_type":"contract","task_type_version":"tt1"},` +
			`"suggestions":{"amount":{"value":"1200","score":0.97,"agent":"gpt-x"},"payee":{"value":"Zoe Ltd","score":0.62,"agent":"gpt-x"},"payer":{"value":"Café Ünïon","score":0.9,"agent":"gpt-x"}},` +
			`"responses":{"amount":[{"value":"1200","user_id":"` + rita + `","status":"submitted"}],"payee":[{"value":"Zoë Ltd","user_id":"` + rita + `","status":"submitted"}],"payer":[{"value":"Café Ünïon","user_id":"` + rita + `","status":"submitted"}],"signed":[{"value":"true","user_id":"` + rita + `","status":"submitted"}]},` +
			`"vectors":{}}`,
		`{"id":"doc-ls2","status":"completed","fields":{"text":"Beta pays 5."},` +
			`"metadata":{"action":"","audit_events":[],"audited_by":"","changed_fields":[],"corrected_after_audit":"false","decided_by":"countersign","document_id":"doc-ls2","external_id":"","extractor":"rules","model":"","outcome":"auto_accept","policy_version":"pol1","prompt_version":"","reviewers":[],"task_type":"contract","task_type_version":"tt1"},` +
			`"suggestions":{"amount":{"value":"5","score":null,"agent":"rules"},"payer":{"value":"Beta","score":null,"agent":"rules"}},` +
			`"responses":{"amount":[{"value":"5","user_id":"` + system + `","status":"submitted"}],"payer":[{"value":"Beta","user_id":"` + system + `","status":"submitted"}]},` +
			`"vectors":{}}`,
	})
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestArgillaRecordsFollowTheFormat checks every line against Argilla's
// documented record: the keys Record.from_dict reads and their types, a
// suggestion's value, score and agent, a response's value, user_id (a UUID)
// and status, and metadata values Argilla accepts (terms, integers,
// floats).
func TestArgillaRecordsFollowTheFormat(t *testing.T) {
	docs := append(testDocuments(), interopDocuments()...)
	byID := map[string]*countersign.Document{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	out := run(t, docs, export.Filter{}, export.Argilla)
	n := 0
	for line := range strings.Lines(out) {
		n++
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		at := fmt.Sprintf("line %d", n)
		keys(t, at, rec, "id", "status", "fields", "metadata", "suggestions", "responses", "vectors")
		d := byID[rec["id"].(string)]
		if d == nil {
			t.Fatalf("%s: id %v is no document's", at, rec["id"])
		}
		fields := rec["fields"].(map[string]any)
		keys(t, at+".fields", fields, "text")
		if fields["text"] != d.Content {
			t.Errorf("%s: fields.text %v", at, fields["text"])
		}
		for k, v := range rec["metadata"].(map[string]any) {
			switch v := v.(type) {
			case string, float64:
			case []any:
				for _, e := range v {
					if _, ok := e.(string); !ok {
						t.Errorf("%s: metadata %s holds %v", at, k, e)
					}
				}
			default:
				t.Errorf("%s: metadata %s is %T, not a term, integer or float", at, k, v)
			}
		}
		suggestions := map[string]string{}
		for q, s := range rec["suggestions"].(map[string]any) {
			s := s.(map[string]any)
			keys(t, at+".suggestions."+q, s, "value", "score", "agent")
			if _, ok := s["score"].(float64); !ok && s["score"] != nil {
				t.Errorf("%s: suggestion %s score %v", at, q, s["score"])
			}
			if s["agent"] == "" {
				t.Errorf("%s: suggestion %s has no agent", at, q)
			}
			suggestions[q] = s["value"].(string)
		}
		if !d.Draft.Failed() {
			checkAnswers(t, at+".suggestions", suggestions, d.Draft.Fields)
		} else if len(suggestions) != 0 {
			t.Errorf("%s: suggestions %v of a failed draft", at, suggestions)
		}
		responses := map[string]string{}
		for q, list := range rec["responses"].(map[string]any) {
			list := list.([]any)
			if len(list) != 1 {
				t.Fatalf("%s: responses to %s: %v, want one", at, q, list)
			}
			r := list[0].(map[string]any)
			keys(t, at+".responses."+q, r, "value", "user_id", "status")
			if r["status"] != "submitted" || !uuidPattern.MatchString(r["user_id"].(string)) || r["user_id"] != export.ArgillaUserID(d.Final.DecidedBy) {
				t.Errorf("%s: response %v, want status submitted and the decider's UUID", at, r)
			}
			responses[q] = r["value"].(string)
		}
		checkAnswers(t, at+".responses", responses, d.Final.Fields)
	}
	if n != 8 {
		t.Errorf("%d records, want 8", n)
	}
}

// TestLabelingToolFormatsStream: the Label Studio and Argilla exports hold
// one document at a time, like the others: ten times the documents, about
// the same peak heap (measured 1.0 to 1.8 times as much, with the garbage
// the collector has not yet reclaimed; keeping the tasks would make it ten).
func TestLabelingToolFormatsStream(t *testing.T) {
	if testing.Short() {
		t.Skip("exports 44,000 documents")
	}
	for _, format := range []export.Format{export.LabelStudio, export.Argilla} {
		small, large := peakHeap(t, format, 2_000), peakHeap(t, format, 20_000)
		t.Logf("%s: peak heap %.0f KiB for 2,000 documents, %.0f KiB for 20,000", format, small/1024, large/1024)
		if large > 4*small {
			t.Errorf("%s: peak heap %.0f bytes for 20,000 documents, %.0f for 2,000: it grows with the export", format, large, small)
		}
	}
}
