package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// TestPrelabelsFromLabelStudio: the built binary submits Label Studio
// tasks with `submit --from label-studio`; the task with a prediction is
// drafted by it (no model), goes to a person whatever its confidence, and
// keeps the pre-label's source in its lineage; the task without one is
// drafted as usual.
func TestPrelabelsFromLabelStudio(t *testing.T) {
	ctx := context.Background()
	a := startAppWith(t, config.Config{}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	tok, err := apiclient.New(a.APIURL, a.AdminToken).CreateToken(ctx, "sam", countersign.RoleSubmitter, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	email := sample(t, "pii-extraction", "email-maria-gonzalez.txt")
	claim := sample(t, "pii-extraction", "claim-form-daniel-obrien.txt")
	name := "Maria Gonzalez"
	start := len([]rune(email[:strings.Index(email, name)]))
	tasks := []map[string]any{
		{"id": 41, "data": map[string]any{"text": email}, "predictions": []map[string]any{
			{"model_version": "ner-v1", "score": 0.2, "result": []map[string]any{
				{"from_name": "full_name", "to_name": "text", "type": "textarea", "value": map[string]any{"text": []string{"M. Gonzalez"}}}}},
			{"model_version": "ner-v2", "score": 0.9, "result": []map[string]any{
				{"from_name": "full_name", "to_name": "text", "type": "textarea", "value": map[string]any{"text": []string{name}}},
				{"from_name": "evidence", "to_name": "text", "type": "labels", "value": map[string]any{"start": start, "end": start + len([]rune(name)), "text": name, "labels": []string{"full_name"}}},
			}},
		}},
		{"id": 42, "data": map[string]any{"text": claim}},
	}
	raw, _ := json.Marshal(tasks)
	file := filepath.Join(t.TempDir(), "project.json")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "submit", "--type", "pii-extraction", "--from", "label-studio", "--wait=routed", file, "--server", a.APIURL, "--token", tok.Secret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("submit --from label-studio: %v\n%s", err, out)
	}
	var prelabelled, plain string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		cols := strings.Split(line, "\t")
		switch {
		case len(cols) >= 3 && strings.Contains(cols[2], "task 1"):
			prelabelled = cols[0]
		case len(cols) >= 3 && strings.Contains(cols[2], "task 2"):
			plain = cols[0]
		}
	}
	if prelabelled == "" || plain == "" {
		t.Fatalf("submit printed no line for each task:\n%s", out)
	}

	doc, err := u.auditor.Document(ctx, prelabelled)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Draft == nil || doc.Draft.Extractor != countersign.ExtractorPrelabel || doc.Draft.Model != "label-studio:ner-v2" || doc.Draft.Fields["full_name"] != name ||
		doc.Draft.Evidence["full_name"].Start != start || doc.ExternalID != "label-studio-41" {
		t.Fatalf("the pre-labelled document = %+v, draft %+v: the best prediction should be its draft", doc.Document, doc.Draft)
	}
	if doc.Route == nil || doc.Route.Outcome != countersign.OutcomeHumanReview || !strings.HasPrefix(doc.Route.Reasons[0], "pre-labelled by label-studio:ner-v2") {
		t.Fatalf("the pre-labelled document's route = %+v: a person checks every pre-label", doc.Route)
	}
	if other, err := u.auditor.Document(ctx, plain); err != nil || other.Draft == nil || other.Draft.Extractor == countersign.ExtractorPrelabel {
		t.Fatalf("the task without a prediction = %+v, %v: drafted as usual", other, err)
	}
	// The prediction left out the required email: the person adds it.
	d, err := u.reviewer.Decide(ctx, countersign.ReviewID(prelabelled, 1), api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"email": "Maria.Gonzalez@example.com"}})
	if err != nil || d.Document.Status != countersign.StatusAccepted {
		t.Fatalf("completing the pre-label = %+v, %v", d, err)
	}
	final, err := u.auditor.Document(ctx, prelabelled)
	if err != nil || final.Final == nil || final.Final.Lineage.Extractor != countersign.ExtractorPrelabel || final.Final.Lineage.Model != "label-studio:ner-v2" {
		t.Fatalf("final = %+v, %v: the lineage names the pre-label's source", final.Final, err)
	}
}
