package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// TestBatchCommandsThroughAPI: batch status (table and JSON), batch list
// and batch export against the real router, and the names they refuse
// before asking the server.
func TestBatchCommandsThroughAPI(t *testing.T) {
	t.Setenv("COUNTERSIGN_DATABASE_URL", "")
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ts := httptest.NewServer(api.Router(api.Services{Store: store}))
	defer ts.Close()
	admin, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, "root", countersign.RoleAdmin, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	client := []string{"--server", ts.URL, "--token", admin}
	for i, status := range []countersign.Status{countersign.StatusAccepted, countersign.StatusAwaitingReview} {
		id := []string{"d1", "d2"}[i]
		content := "text of " + id
		if _, _, err := store.CreateDocument(ctx, &countersign.Document{ID: id, TaskType: "pii-extraction", TaskTypeVersion: "v1", Content: content,
			ContentSHA256: countersign.ContentSHA256(content), Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: time.Now(), Batch: "room-7"}); err != nil {
			t.Fatal(err)
		}
		u := countersign.DocumentUpdate{Status: &status, Route: &countersign.Route{Outcome: countersign.OutcomeHumanReview, Reasons: []string{}}}
		if status == countersign.StatusAccepted {
			u.Draft = &countersign.Draft{Fields: countersign.Fields{"name": "Ann"}, Extractor: "rules"}
			u.Final = &countersign.Final{Fields: countersign.Fields{"name": "Ann"}, Outcome: countersign.OutcomeHumanReview, DecidedBy: "rita", DecidedAt: time.Now()}
		}
		if err := store.UpdateDocument(ctx, id, u); err != nil {
			t.Fatal(err)
		}
	}

	out, err := run(t, append([]string{"batch", "status", "room-7"}, client...)...)
	if err != nil {
		t.Fatalf("batch status: %v\n%s", err, out)
	}
	for _, want := range []string{"Batch         room-7", "in progress: 1 of 2 documents not final yet", "awaiting_review  1", "accepted         1", "human_review  2"} {
		if !strings.Contains(out, want) {
			t.Errorf("batch status lacks %q:\n%s", want, out)
		}
	}
	if out, err := run(t, append([]string{"batch", "status", "room-7", "--json"}, client...)...); err != nil || !strings.Contains(out, `"awaiting_review": 1`) {
		t.Errorf("batch status --json: %v\n%s", err, out)
	}
	if out, err := run(t, append([]string{"batch", "list"}, client...)...); err != nil || !strings.Contains(out, "room-7") || !strings.Contains(out, "in progress") {
		t.Errorf("batch list: %v\n%s", err, out)
	}
	if out, err := run(t, append([]string{"batch", "status", "room-8"}, client...)...); err == nil || !strings.Contains(err.Error(), "batch room-8 not found") {
		t.Errorf("batch status of an unknown batch: %v\n%s", err, out)
	}
	if _, err := run(t, append([]string{"batch", "status", "room 7"}, client...)...); err == nil || !strings.Contains(err.Error(), `batch name "room 7" is not one`) {
		t.Errorf("batch status of a bad name: %v", err)
	}

	file := filepath.Join(t.TempDir(), "room-7.csv")
	if out, err := run(t, append([]string{"batch", "export", "room-7", "--format", "csv", "--output", file}, client...)...); err != nil {
		t.Fatalf("batch export: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(raw), "d1") || strings.Contains(string(raw), "d2") {
		t.Fatalf("batch export wrote %q, %v; want d1's row only", raw, err)
	}
	if _, err := run(t, append([]string{"submit", "--type", "pii-extraction", "--batch", "a/b", file}, client...)...); err == nil || !strings.Contains(err.Error(), `--batch: batch name "a/b" is not one`) {
		t.Errorf("submit --batch a/b: %v; want the name refused", err)
	}
}
