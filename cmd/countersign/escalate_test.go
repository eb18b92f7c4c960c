package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// TestEscalateCommand: countersign escalate records the escalation and
// says that no incident target is configured; without --reason it is
// refused before any request.
func TestEscalateCommand(t *testing.T) {
	t.Setenv("COUNTERSIGN_DATABASE_URL", "")
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.Router(api.Services{Store: store, Dispatch: &dispatch.Dispatcher{Store: store, TaskTypes: types, Resolver: tasktype.NewResolver(types, store)}}))
	defer ts.Close()
	rita, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, "rita", countersign.RoleReviewer, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d := &countersign.Document{ID: "a1", TaskType: "soc-alert-triage", TaskTypeVersion: "v1", Content: "{}", ContentSHA256: "x",
		Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: time.Now().UTC()}
	if _, _, err := store.CreateDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "escalate", "a1", "--server", ts.URL, "--token", rita); err == nil || !strings.Contains(err.Error(), "--reason is required") {
		t.Fatalf("no reason: %v\n%s", err, out)
	}
	out, err := run(t, "escalate", "a1", "--reason", "beaconing to a known C2", "--severity", "4", "--server", ts.URL, "--token", rita)
	if err != nil || !strings.Contains(out, "document a1 escalated") || !strings.Contains(out, "no incident target is configured") {
		t.Fatalf("escalate: %v\n%s", err, out)
	}
	events, err := store.DocumentAudit(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Type != countersign.EventDocumentEscalated || events[0].Actor != "rita" || !strings.Contains(string(events[0].Data), `"severity":4`) {
		t.Fatalf("trail: %+v", events)
	}
}
