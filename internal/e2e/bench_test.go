package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
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
	"github.com/countersign/countersign/internal/devserver"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/tasktype"
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
	rig := newBenchRig(b, "")
	const concurrency = 16

	// Alternate rounds of each, switching which goes first, so that neither
	// gains from running on a smaller or warmer database.
	b.ResetTimer()
	var pipeline, baseline time.Duration
	for from, round := 0, 0; from < b.N; from, round = from+benchRound, round+1 {
		n := min(benchRound, b.N-from)
		if round%2 == 0 {
			pipeline += timeParallel(b, from, n, concurrency, rig.pipeline)
			baseline += timeParallel(b, from, n, concurrency, rig.bare)
		} else {
			baseline += timeParallel(b, from, n, concurrency, rig.bare)
			pipeline += timeParallel(b, from, n, concurrency, rig.pipeline)
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

// BenchmarkTemporalPostgresVsSQLite measures the embedded Temporal server on
// Postgres (countersign dev --temporal-database-url) against the same server
// on SQLite, both in this process at once, in the same run: documents per
// second through the auto-accept pipeline and bare workflows on each, the
// countersign store SQLite on both so that only Temporal's storage differs.
// Rounds rotate over the four, so none gains from going first.
func BenchmarkTemporalPostgresVsSQLite(b *testing.B) {
	temporalDB := pgtest.Database(b)
	u, err := url.Parse(temporalDB)
	if err != nil {
		b.Fatal(err)
	}
	pgtest.DropAfter(b, strings.TrimPrefix(u.Path, "/")+devserver.VisibilitySuffix)
	onPostgres, onSQLite := newBenchRig(b, temporalDB), newBenchRig(b, "")
	const concurrency = 16
	runs := []func(context.Context, int) error{onPostgres.pipeline, onSQLite.pipeline, onPostgres.bare, onSQLite.bare}
	took := make([]time.Duration, len(runs))

	b.ResetTimer()
	for from, round := 0, 0; from < b.N; from, round = from+benchRound, round+1 {
		n := min(benchRound, b.N-from)
		for k := range runs {
			j := (k + round) % len(runs)
			took[j] += timeParallel(b, from, n, concurrency, runs[j])
		}
	}
	b.StopTimer()

	rate := func(d time.Duration) float64 { return float64(b.N) / d.Seconds() }
	pgDocs, sqliteDocs, pgBare, sqliteBare := rate(took[0]), rate(took[1]), rate(took[2]), rate(took[3])
	b.ReportMetric(pgDocs, "pg-docs/s")
	b.ReportMetric(sqliteDocs, "sqlite-docs/s")
	b.ReportMetric(pgBare, "pg-bare-wf/s")
	b.ReportMetric(sqliteBare, "sqlite-bare-wf/s")
	b.ReportMetric(pgDocs/sqliteDocs, "docs-ratio")
	b.ReportMetric(pgBare/sqliteBare, "bare-ratio")
	b.Logf("%d each: Temporal on Postgres %.1f docs/s and %.1f bare wf/s, on SQLite %.1f docs/s and %.1f bare wf/s; Postgres/SQLite %.2f (documents), %.2f (bare)",
		b.N, pgDocs, pgBare, sqliteDocs, sqliteBare, pgDocs/sqliteDocs, pgBare/sqliteBare)
}

// benchRig is an embedded stack with a worker for bare workflows beside
// countersign's, and a round of each kind of work.
type benchRig struct {
	pipeline, bare func(ctx context.Context, i int) error
}

// newBenchRig starts the embedded stack, its Temporal on SQLite or, with a
// URL, on Postgres.
func newBenchRig(b *testing.B, temporalDatabaseURL string) benchRig {
	// Without audits: an audited document's workflow waits for its auditor.
	a := startAppWith(b, config.Config{TaskTypesDir: piiWithPolicy(b, benchPolicy), TemporalDatabaseURL: temporalDatabaseURL}, app.Roles{Embedded: true, Worker: true})
	bare := sdkworker.New(a.Temporal, bareQueue, sdkworker.Options{})
	bare.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: "BareWorkflow"})
	bare.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: "Noop"})
	if err := bare.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bare.Stop)
	intake := &dispatch.Dispatcher{Temporal: a.Temporal, Store: a.Store, TaskTypes: a.TaskTypes, Resolver: tasktype.NewResolver(a.TaskTypes, a.Store)}
	content := sample(b, "pii-extraction", "email-maria-gonzalez.txt")
	run := time.Now().UnixNano()
	return benchRig{
		pipeline: func(ctx context.Context, i int) error {
			doc, _, err := intake.Submit(ctx, dispatch.Submission{
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
		},
		bare: func(ctx context.Context, i int) error {
			wr, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bare/%d/%d", run, i), TaskQueue: bareQueue}, "BareWorkflow", pipelineActivities)
			if err != nil {
				return err
			}
			return wr.Get(ctx, nil)
		},
	}
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
