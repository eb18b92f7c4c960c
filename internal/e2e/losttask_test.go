package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/config"
)

// TestStepsAfterALostWorkflowTask: Score and Finalize run as local
// activities, in the workflow task that reaches them. When that task is
// lost after the step stored its result and recorded its event, Temporal
// runs the task again, and the step with it: Score maybe under another
// active calibration, Finalize given the workflow's clock read anew. The
// second run must answer with what the first stored: one event of each,
// a document decided when its event says, and a chain that holds. The
// task is lost by a workflow that panics once the step's first run has
// answered, which fails the task as a worker that died would leave it:
// not recorded.
func TestStepsAfterALostWorkflowTask(t *testing.T) {
	a := startAppWith(t, config.Config{TaskTypesDir: piiWithPolicy(t, benchPolicy)}, app.Roles{Embedded: true})
	lose := &loseTaskAfter{activities: []string{"Score", "Finalize"}}
	w, acts := pipelineWorker(t, a, "", sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{lose}})
	var mu sync.Mutex
	var ats []time.Time
	scores := 0
	w.RegisterActivityWithOptions(func(ctx context.Context, in activities.FinalizeInput) (*activities.FinalizeResult, error) {
		mu.Lock()
		ats = append(ats, in.At)
		mu.Unlock()
		return acts.Finalize(ctx, in)
	}, activity.RegisterOptions{Name: "Finalize", DisableAlreadyRegisteredCheck: true})
	w.RegisterActivityWithOptions(func(ctx context.Context, in activities.ScoreInput) (*activities.ScoreResult, error) {
		mu.Lock()
		scores++
		mu.Unlock()
		return acts.Score(ctx, in)
	}, activity.RegisterOptions{Name: "Score", DisableAlreadyRegisteredCheck: true})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	docID := submitPII(ctx, t, a, "")
	awaitAutoAccepted(ctx, t, a, docID)
	mu.Lock()
	runs, scored := append([]time.Time(nil), ats...), scores
	mu.Unlock()
	// On the auto-accept path one workflow task runs Score, the route and
	// Finalize: losing Finalize's task runs Score a third time.
	if lose.lost() != 2 || scored < 2 || len(runs) != 2 || !runs[1].After(runs[0]) {
		t.Fatalf("Score ran %d times, Finalize at %v, with %d workflow task(s) lost; want each run again, Finalize the second time with a later clock, after two lost tasks", scored, runs, lose.lost())
	}

	stored, err := a.Store.GetDocument(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != countersign.StatusAccepted || stored.Final == nil || !stored.Final.DecidedAt.Equal(runs[0]) {
		t.Fatalf("stored document %s, final %+v; want accepted, decided at %v (the first run's time)", stored.Status, stored.Final, runs[0])
	}
	events, err := a.Store.DocumentAudit(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	var finalized []countersign.AuditEvent
	counts := map[string]int{}
	for _, e := range events {
		counts[e.Type]++
		if e.Type == countersign.EventDocumentFinalized {
			finalized = append(finalized, e)
		}
	}
	if counts[countersign.EventConfidenceScored] != 1 || len(finalized) != 1 {
		t.Fatalf("events %v, want one confidence.scored and one document.finalized", counts)
	}
	var data struct {
		DecidedAt time.Time `json:"decided_at"`
	}
	if err := json.Unmarshal(finalized[0].Data, &data); err != nil || !data.DecidedAt.Equal(runs[0]) {
		t.Fatalf("document.finalized records decided_at %v (%v), want %v, as the document", data.DecidedAt, err, runs[0])
	}
	if report, err := audit.Verify(ctx, a.Store); err != nil || !report.OK {
		t.Fatalf("audit chain after the lost task: %+v, %v", report, err)
	}
}

// loseTaskAfter is a worker interceptor that loses the workflow task in
// which each of the named local activities first answers, in each
// workflow: the workflow panics as it reads the answer, so its worker
// fails the task and Temporal, which recorded nothing of it, schedules it
// again.
type loseTaskAfter struct {
	interceptor.WorkerInterceptorBase
	activities []string

	mu   sync.Mutex
	seen map[string]bool // workflow ID and activity whose task was lost
}

func (l *loseTaskAfter) lost() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

// first reports whether the workflow has not lost a task after the
// activity yet, and marks it.
func (l *loseTaskAfter) first(workflowID, activity string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	key := workflowID + " " + activity
	if l.seen[key] {
		return false
	}
	l.seen[key] = true
	return true
}

func (l *loseTaskAfter) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &loseInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, l: l}
}

type loseInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	l *loseTaskAfter
}

func (i *loseInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&loseOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, l: i.l})
}

type loseOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	l *loseTaskAfter
}

func (o *loseOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	f := o.Next.ExecuteLocalActivity(ctx, activityType, args...)
	if !slices.Contains(o.l.activities, activityType) || workflow.IsReplaying(ctx) {
		return f
	}
	return &losingFuture{Future: f, activity: activityType, lose: func() bool { return o.l.first(workflow.GetInfo(ctx).WorkflowExecution.ID, activityType) }}
}

// losingFuture panics, the first time, once its local activity answered.
type losingFuture struct {
	workflow.Future
	activity string
	lose     func() bool
}

func (f *losingFuture) Get(ctx workflow.Context, valuePtr any) error {
	err := f.Future.Get(ctx, valuePtr)
	if err == nil && f.lose() {
		panic(fmt.Sprintf("test: lose the workflow task in which %s answered", f.activity))
	}
	return err
}
