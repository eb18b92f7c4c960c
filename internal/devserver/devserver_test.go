package devserver_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	postgresschema "go.temporal.io/server/schema/postgresql/v12"

	"github.com/countersign/countersign/internal/devserver"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
)

func echo(_ workflow.Context, s string) (string, error) { return s, nil }

// TestPostgres starts the server on a fresh Postgres database, which it
// gives Temporal's schema and a visibility database beside it, runs a
// workflow, stops, and starts again on the same databases: the schema is
// left as it is, and the workflow is still there, listed by visibility.
func TestPostgres(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.Database(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	visibilityURL := *u
	visibilityURL.Path += devserver.VisibilitySuffix
	pgtest.DropAfter(t, strings.TrimPrefix(visibilityURL.Path, "/"))

	opts := devserver.Options{DatabaseURL: dbURL, Namespace: "pg-test"}
	first, err := devserver.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(u.Path, "/") + devserver.VisibilitySuffix; !strings.Contains(first.Storage(), want) || strings.Contains(first.Storage(), "postgres@") {
		t.Errorf("Storage() = %q, want the databases without the login", first.Storage())
	}
	for _, db := range []struct{ url, version string }{{dbURL, postgresschema.Version}, {visibilityURL.String(), postgresschema.VisibilityVersion}} {
		if got := schemaVersion(t, db.url); got != db.version {
			t.Errorf("schema of %s at %s, want %s", db.url, got, db.version)
		}
	}
	run(t, first.Address(), "first")
	first.Stop()

	opts.Port = 0
	second, err := devserver.Start(ctx, opts)
	if err != nil {
		t.Fatalf("second start on the same databases: %v", err)
	}
	defer second.Stop()
	c, err := client.Dial(client.Options{HostPort: second.Address(), Namespace: "pg-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out string
	if err := c.GetWorkflow(ctx, "echo-first", "").Get(ctx, &out); err != nil || out != "first" {
		t.Fatalf("the first run's workflow after a restart: %q, %v", out, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "pg-test"})
		if err == nil && len(list.Executions) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility lists %v, %v; want the one workflow", list, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	run(t, second.Address(), "second")
}

// run runs one workflow to its end on the server at address.
func run(t *testing.T, address, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Dial(client.Options{HostPort: address, Namespace: "pg-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := sdkworker.New(c, "pg-test", sdkworker.Options{})
	w.RegisterWorkflowWithOptions(echo, workflow.RegisterOptions{Name: "echo"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "echo-" + id, TaskQueue: "pg-test"}, "echo", id)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != id {
		t.Fatalf("workflow: %q, %v", out, err)
	}
}

func schemaVersion(t *testing.T, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version string
	if err := conn.QueryRow(ctx, "SELECT curr_version FROM schema_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	return version
}
