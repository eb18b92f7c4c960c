package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/reconcile"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/workflows"
)

// errKilled stands for the process dying at that point: nothing after it
// runs, and the caller gets no answer.
var errKilled = errors.New("killed")

// killedAfterCreate is the store of a process that dies as it stores the
// document: before the row is written (stored false) or right after.
type killedAfterCreate struct {
	countersign.Store
	stored bool
}

func (s killedAfterCreate) CreateDocument(ctx context.Context, doc *countersign.Document) (*countersign.Document, bool, error) {
	if s.stored {
		if _, _, err := s.Store.CreateDocument(ctx, doc); err != nil {
			return nil, false, err
		}
	}
	return nil, false, errKilled
}

// killedAtStart is the Temporal client of a process that dies as it starts
// the workflow: before Temporal has it (started false) or right after.
type killedAtStart struct {
	client.Client
	started bool
}

func (c killedAtStart) ExecuteWorkflow(ctx context.Context, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	if c.started {
		if _, err := c.Client.ExecuteWorkflow(ctx, opts, wf, args...); err != nil {
			return nil, err
		}
	}
	return nil, errKilled
}

// anHourAgo dates the documents of an interrupted intake an hour back, past
// the reconciler's grace, so that the next worker start recovers them.
func anHourAgo() time.Time { return time.Now().Add(-time.Hour) }

// startAppIn starts roles on dataDir; the caller stops the App.
func startAppIn(t *testing.T, dataDir string, cfg config.Config, roles app.Roles) *app.App {
	t.Helper()
	cfg.DataDir, cfg.HTTPAddr, cfg.Namespace = dataDir, "127.0.0.1:0", "default"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := app.Start(ctx, cfg, roles, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.WaitReady(ctx); err != nil {
		a.Stop()
		t.Fatal(err)
	}
	return a
}

// TestIntakeKilledAtEachStep stops intake at each of its steps, as a killed
// process would (after storing the task type snapshot, after storing the
// document, after starting its workflow), then starts countersign again on
// the same data: every stored document reaches its outcome with exactly one
// document.received; the one stored without its workflow is recovered, and
// its trail says so; the one never stored can be submitted again.
func TestIntakeKilledAtEachStep(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	roles := app.Roles{Embedded: true, Worker: true, API: true}
	first := startAppIn(t, dataDir, config.Config{}, roles)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			first.Stop()
		}
	})
	const taskType = "pii-extraction"
	content := sample(t, taskType, "claim-form-daniel-obrien.txt")
	steps := []struct {
		name, externalID string
		store            countersign.Store
		client           client.Client
		stored           bool // the document is in the store after the kill
		recovered        bool // only the reconciler can start its review
	}{
		{"after the task type snapshot", "kill-1", killedAfterCreate{Store: first.Store}, first.Temporal, false, false},
		{"after the document", "kill-2", killedAfterCreate{Store: first.Store, stored: true}, first.Temporal, true, true},
		{"before the workflow starts", "kill-3", first.Store, killedAtStart{Client: first.Temporal}, true, true},
		{"after the workflow started", "kill-4", first.Store, killedAtStart{Client: first.Temporal, started: true}, true, false},
	}
	for _, step := range steps {
		intake := &dispatch.Dispatcher{Temporal: step.client, Store: step.store, TaskTypes: first.TaskTypes,
			Resolver: tasktype.NewResolver(first.TaskTypes, first.Store), Now: anHourAgo}
		_, _, err := intake.Submit(ctx, dispatch.Submission{TaskType: taskType, ExternalID: step.externalID, Content: content,
			SubmittedBy: "sam", Channel: countersign.ChannelCLI})
		if !errors.Is(err, errKilled) {
			t.Fatalf("intake killed %s: %v, want it killed", step.name, err)
		}
	}
	first.Stop()
	stopped = true

	second := startAppIn(t, dataDir, config.Config{}, roles)
	t.Cleanup(second.Stop)
	admin := apiclient.New(second.APIURL, second.AdminToken)
	for _, step := range steps {
		id := countersign.DocumentID(taskType, step.externalID, content)
		if !step.stored {
			if _, err := admin.Document(ctx, id); status(err) != 404 {
				t.Fatalf("killed %s: document %v, want none stored", step.name, err)
			}
			// The caller had no answer, so it submits again.
			sub, err := admin.Submit(ctx, api.SubmitRequest{TaskType: taskType, ExternalID: step.externalID, Content: content})
			if err != nil || !sub.Created {
				t.Fatalf("killed %s: submitting again = %+v, %v", step.name, sub, err)
			}
		}
		waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		doc, err := admin.WaitFinal(waitCtx, id, 50*time.Millisecond)
		cancel()
		if err != nil || doc.Status != countersign.StatusAccepted {
			got := "none"
			if d, err := admin.Document(ctx, id); err == nil {
				got = string(d.Status)
			}
			t.Fatalf("killed %s: document %s is %s after the restart (%v), want accepted", step.name, id, got, err)
		}
		events, err := admin.Audit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		types := eventTypes(events)
		if n := eventCount(types, countersign.EventDocumentReceived); n != 1 {
			t.Fatalf("killed %s: %d document.received events, want 1: %v", step.name, n, types)
		}
		if got := eventCount(types, countersign.EventDocumentRecovered); got != boolInt(step.recovered) {
			t.Fatalf("killed %s: %d document.recovered events, want %d: %v", step.name, got, boolInt(step.recovered), types)
		}
		if step.recovered {
			if types[0] != countersign.EventDocumentRecovered || events[0].Actor != countersign.SystemActor || events[0].ID != reconcile.RecoveredEventID(id) {
				t.Fatalf("killed %s: trail starts with %+v, want the recovery by countersign", step.name, events[0])
			}
			// Its review starts as intake would have started it.
			if received := events[slices.Index(types, countersign.EventDocumentReceived)]; received.Actor != "sam" || received.Channel != countersign.ChannelCLI {
				t.Fatalf("killed %s: received by %s through %s, want sam through cli", step.name, received.Actor, received.Channel)
			}
		}
	}
	if report, err := admin.VerifyAudit(ctx); err != nil || !report.OK {
		t.Fatalf("audit after the restart: %+v, %v", report, err)
	}
}

