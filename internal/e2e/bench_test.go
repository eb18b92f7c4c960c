package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/starter"
	"github.com/countersign/countersign/workflows"
)

// pipelineActivities is how many activities the auto-accept path runs:
// receive, extract, score, record route, finalize, deliver.
const pipelineActivities = 6

const bareQueue = "bench-bare"

// bareWorkflow is the baseline: the same number of activities, doing nothing.
func bareWorkflow(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range n {
		if err := workflow.ExecuteActivity(ctx, "Noop").Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noop(context.Context) error { return nil }

// BenchmarkPipelineVsBare measures documents per second through the whole
// auto-accept pipeline (rules extractor, SQLite store, audit chain) and, on
// the same embedded server in the same run, bare workflows running the same
// number of no-op activities. The ratio is the pipeline's share of the bare
// throughput.
func BenchmarkPipelineVsBare(b *testing.B) {
	// Without audits: an audited document's workflow waits for its auditor.
	a := startAppWith(b, config.Config{TaskTypesDir: piiWithPolicy(b, benchPolicy)}, app.Roles{Embedded: true, Worker: true})
	bare := sdkworker.New(a.Temporal, bareQueue, sdkworker.Options{})
	bare.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: "BareWorkflow"})
	bare.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: "Noop"})
	if err := bare.Start(); err != nil {
		b.Fatal(err)
	}
	defer bare.Stop()
	intake := &starter.Starter{Client: a.Temporal, Store: a.Store, TaskTypes: a.TaskTypes, Resolver: tasktype.NewResolver(a.TaskTypes, a.Store)}
	content := sample(b, "pii-extraction", "email-maria-gonzalez.txt")
	run := time.Now().UnixNano()
	const concurrency = 16

	pipelineRound := func(ctx context.Context, i int) error {
		doc, _, err := intake.Submit(ctx, starter.Submission{
			TaskType: "pii-extraction", Content: fmt.Sprintf("%s\nReference: %d-%d\n", content, run, i),
			SubmittedBy: "bench", Channel: countersign.ChannelAPI,
		})
		if err != nil {
			return err
		}
		var result workflows.ReviewResult
		if err := a.Temporal.GetWorkflow(ctx, workflows.ReviewWorkflowID(doc.ID), "").Get(ctx, &result); err != nil {
			return err
		}
		if result.Outcome != countersign.OutcomeAutoAccept {
			return fmt.Errorf("document %d went to %s, not auto_accept", i, result.Outcome)
		}
		return nil
	}
	bareRound := func(ctx context.Context, i int) error {
		wr, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bare/%d/%d", run, i), TaskQueue: bareQueue}, "BareWorkflow", pipelineActivities)
		if err != nil {
			return err
		}
		return wr.Get(ctx, nil)
	}

	// Alternate rounds of each, switching which goes first, so that neither
	// gains from running on a smaller or warmer database.
	b.ResetTimer()
	var pipeline, baseline time.Duration
	for from, round := 0, 0; from < b.N; from, round = from+benchRound, round+1 {
		n := min(benchRound, b.N-from)
		if round%2 == 0 {
			pipeline += timeParallel(b, from, n, concurrency, pipelineRound)
			baseline += timeParallel(b, from, n, concurrency, bareRound)
		} else {
			baseline += timeParallel(b, from, n, concurrency, bareRound)
			pipeline += timeParallel(b, from, n, concurrency, pipelineRound)
		}
	}
	b.StopTimer()

	docsPerSec := float64(b.N) / pipeline.Seconds()
	barePerSec := float64(b.N) / baseline.Seconds()
	b.ReportMetric(docsPerSec, "docs/s")
	b.ReportMetric(barePerSec, "bare-wf/s")
	b.ReportMetric(docsPerSec/barePerSec, "ratio")
	b.Logf("%d documents: pipeline %.1f docs/s, bare workflow with %d no-op activities %.1f wf/s, ratio %.2f",
		b.N, docsPerSec, pipelineActivities, barePerSec, docsPerSec/barePerSec)
}

// benchPolicy auto-accepts confident documents with no audit sample.
const benchPolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.9
  review_due: 24h
`

// benchRound is how many of each kind run before switching to the other.
const benchRound = 32

// timeParallel runs fn for from..from+n-1 with the given concurrency and
// returns the wall time it took.
func timeParallel(b *testing.B, from, n, concurrency int, fn func(ctx context.Context, i int) error) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for i := range jobs {
				if err := fn(ctx, i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		jobs <- from + i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return elapsed
}
