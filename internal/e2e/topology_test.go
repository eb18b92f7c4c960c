package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/devserver"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/worker"
	"github.com/countersign/countersign/workflows"
)

// The production topology on one machine, each part a process of the built
// binary configured by the environment alone: `countersign temporal` on
// Postgres, `countersign migrate`, two workers and two apis, with the
// variables of deploy/countersign.env and compose.yaml and only hosts,
// ports, database URLs and key files made this machine's. Faults are
// injected while it works; after each, every document must be where its
// decisions put it, with no audit event or decision twice, no review left
// undecidable, and the audit chain verifying.

// topologyEnv turns TestTopology on. It restarts PostgreSQL, which fails
// any other test using the server at that moment, so it runs alone: `make
// test-topology`, which .ci/run runs after `make test`.
const topologyEnv = "COUNTERSIGN_TOPOLOGY"

// pgRestartEnv, when set, is the shell command that restarts the PostgreSQL
// server of COUNTERSIGN_TEST_POSTGRES; by default pg_ctlcluster restarts
// the Debian cluster `.ci/run` starts.
const pgRestartEnv = "COUNTERSIGN_TOPOLOGY_PG_RESTART"

// topology is the running processes and what the test did through them.
type topology struct {
	temporalEnv, workerEnv, apiEnv map[string]string
	temporal                       *process
	workers                        [2]*process
	apis                           [2]*process
	apiAddrs                       [2]string
	admin, rita                    [2]*apiclient.Client
	// db is the owner's view of the store, for the checks.
	db *pgxpool.Pool
	// decided holds the action each review was decided with.
	decided map[string]countersign.Action
	mu      sync.Mutex
}

// TestTopology runs the scenarios of the one-machine topology in order,
// each on what the ones before left (see README, Production). It prints
// documents/s with one worker and with two, and the decision round trip.
func TestTopology(t *testing.T) {
	if os.Getenv(topologyEnv) == "" {
		t.Skipf("set %s=1 to run it (make test-topology): it restarts PostgreSQL, so it must run alone", topologyEnv)
	}
	began := time.Now()
	topo := startTopology(t)

	// 1 and 2: 500 documents of both task types through both APIs, 150 with
	// one worker, 150 with two, and 200 during which a worker is killed.
	one := topo.batch(t, "one-worker", 150, nil)
	topo.check(t, "150 documents, one worker")
	topo.workers[1] = topo.startWorker(t, 1)
	before := topo.cpu(t)
	two := topo.batch(t, "two-workers", 150, nil)
	usage := topo.cpu(t).since(before, two.elapsed)
	topo.check(t, "150 documents, two workers")
	killed := topo.batch(t, "worker-killed", 200, func(settled int) bool {
		if settled < 50 {
			return false
		}
		topo.workers[0].kill(t)
		return true
	})
	topo.check(t, "200 documents, a worker SIGKILLed after 50")
	topo.workers[0] = topo.startWorker(t, 0)

	// Decisions through both APIs, then with faults.
	reviews := topo.pending(t)
	if len(reviews) < 250 {
		t.Fatalf("%d reviews pending after 500 documents, want every contract and the audits", len(reviews))
	}
	// Two fifths decided as usual, then a fifth in each fault.
	fifth := len(reviews) / 5
	usual := topo.decide(t, reviews[:2*fifth], -1, nil)
	topo.check(t, "decisions through both APIs")

	restart := topo.decide(t, reviews[2*fifth:3*fifth], -1, &fault{after: fifth / 4, inject: restartPostgres})
	if restart.inFault == 0 {
		t.Fatal("no decision was under way while PostgreSQL restarted: the scenario tested nothing")
	}
	topo.check(t, fmt.Sprintf("decisions while PostgreSQL restarted (%d under way, %d retried with their Idempotency-Key)", restart.inFault, restart.retried))

	killAPI := topo.decide(t, reviews[3*fifth:4*fifth], 1, &fault{after: fifth / 4, inject: func() error {
		topo.apis[1].kill(t)
		return nil
	}})
	if killAPI.retried == 0 {
		t.Fatal("no decision was under way on api2 when it was killed: the scenario tested nothing")
	}
	topo.apis[1] = topo.startAPI(t, 1)
	topo.check(t, fmt.Sprintf("decisions to an api SIGKILLed in their midst (%d retried on the other api with their Idempotency-Key)", killAPI.retried))

	// The rest stay open while Temporal is SIGKILLed and started again;
	// with them, any review opened since the list was made (a gold item
	// slipped in as the last batch settled).
	topo.temporal.kill(t)
	topo.temporal = topo.startTemporal(t)
	topo.waitReady(t)
	rest := reviews[4*fifth:]
	for _, r := range topo.pending(t) {
		if !slices.ContainsFunc(rest, func(o countersign.Review) bool { return o.ID == r.ID }) {
			rest = append(rest, r)
		}
	}
	topo.decide(t, rest, -1, nil)
	topo.check(t, "reviews open while countersign temporal restarted, decided after")
	topo.checkDone(t)

	latencies := usual.latencies
	p50, p99 := percentile(latencies, 50), percentile(latencies, 99)
	t.Logf("topology: %.1f documents/s with one worker (%d in %s), %.1f with two (%d in %s)",
		one.rate(), one.n, one.elapsed.Round(time.Millisecond), two.rate(), two.n, two.elapsed.Round(time.Millisecond))
	t.Logf("topology: CPU during the two-worker batch, in cores: %s", usage)
	t.Logf("topology: decision round trip p50 %s, p99 %s (%d decisions through both APIs)",
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), len(latencies))
	t.Logf("topology: with a worker SIGKILLed after 50 of 200 documents, the other finished the batch %s after the kill",
		(killed.elapsed - killed.untilHook).Round(time.Millisecond))
	t.Logf("topology: %d reviews decided; the whole test took %s", len(topo.decided), time.Since(began).Round(time.Second))
}