// TestIntakeRecoveryByReplicas recovers the same documents with several
// reconcilers at once, as worker replicas do, after one stopped between
// recording a recovery and starting the workflow: each document gets one
// recovery event, one workflow run and one document.received. A caller
// submitting a recovered document again joins its review.
func TestIntakeRecoveryByReplicas(t *testing.T) {
	ctx := context.Background()
	a := startAppWith(t, config.Config{DatabaseURL: pgtest.Database(t), ReconcileInterval: time.Hour}, app.Roles{Embedded: true, Worker: true})
	const taskType = "pii-extraction"
	content := sample(t, taskType, "claim-form-daniel-obrien.txt")
	newDispatcher := func(c client.Client, s countersign.Store) *dispatch.Dispatcher {
		return &dispatch.Dispatcher{Temporal: c, Store: s, TaskTypes: a.TaskTypes, Resolver: tasktype.NewResolver(a.TaskTypes, a.Store), Now: anHourAgo}
	}
	var ids []string
	for i := range 8 {
		ext := "replica-" + string(rune('a'+i))
		if _, _, err := newDispatcher(a.Temporal, killedAfterCreate{Store: a.Store, stored: true}).Submit(ctx,
			dispatch.Submission{TaskType: taskType, ExternalID: ext, Content: content, SubmittedBy: "sam", Channel: countersign.ChannelAPI}); !errors.Is(err, errKilled) {
			t.Fatalf("interrupted intake: %v", err)
		}
		ids = append(ids, countersign.DocumentID(taskType, ext, content))
	}
	newReconciler := func(c client.Client) *reconcile.Reconciler {
		return &reconcile.Reconciler{Dispatch: newDispatcher(c, a.Store), Store: a.Store, Interval: time.Minute, Logger: quietLogger()}
	}

	// A replica dies after recording each recovery, before starting it.
	if err := newReconciler(killedAtStart{Client: a.Temporal}).RecoverIntake(ctx); !errors.Is(err, errKilled) {
		t.Fatalf("reconciler killed at the start: %v", err)
	}
	for _, id := range ids {
		if _, err := a.Temporal.DescribeWorkflowExecution(ctx, workflows.ReviewWorkflowID(id), ""); !workflowNotFound(err) {
			t.Fatalf("review of %s after the killed reconciler: %v, want none", id, err)
		}
	}
	// The caller of the first one submits it again meanwhile.
	if _, _, err := newDispatcher(a.Temporal, a.Store).Submit(ctx, dispatch.Submission{TaskType: taskType, ExternalID: "replica-a", Content: content, SubmittedBy: "sam", Channel: countersign.ChannelAPI}); err != nil {
		t.Fatalf("submitting a document whose recovery was recorded: %v", err)
	}

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = newReconciler(a.Temporal).RecoverIntake(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("reconcilers at once: %v", err)
	}

	for _, id := range ids {
		waitUntil(t, "document "+id+" accepted", func() (bool, string) {
			doc, err := a.Store.GetDocument(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return doc.Status == countersign.StatusAccepted, string(doc.Status)
		})
		events, err := a.Store.DocumentAudit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		types := eventTypes(events)
		if eventCount(types, countersign.EventDocumentRecovered) != 1 || eventCount(types, countersign.EventDocumentReceived) != 1 || types[0] != countersign.EventDocumentRecovered {
			t.Fatalf("trail of %s: %v, want one recovery first and one document.received", id, types)
		}
		runs, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowId = '" + workflows.ReviewWorkflowID(id) + "'"})
		if err != nil || len(runs.GetExecutions()) != 1 {
			t.Fatalf("runs of the review of %s: %d, %v; want 1", id, len(runs.GetExecutions()), err)
		}
	}
	if report, err := audit.Verify(ctx, a.Store); err != nil || !report.OK {
		t.Fatalf("audit: %+v, %v", report, err)
	}
}

func workflowNotFound(err error) bool {
	var notFound *serviceerror.NotFound
	return errors.As(err, &notFound)
}

func eventCount(types []string, t string) int {
	n := 0
	for _, typ := range types {
		if typ == t {
			n++
		}
	}
	return n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBulkSubmitKilled kills `countersign dev` with SIGKILL in the middle of
// a bulk `countersign submit`, and starts it again on the same data: with
// nobody submitting again, every document that was stored reaches its
// outcome with exactly one document.received, and the audit chain verifies.
func TestBulkSubmitKilled(t *testing.T) {
	bin := binary(t)
	dataDir := t.TempDir()
	ctx := context.Background()
	// The test reads every document back, faster than the API allows a token.
	args := []string{"--reconcile-interval", "2s", "--rate-limit", "0"}
	first := startDev(t, bin, dataDir, args...)

	const taskType, n = "pii-extraction", 300
	type item struct{ ext, content string }
	items := make([]item, n)
	var jsonl strings.Builder
	for i := range items {
		items[i] = item{fmt.Sprintf("bulk-%03d", i), fmt.Sprintf("From: Ann Lee <ann.lee%d@example.org>\nMy phone is 555-010-%04d.", i, i)}
		line, err := json.Marshal(map[string]string{"external_id": items[i].ext, "content": items[i].content})
		if err != nil {
			t.Fatal(err)
		}
		jsonl.Write(append(line, '\n'))
	}
	file := filepath.Join(t.TempDir(), "bulk.jsonl")
	if err := os.WriteFile(file, []byte(jsonl.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	answers, progress := &syncBuffer{}, &syncBuffer{}
	submit := exec.Command(bin, "submit", "--type", taskType, "--concurrency", "8", "--data-dir", dataDir, file)
	submit.Stdout, submit.Stderr = answers, progress
	if err := submit.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if submit.ProcessState == nil {
			submit.Process.Kill()
			submit.Wait()
		}
	})
	// Killed once some documents are in and most are still to come.
	waitUntil(t, "the first answers of the bulk submit", func() (bool, string) {
		return strings.Count(answers.String(), "\n") >= 20, progress.String()
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait() // startDev waits for it already: a second cmd.Wait can block for ever
	done := make(chan error, 1)
	go func() { done <- submit.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		submit.Process.Kill()
		<-done
	}
	answered := strings.Count(answers.String(), "\n")
	if answered >= n {
		t.Fatalf("the bulk submit ended before the kill: %d answers", answered)
	}

	second := startDev(t, bin, dataDir, args...)
	c := second.api
	var stored []string
	for _, it := range items {
		id := countersign.DocumentID(taskType, it.ext, it.content)
		if _, err := c.Document(ctx, id); status(err) == 404 {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, id)
	}
	// An activity that was running in the killed process is retried once
	// its start-to-close timeout passes (drafting: 5 minutes), so a document
	// caught mid-draft takes that long.
	processing := stored
	for deadline := time.Now().Add(6 * time.Minute); len(processing) > 0; time.Sleep(time.Second) {
		var still []string
		for _, id := range processing {
			doc, err := c.Document(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			switch doc.Status {
			case countersign.StatusProcessing:
				still = append(still, id)
			case countersign.StatusAccepted, countersign.StatusAwaitingReview:
			default:
				t.Fatalf("document %s is %s, want accepted or awaiting review", id, doc.Status)
			}
		}
		if processing = still; len(still) > 0 && time.Now().After(deadline) {
			events, _ := c.Audit(ctx, still[0])
			t.Fatalf("after the restart, %d documents still processing; the first, %s, has the trail %v; countersign dev says:\n%s",
				len(still), still[0], eventTypes(events), second.output)
		}
	}
	recovered := 0
	for _, id := range stored {
		events, err := c.Audit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		types := eventTypes(events)
		if eventCount(types, countersign.EventDocumentReceived) != 1 {
			t.Fatalf("document %s: trail %v, want one document.received", id, types)
		}
		recovered += eventCount(types, countersign.EventDocumentRecovered)
	}
	t.Logf("killed after %d of %d answers: %d documents stored, %d of them recovered", answered, n, len(stored), recovered)
	if len(stored) < answered {
		t.Fatalf("%d documents stored, but %d were answered", len(stored), answered)
	}
	if report, err := c.VerifyAudit(ctx); err != nil || !report.OK {
		t.Fatalf("audit after the restart: %+v, %v", report, err)
	}
}
