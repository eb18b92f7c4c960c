package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// TestExportLabelingTools: the Label Studio and Argilla exports through the
// real router, with their content types and file names.
func TestExportLabelingTools(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	d := &countersign.Document{
		ID: "doc-ls", TaskType: "contract-review", TaskTypeVersion: "v1", Content: "Acme & Co, Zoë", ContentSHA256: "x",
		Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if _, _, err := s.store.CreateDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	status := countersign.StatusAccepted
	draft := &countersign.Draft{Fields: countersign.Fields{"party_a": "Acme"}, Evidence: map[string]countersign.Evidence{"party_a": {Quote: "Acme", Start: 0, End: 4}}, Extractor: "rules"}
	final := &countersign.Final{Fields: countersign.Fields{"party_a": "Acme & Co"}, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita", DecidedAt: time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)}
	if err := s.store.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: draft, Final: final}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		format, contentType, file string
	}{
		{"label-studio", "application/json", "countersign-contract-review-label-studio.json"},
		{"argilla", "application/x-ndjson", "countersign-contract-review-argilla.jsonl"},
	} {
		req, _ := http.NewRequest("GET", s.url+"/v1/export?task_type=contract-review&format="+tc.format, nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[countersign.RoleApprover])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.contentType ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), tc.file) {
			t.Fatalf("%s: %d, %q, %q: %s", tc.format, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body)
		}
		var text string
		switch tc.format {
		case "label-studio":
			var tasks []struct {
				Data struct{ Text string }
			}
			if err := json.Unmarshal(body, &tasks); err != nil || len(tasks) != 1 {
				t.Fatalf("label-studio: %v, %d tasks: %s", err, len(tasks), body)
			}
			text = tasks[0].Data.Text
		case "argilla":
			var rec struct {
				ID     string
				Fields struct{ Text string }
			}
			if err := json.Unmarshal(body, &rec); err != nil || rec.ID != d.ID {
				t.Fatalf("argilla: %v, %s", err, body)
			}
			text = rec.Fields.Text
		}
		if text != d.Content {
			t.Errorf("%s: text %q, want the document's", tc.format, text)
		}
	}
}