// startTopology makes the databases and the keys, then starts countersign
// temporal, migrates the store, makes the admin and a reviewer, and starts
// both apis and the first worker.
func startTopology(t *testing.T) *topology {
	t.Helper()
	ctx := context.Background()
	temporalDB := pgtest.Database(t)
	u, err := url.Parse(temporalDB)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.DropAfter(t, strings.TrimPrefix(u.Path, "/")+devserver.VisibilitySuffix)
	owner := pgtest.Database(t)
	topo := &topology{decided: map[string]countersign.Action{}}

	env := readEnvFile(t, filepath.Join(deployDir, "countersign.env"))
	temporalAddr := freeAddr(t)
	_, temporalPort, _ := net.SplitHostPort(temporalAddr)
	topo.temporalEnv = plus(t, env, map[string]string{
		"COUNTERSIGN_TEMPORAL_DATABASE_URL": temporalDB,
		"COUNTERSIGN_TEMPORAL_PORT":         temporalPort,
		"COUNTERSIGN_DATA_DIR":              t.TempDir(),
	})
	topo.temporal = topo.startTemporal(t)

	// The roles run as countersign_app, which may read and append audit
	// events but not change them, the migrations as the owner.
	local := decisionKeys(t)
	local["COUNTERSIGN_TEMPORAL_ADDRESS"] = temporalAddr
	local["COUNTERSIGN_DATABASE_URL"] = asAppRole(t, owner)
	local["COUNTERSIGN_ENCRYPTION_KEY_FILE"] = writeKeys(t, "topology")
	topo.workerEnv = localized(t, deployEnv(t, "worker"), local)
	topo.apiEnv = localized(t, deployEnv(t, "api"), local)

	ownerEnv := localized(t, deployEnv(t, "token"), map[string]string{"COUNTERSIGN_DATABASE_URL": owner})
	run(t, ownerEnv, "migrate")
	words := strings.Fields(run(t, ownerEnv, "token", "create", "--user", "admin", "--role", "admin"))
	adminToken := words[len(words)-1]

	topo.apis[0] = topo.startAPI(t, 0)
	topo.apis[1] = topo.startAPI(t, 1)
	topo.workers[0] = topo.startWorker(t, 0)
	topo.waitReady(t)
	for i := range topo.apis {
		topo.admin[i] = apiclient.New(topo.apiURL(i), adminToken)
	}
	tok, err := topo.admin[0].CreateToken(ctx, "rita", countersign.RoleReviewer, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range topo.apis {
		topo.rita[i] = apiclient.New(topo.apiURL(i), tok.Secret)
	}
	topo.db, err = pgxpool.New(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.db.Close)
	return topo
}

// asAppRole is the owner's URL with the session switched to countersign_app.
func asAppRole(t *testing.T, owner string) string {
	t.Helper()
	u, err := url.Parse(owner)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-c role=countersign_app")
	u.RawQuery = q.Encode()
	return u.String()
}

func (topo *topology) startTemporal(t *testing.T) *process {
	t.Helper()
	p := startProcess(t, "temporal", topo.temporalEnv, "temporal")
	p.waitFor(t, "countersign temporal running", func() bool { return strings.Contains(p.output.String(), "countersign temporal is running") })
	return p
}

func (topo *topology) startAPI(t *testing.T, i int) *process {
	t.Helper()
	if topo.apiAddrs[i] == "" {
		topo.apiAddrs[i] = freeAddr(t)
	}
	env := maps.Clone(topo.apiEnv)
	env["COUNTERSIGN_HTTP"] = topo.apiAddrs[i]
	p := startProcess(t, fmt.Sprintf("api%d", i+1), env, "api")
	url := "http://" + env["COUNTERSIGN_HTTP"]
	p.waitFor(t, "/healthz at "+url, func() bool { return httpStatus(url+"/healthz") == http.StatusOK })
	return p
}

func (topo *topology) apiURL(i int) string { return "http://" + topo.apiAddrs[i] }

func (topo *topology) startWorker(t *testing.T, i int) *process {
	t.Helper()
	env := maps.Clone(topo.workerEnv)
	env["COUNTERSIGN_METRICS"] = freeAddr(t)
	p := startProcess(t, fmt.Sprintf("worker%d", i+1), env, "worker")
	metrics := "http://" + env["COUNTERSIGN_METRICS"] + "/metrics"
	p.waitFor(t, "the worker's metrics", func() bool { return httpStatus(metrics) == http.StatusOK })
	return p
}

// waitReady waits until both apis answer /readyz: their store answers and
// a worker polls.
func (topo *topology) waitReady(t *testing.T) {
	t.Helper()
	for i, p := range topo.apis {
		url := topo.apiURL(i) + "/readyz"
		p.waitFor(t, "/readyz 200", func() bool { return httpStatus(url) == http.StatusOK })
	}
}

// restartPostgres restarts the PostgreSQL server the test runs on.
func restartPostgres() error {
	command := os.Getenv(pgRestartEnv)
	if command == "" {
		versions, err := os.ReadDir("/etc/postgresql")
		if err != nil || len(versions) == 0 {
			return fmt.Errorf("no Debian PostgreSQL cluster to restart (%v): set %s to the command that restarts the server of %s", err, pgRestartEnv, pgtest.EnvAdminURL)
		}
		command = "pg_ctlcluster --skip-systemctl-redirect " + versions[len(versions)-1].Name() + " main restart"
	}
	if out, err := exec.Command("sh", "-c", command).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", command, err, out)
	}
	return nil
}

