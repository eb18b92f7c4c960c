package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/devserver"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/workflows"
)

// pipelineActivities is how many activities the auto-accept path ran
// before its store steps became local activities: receive, extract,
// score, record route, finalize, deliver. Extract and deliver are
// activities still.
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
// the same embedded server in the same run, bare workflows running one
// no-op activity (the least a workflow that does any work costs: the
// limit) and six (as many as the pipeline ran as activities before its
// store steps became local). The ratios are the pipeline's share of each
// bare throughput.
func BenchmarkPipelineVsBare(b *testing.B) {
	rig := newBenchRig(b, "")
	const concurrency = 16

	b.ResetTimer()
	rates := ratesInRotation(b, concurrency, rig.pipeline, rig.bareWith(1), rig.bareWith(pipelineActivities))
	b.StopTimer()
	docs, bare1, bare6 := rates[0], rates[1], rates[2]
	b.ReportMetric(docs, "docs/s")
	b.ReportMetric(bare1, "bare1-wf/s")
	b.ReportMetric(bare6, "bare6-wf/s")
	b.ReportMetric(docs/bare1, "ratio-1")
	b.ReportMetric(docs/bare6, "ratio-6")
	b.Logf("%d each: pipeline %.1f docs/s; bare workflow with 1 no-op activity %.1f wf/s (ratio %.2f), with %d %.1f wf/s (ratio %.2f)",
		b.N, docs, bare1, docs/bare1, pipelineActivities, bare6, docs/bare6)
}

// BenchmarkDecisionVsUpdate measures a REST decision's round trip (POST
// /v1/reviews/{id}/decision, an approval that settles the review: the API
// signs it, sends the decision update, and answers once the document is
// final) against a bare Update on the same server that runs no activity
// (the limit), one at a time, in alternating rounds. It reports p50 and
// p99 of each and their ratios.
func BenchmarkDecisionVsUpdate(b *testing.B) {
	// A zero rate limit is none: the decisions come one after another.
	a := startAppWith(b, config.Config{}, app.Roles{Embedded: true, Worker: true, API: true})
	bare := sdkworker.New(a.Temporal, bareQueue, sdkworker.Options{})
	bare.RegisterWorkflowWithOptions(bareUpdateWorkflow, workflow.RegisterOptions{Name: "BareUpdateWorkflow"})
	if err := bare.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bare.Stop)
	u := newUsers(b, a)
	ctx := context.Background()
	content := sample(b, "contract-review", "nda-blueheron-cedarridge.txt")
	run := time.Now().UnixNano()

	// Park every review first: the decisions are timed, the parking not.
	reviews := make([]string, b.N)
	for i := range b.N {
		sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: fmt.Sprintf("%s\nFile %d-%d.\n", content, run, i)})
		if err != nil {
			b.Fatal(err)
		}
		reviews[i] = countersign.ReviewID(sub.ID, 1)
	}
	for _, id := range reviews {
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			if r, err := a.Store.GetReview(ctx, id); err == nil && r.Status == countersign.ReviewPending {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("review %s not open after two minutes", id)
			}
		}
	}
	wr, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bare-update/%d", run), TaskQueue: bareQueue}, "BareUpdateWorkflow")
	if err != nil {
		b.Fatal(err)
	}

	decide := func(i int) error {
		d, err := u.reviewer.Decide(ctx, reviews[i], api.DecisionRequest{Action: countersign.ActionApprove})
		if err == nil && d.Document.Status != countersign.StatusAccepted {
			err = fmt.Errorf("review %s approved: document %s, want accepted", reviews[i], d.Document.Status)
		}
		return err
	}
	update := func(int) error {
		h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: wr.GetID(), UpdateName: "touch", WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			return err
		}
		return h.Get(ctx, nil)
	}
	var decisions, updates []time.Duration
	b.ResetTimer()
	for from, round := 0, 0; from < b.N; from, round = from+benchRound, round+1 {
		for k := range 2 {
			for i := from; i < min(from+benchRound, b.N); i++ {
				start := time.Now()
				if (round+k)%2 == 0 {
					if err := decide(i); err != nil {
						b.Fatal(err)
					}
					decisions = append(decisions, time.Since(start))
				} else {
					if err := update(i); err != nil {
						b.Fatal(err)
					}
					updates = append(updates, time.Since(start))
				}
			}
		}
	}
	b.StopTimer()
	slices.Sort(decisions)
	slices.Sort(updates)
	pct := func(d []time.Duration, p int) time.Duration { return d[(len(d)-1)*p/100] }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(pct(decisions, 50)), "decision-p50-ms")
	b.ReportMetric(ms(pct(decisions, 99)), "decision-p99-ms")
	b.ReportMetric(ms(pct(updates, 50)), "update-p50-ms")
	b.ReportMetric(ms(pct(updates, 99)), "update-p99-ms")
	b.ReportMetric(float64(pct(decisions, 50))/float64(pct(updates, 50)), "ratio-p50")
	b.ReportMetric(float64(pct(decisions, 99))/float64(pct(updates, 99)), "ratio-p99")
	b.Logf("%d each: REST decision p50 %.1f ms p99 %.1f ms; bare Update p50 %.1f ms p99 %.1f ms; ratios %.2f (p50), %.2f (p99)",
		b.N, ms(pct(decisions, 50)), ms(pct(decisions, 99)), ms(pct(updates, 50)), ms(pct(updates, 99)),
		float64(pct(decisions, 50))/float64(pct(updates, 50)), float64(pct(decisions, 99))/float64(pct(updates, 99)))
}

// bareUpdateWorkflow answers the update "touch" at once, running nothing,
// and lives until cancelled.
func bareUpdateWorkflow(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandler(ctx, "touch", func(workflow.Context) error { return nil }); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return false })
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

	b.ResetTimer()
	rates := ratesInRotation(b, concurrency, onPostgres.pipeline, onSQLite.pipeline, onPostgres.bare, onSQLite.bare)
	b.StopTimer()
	pgDocs, sqliteDocs, pgBare, sqliteBare := rates[0], rates[1], rates[2], rates[3]
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
	// bareWith is bare with n no-op activities.
	bareWith func(n int) func(ctx context.Context, i int) error
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
	bareWith := func(n int) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			wr, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bare/%d/%d/%d", run, n, i), TaskQueue: bareQueue}, "BareWorkflow", n)
			if err != nil {
				return err
			}
			return wr.Get(ctx, nil)
		}
	}
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
		bare:     bareWith(pipelineActivities),
		bareWith: bareWith,
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

// ratesInRotation runs b.N of each of runs, benchRound at a time with the
// given concurrency, in rounds that rotate which goes first, so that none
// gains from running on a smaller or warmer database; it returns the rate
// per second of each.
func ratesInRotation(b *testing.B, concurrency int, runs ...func(context.Context, int) error) []float64 {
	took := make([]time.Duration, len(runs))
	for from, round := 0, 0; from < b.N; from, round = from+benchRound, round+1 {
		n := min(benchRound, b.N-from)
		for k := range runs {
			j := (round + k) % len(runs)
			took[j] += timeParallel(b, from, n, concurrency, runs[j])
		}
	}
	rates := make([]float64, len(runs))
	for i, d := range took {
		rates[i] = float64(b.N) / d.Seconds()
	}
	return rates
}

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