// batchResult is how long a batch took to settle.
type batchResult struct {
	n       int
	elapsed time.Duration
	// untilHook is when, from the batch's start, its hook acted.
	untilHook time.Duration
}

func (b batchResult) rate() float64 { return float64(b.n) / b.elapsed.Seconds() }

// batch submits n documents, the two example task types in turn, each
// sample of each in turn, through both APIs in turn (16 at a time), and
// waits until every document in the store is settled (see settled). hook,
// when set, is called with the number settled so far until it acts.
func (topo *topology) batch(t *testing.T, name string, n int, hook func(settled int) bool) batchResult {
	t.Helper()
	ctx := context.Background()
	samples := map[string][]string{}
	for _, taskType := range []string{"contract-review", "pii-extraction"} {
		files, err := filepath.Glob(filepath.Join("..", "..", "examples", taskType, "samples", "*.txt"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no samples of %s: %v", taskType, err)
		}
		for _, f := range files {
			samples[taskType] = append(samples[taskType], sample(t, taskType, filepath.Base(f)))
		}
	}
	var before int
	if err := topo.db.QueryRow(ctx, `SELECT count(*) FROM documents`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				taskType := []string{"contract-review", "pii-extraction"}[i%2]
				content := samples[taskType][(i/2)%len(samples[taskType])]
				req := api.SubmitRequest{TaskType: taskType, ExternalID: fmt.Sprintf("%s-%d", name, i), Content: fmt.Sprintf("%s\nReference: %s-%d\n", content, name, i)}
				if _, err := retry(ctx, func() error { _, err := topo.admin[i%2].Submit(ctx, req); return err }); err != nil {
					errs <- fmt.Errorf("submit %s through api%d: %w", req.ExternalID, i%2+1, err)
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var result batchResult
	deadline := time.Now().Add(10 * time.Minute)
	for {
		total, waiting := topo.settled(t)
		if hook != nil && hook(total-waiting-before) {
			result.untilHook = time.Since(start)
			hook = nil
		}
		if total >= before+n && waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch %s: %d of %d documents not settled after 10 minutes", name, waiting, total-before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	result.n, result.elapsed = n, time.Since(start)
	t.Logf("batch %s: %d documents settled in %s", name, n, result.elapsed.Round(time.Millisecond))
	return result
}

// settled counts the documents in the store and those not settled yet: a
// document is settled when it is no longer processing and, when its route
// asked for an audit, its audit review is open.
func (topo *topology) settled(t *testing.T) (total, waiting int) {
	t.Helper()
	err := topo.db.QueryRow(context.Background(), `
SELECT count(*),
       count(*) FILTER (WHERE d.status = 'processing'
           OR (d.route->>'outcome' = 'auto_accept_with_audit'
               AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.document_id = d.id AND r.kind = 'audit')))
FROM documents d`).Scan(&total, &waiting)
	if err != nil {
		t.Fatal(err)
	}
	return total, waiting
}

// retry calls f until it succeeds or fails with an answer that is not
// worth retrying: the API unreachable, a 5xx or a 429 are retried, for up
// to two minutes. It returns how many calls it took.
func retry(ctx context.Context, f func() error) (int, error) {
	deadline := time.Now().Add(2 * time.Minute)
	wait := 100 * time.Millisecond
	for calls := 1; ; calls++ {
		err := f()
		if err == nil || !retryable(err) || time.Now().After(deadline) {
			return calls, err
		}
		select {
		case <-ctx.Done():
			return calls, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func retryable(err error) bool {
	var apiErr *apiclient.Error
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500 || apiErr.Status == http.StatusTooManyRequests
	}
	return true // no answer: the API is down or the connection broke
}

// pending lists the pending reviews through the API, as the reviewer sees
// them, oldest first.
func (topo *topology) pending(t *testing.T) []countersign.Review {
	t.Helper()
	var all []countersign.Review
	cursor := ""
	for {
		page, err := topo.rita[0].Reviews(context.Background(), apiclient.ReviewQuery{Limit: 100, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Reviews...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// round is what a round of decisions came to.
type round struct {
	// latencies are the round trips of the decisions one call settled.
	latencies []time.Duration
	// retried counts the decisions that took more than one call.
	retried int
	// inFault counts the decisions under way while a fault was injected.
	inFault int
}

// fault is injected into a round of decisions once after of them are
// answered, while the others go on; inject returns once it is done.
type fault struct {
	after  int
	inject func() error
}

// decide posts one decision per review, 8 at a time, through api on (both
// in turn when on is -1), each with its own Idempotency-Key, retried with
// the same key until it is answered: on the same API while it answers, on
// the other when it does not. Audits are approved; of other reviews every
// fifth is rejected and the rest approved (rejected when the draft cannot
// be approved as it is).
func (topo *topology) decide(t *testing.T, reviews []countersign.Review, on int, f *fault) round {
	t.Helper()
	ctx := context.Background()
	type span struct{ from, to time.Time }
	var (
		done     atomic.Int64
		mu       sync.Mutex
		result   round
		spans    []span
		failures []error
	)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range jobs {
				r := reviews[i]
				first := on
				if first < 0 {
					first = i % 2
				}
				from := time.Now()
				action, calls, err := topo.decideOne(ctx, r, i, first)
				to := time.Now()
				mu.Lock()
				spans = append(spans, span{from, to})
				switch {
				case err != nil:
					failures = append(failures, fmt.Errorf("review %s: %w", r.ID, err))
				case calls == 1:
					result.latencies = append(result.latencies, to.Sub(from))
				case calls > 1:
					result.retried++
				}
				mu.Unlock()
				if err == nil {
					topo.mu.Lock()
					topo.decided[r.ID] = action
					topo.mu.Unlock()
				}
				done.Add(1)
			}
		})
	}
	var injected span
	faulted := make(chan error, 1)
	go func() {
		if f == nil {
			faulted <- nil
			return
		}
		for int(done.Load()) < f.after {
			time.Sleep(10 * time.Millisecond)
		}
		injected.from = time.Now()
		err := f.inject()
		injected.to = time.Now()
		faulted <- err
	}()
	for i := range reviews {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := <-faulted; err != nil {
		t.Fatal(err)
	}
	for _, err := range failures {
		t.Error(err)
	}
	if len(failures) > 0 {
		t.FailNow()
	}
	for _, s := range spans {
		if f != nil && s.from.Before(injected.to) && s.to.After(injected.from) {
			result.inFault++
		}
	}
	return result
}

// decideOne decides review r, the i-th of its round, starting on api first.
// It returns the action decided and the number of calls with the
// decision's key; 0 when the first action was refused with 422 and the
// other decided.
func (topo *topology) decideOne(ctx context.Context, r countersign.Review, i, first int) (countersign.Action, int, error) {
	req := api.DecisionRequest{Action: countersign.ActionApprove}
	if r.Kind != countersign.ReviewAudit && i%5 == 4 {
		req = api.DecisionRequest{Action: countersign.ActionReject, Reason: "rejected by the topology test"}
	}
	key := "topology-" + r.ID
	via := first
	calls, err := retry(ctx, func() error {
		_, err := topo.rita[via].DecideOnce(ctx, r.ID, key, req)
		if err != nil && status(err) == 0 {
			via = 1 - via // no answer: the other API
		}
		return err
	})
	if status(err) == http.StatusUnprocessableEntity && req.Action == countersign.ActionApprove {
		req = api.DecisionRequest{Action: countersign.ActionReject, Reason: "the draft cannot be approved as it is"}
		_, err = retry(ctx, func() error {
			_, err := topo.rita[via].DecideOnce(ctx, r.ID, key+"-reject", req)
			if err != nil && status(err) == 0 {
				via = 1 - via
			}
			return err
		})
		calls = 0
	}
	return req.Action, calls, err
}

// check holds the store to what the test did, after a scenario: every
// document settled where its decisions put it, each logged step of a
// document once, each review opened and decided once, and the audit chain
// verifying on both APIs.
func (topo *topology) check(t *testing.T, scenario string) {
	t.Helper()
	ctx := context.Background()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: "+format, append([]any{scenario}, args...)...)
	}
	// After PostgreSQL restarted, the pool's connections are gone.
	topo.db.Reset()
	if _, err := retry(ctx, func() error { return topo.db.Ping(ctx) }); err != nil {
		t.Fatal(err)
	}
	// Rows the test reads: every document with its status, and each of its
	// reviews with its kind, status and decisions.
	rows, err := topo.db.Query(ctx, `
SELECT d.id, d.status, coalesce(r.id, ''), coalesce(r.kind, ''), coalesce(r.status, ''),
       (SELECT count(*) FROM decisions x WHERE x.review_id = r.id),
       coalesce((SELECT min(x.action) FROM decisions x WHERE x.review_id = r.id), '')
FROM documents d LEFT JOIN reviews r ON r.document_id = d.id
ORDER BY d.id, r.id`)
	if err != nil {
		t.Fatal(err)
	}
	type reviewRow struct {
		id, kind, status, action string
		decisions                int
	}
	docs := map[string]string{}
	reviewsOf := map[string][]reviewRow{}
	for rows.Next() {
		var doc, docStatus string
		var r reviewRow
		if err := rows.Scan(&doc, &docStatus, &r.id, &r.kind, &r.status, &r.decisions, &r.action); err != nil {
			t.Fatal(err)
		}
		docs[doc] = docStatus
		if r.id != "" {
			reviewsOf[doc] = append(reviewsOf[doc], r)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	topo.mu.Lock()
	decided := maps.Clone(topo.decided)
	topo.mu.Unlock()
	for doc, docStatus := range docs {
		want := countersign.StatusAccepted // auto-accepted, or approved
		for _, r := range reviewsOf[doc] {
			action, ours := decided[r.id]
			switch {
			case r.status == string(countersign.ReviewPending):
				if ours {
					fail("review %s is pending after the test's decision %s was answered", r.id, action)
				}
				if r.decisions != 0 {
					fail("review %s is pending with %d decisions", r.id, r.decisions)
				}
				if r.kind != string(countersign.ReviewAudit) {
					want = countersign.StatusAwaitingReview
				}
			case !ours:
				fail("review %s is %s, and the test did not decide it", r.id, r.status)
			case r.decisions != 1 || r.action != string(action):
				fail("review %s has %d decisions (%s), want the test's one, %s", r.id, r.decisions, r.action, action)
			case action == countersign.ActionReject:
				want = countersign.StatusRejected
			}
		}
		if docStatus != string(want) {
			fail("document %s is %s, want %s (reviews %+v)", doc, docStatus, want, reviewsOf[doc])
		}
	}

	// Each step of a document's pipeline logged once; each review opened
	// and each decision recorded once.
	var dup string
	err = topo.db.QueryRow(ctx, `
SELECT coalesce(string_agg(document_id || ' ' || type || ' x' || n, ', '), '') FROM (
  SELECT document_id, CASE WHEN type LIKE 'draft.%' THEN 'draft' ELSE type END AS type, count(*) AS n
  FROM audit_events
  WHERE type IN ('document.received', 'draft.created', 'draft.failed', 'confidence.scored', 'route.decided', 'document.finalized')
  GROUP BY 1, 2 HAVING count(*) > 1
  UNION ALL
  SELECT document_id, type, count(*) - (SELECT count(*) FROM reviews r WHERE r.document_id = e.document_id)
  FROM audit_events e WHERE type = 'review.opened'
  GROUP BY 1, 2 HAVING count(*) <> (SELECT count(*) FROM reviews r WHERE r.document_id = e.document_id)
  UNION ALL
  SELECT document_id, type, count(*) - (SELECT count(*) FROM decisions x WHERE x.document_id = e.document_id)
  FROM audit_events e WHERE type = 'decision.recorded'
  GROUP BY 1, 2 HAVING count(*) <> (SELECT count(*) FROM decisions x WHERE x.document_id = e.document_id)
) d`).Scan(&dup)
	if err != nil {
		t.Fatal(err)
	}
	if dup != "" {
		fail("audit events logged more (or fewer) times than their steps ran: %s", dup)
	}
	for i := range topo.admin {
		report, err := topo.admin[i].VerifyAudit(ctx)
		if err != nil || !report.OK {
			fail("audit verify on api%d: %+v, %v", i+1, report, err)
		}
	}
	t.Logf("%s: %d documents where their decisions put them, %d reviews decided, audit verified", scenario, len(docs), len(decided))
}

// checkDone: nothing left pending, in the store or in Temporal.
func (topo *topology) checkDone(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var pending, open int
	if err := topo.db.QueryRow(ctx, `SELECT (SELECT count(*) FROM reviews WHERE status = 'pending'),
       (SELECT count(*) FROM documents WHERE status NOT IN ('accepted', 'rejected'))`).Scan(&pending, &open); err != nil {
		t.Fatal(err)
	}
	if pending != 0 || open != 0 {
		t.Fatalf("after every decision: %d reviews pending, %d documents not final", pending, open)
	}
	namespace := topo.workerEnv["COUNTERSIGN_NAMESPACE"]
	c, err := worker.Dial(ctx, worker.ClientOptions{Address: topo.workerEnv["COUNTERSIGN_TEMPORAL_ADDRESS"], Namespace: namespace, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	query := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", workflows.ReviewWorkflowType)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: query})
		if err == nil && len(resp.Executions) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var ids []string
			if resp != nil {
				for _, e := range resp.Executions {
					ids = append(ids, e.Execution.WorkflowId)
				}
			}
			t.Fatalf("review workflows still running in Temporal after every decision: %v, %v", ids, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// percentile is the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

// cpuSample is the CPU time used so far by each process of the topology and
// by the whole machine, in seconds.
type cpuSample struct {
	processes map[string]float64
	machine   float64
}

// clockTicks is USER_HZ, the unit of /proc's CPU times on Linux.
const clockTicks = 100

func (topo *topology) cpu(t *testing.T) cpuSample {
	t.Helper()
	s := cpuSample{processes: map[string]float64{}}
	for _, p := range append([]*process{topo.temporal}, append(topo.workers[:], topo.apis[:]...)...) {
		if p == nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		// Fields after the command's closing parenthesis; utime and stime
		// are the 14th and 15th of the whole line.
		fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		var utime, stime float64
		fmt.Sscan(fields[11], &utime)
		fmt.Sscan(fields[12], &stime)
		s.processes[p.name] = (utime + stime) / clockTicks
	}
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	// cpu  user nice system idle iowait irq softirq steal: all but idle and
	// iowait are busy.
	fields := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])[1:]
	for i, f := range fields[:min(len(fields), 8)] {
		var v float64
		fmt.Sscan(f, &v)
		if i != 3 && i != 4 {
			s.machine += v / clockTicks
		}
	}
	return s
}

// cpuUse is CPU used over a span, in cores (1 = one core all along).
type cpuUse struct {
	processes map[string]float64
	machine   float64
	cores     int
}

func (s cpuSample) since(before cpuSample, elapsed time.Duration) cpuUse {
	u := cpuUse{processes: map[string]float64{}, machine: (s.machine - before.machine) / elapsed.Seconds(), cores: runtime.NumCPU()}
	for name, v := range s.processes {
		u.processes[name] = (v - before.processes[name]) / elapsed.Seconds()
	}
	return u
}

func (u cpuUse) String() string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(u.processes)) {
		parts = append(parts, fmt.Sprintf("%s %.2f", name, u.processes[name]))
	}
	return fmt.Sprintf("%s; the machine %.2f of %d (PostgreSQL, this test and anything else running)", strings.Join(parts, ", "), u.machine, u.cores)
}
