package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
)

// scaleEnv names the variable that runs TestScaleRun: how many reviews to
// park.
const scaleEnv = "COUNTERSIGN_SCALE"

// TestScaleRun parks reviews in `countersign dev`, run as its own process
// as a user runs it, through the REST API, and reads at 1,000, 10,000,
// 25,000, 50,000 and 100,000 open reviews (those of them not above the
// number asked for, and that number itself; each checkpoint is logged as it
// is read, so a run stopped early still tells how far it got): the submit rate, the process's resident memory, the
// data directory's size per document, and the p50 and p99 latency of the
// first page of GET /v1/reviews, of the web queue's rows and of the CLI's
// `countersign-cli reviews` (the client binary, a process each time, as a
// person runs it). Then
// it decides 1,000 reviews (or half of those open, if fewer) through the
// API, interleaved with bare Updates of a workflow that runs no activity
// on the same Temporal server, and prints both and their ratio. Not in CI:
// `make bench-scale` (docs/operations.md: One machine, many open reviews).
func TestScaleRun(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(scaleEnv))
	if n <= 0 {
		t.Skipf("set %s to the number of reviews to park (make bench-scale)", scaleEnv)
	}
	bin := binary(t)
	cli := clientBinary(t)
	content := sample(t, "contract-review", "msa-northwind-harbor.txt")
	dir := t.TempDir()
	p := startDev(t, bin, dir, "--rate-limit", "0")
	ctx := context.Background()
	tok, err := p.api.CreateToken(ctx, "rita", countersign.RoleReviewer, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rita := apiclient.New(p.api.BaseURL, tok.Secret)

	var checkpoints []int
	for _, c := range []int{1000, 10000, 25000, 50000, 100000} {
		if c < n {
			checkpoints = append(checkpoints, c)
		}
	}
	checkpoints = append(checkpoints, n)

	type row struct {
		open                  int
		submitted             float64 // reached their review, per second since the previous checkpoint
		rssMiB, kibPerDoc     float64
		list, queue, cli      [2]time.Duration // p50, p99
		temporalMiB, storeMiB float64
	}
	var rows []row
	var next atomic.Int64
	began, prevOpen := time.Now(), 0
	for _, target := range checkpoints {
		lastID := submitCopies(t, p.api, &next, target, "scale", content)
		// The last document submitted is about the last to park; then
		// count every open review once.
		waitStatus(t, p.api, lastID, countersign.StatusAwaitingReview)
		open := waitOpen(t, p.api, target)
		r := row{open: open, submitted: float64(open-prevOpen) / time.Since(began).Seconds(), rssMiB: rss(t, p.cmd.Process.Pid)}
		temporal, store, total := dataSizes(t, dir)
		r.temporalMiB, r.storeMiB, r.kibPerDoc = temporal/(1<<20), store/(1<<20), total/1024/float64(open)
		r.list = timeIt(t, 50, func() error {
			_, err := rita.Reviews(ctx, apiclient.ReviewQuery{Limit: 50})
			return err
		})
		r.queue = timeIt(t, 50, func() error { return webQueue(p.api.BaseURL, tok.Secret) })
		r.cli = timeIt(t, 20, func() error {
			out, err := exec.Command(cli, "reviews", "--server", p.api.BaseURL, "--token", tok.Secret).CombinedOutput()
			if err != nil {
				return fmt.Errorf("countersign-cli reviews: %w: %s", err, out)
			}
			return nil
		})
		t.Logf("%d open: %.1f parked/s, RSS %.0f MiB, %.1f KiB per document; list p99 %v, web queue p99 %v, CLI p99 %v",
			open, r.submitted, r.rssMiB, r.kibPerDoc, r.list[1], r.queue[1], r.cli[1])
		rows = append(rows, r)
		began, prevOpen = time.Now(), open
	}

	decisions, updates := decideAgainstBareUpdates(t, dir, rita, max(1, min(1000, rows[len(rows)-1].open/2)))
	if len(decisions) == 0 {
		t.Fatal("no review to decide")
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\nOpen reviews in `countersign dev` (SQLite, its own process), through the REST API:\n")
	fmt.Fprintf(&b, "%8s %10s %8s %10s %10s %10s %22s %22s %22s\n", "open", "parked/s", "RSS MiB", "KiB/doc", "Temporal", "store", "GET /v1/reviews p50/99", "web queue p50/99", "CLI reviews p50/99")
	for _, r := range rows {
		fmt.Fprintf(&b, "%8d %10.1f %8.0f %10.1f %7.0f MiB %6.0f MiB %22s %22s %22s\n", r.open, r.submitted, r.rssMiB, r.kibPerDoc, r.temporalMiB, r.storeMiB,
			pair(r.list), pair(r.queue), pair(r.cli))
	}
	fmt.Fprintf(&b, "%d decisions at %d open: REST decision p50/p99 %s, bare Update p50/p99 %s; ratios %.2f (p50), %.2f (p99)\n",
		len(decisions), rows[len(rows)-1].open, pair(percentiles(decisions)), pair(percentiles(updates)),
		float64(percentiles(decisions)[0])/float64(percentiles(updates)[0]), float64(percentiles(decisions)[1])/float64(percentiles(updates)[1]))
	fmt.Fprintf(&b, "RSS after the decisions: %.0f MiB\n", rss(t, p.cmd.Process.Pid))
	t.Log(b.String())
}

// clientBinary builds the client binary, countersign-cli, as make build
// does: the client commands without the server roles.
var clientBinary = func() func(t *testing.T) string {
	build := sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "countersign-cli-bin")
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, "countersign-cli")
		if out, err := exec.Command("go", "build", "-tags", "clientonly", "-o", path, "../../cmd/countersign").CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build -tags clientonly: %v\n%s", err, out)
		}
		return path, nil
	})
	return func(t *testing.T) string {
		t.Helper()
		path, err := build()
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
}()

// decideAgainstBareUpdates approves the k oldest open reviews through the
// API and, one for one in between, sends a bare Update to a workflow that
// runs no activity, on the dev process's Temporal server; it returns the
// round trips of each.
func decideAgainstBareUpdates(t *testing.T, dataDir string, reviewer *apiclient.Client, k int) (decisions, updates []time.Duration) {
	t.Helper()
	ctx := context.Background()
	info := devInfo(t, dataDir)
	c, err := client.Dial(client.Options{HostPort: info.Temporal, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const queue = "scale-bare"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(bareUpdateWorkflow, workflow.RegisterOptions{Name: "BareUpdateWorkflow"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("scale-bare-%d", time.Now().UnixNano()), TaskQueue: queue}, "BareUpdateWorkflow")
	if err != nil {
		t.Fatal(err)
	}
	var open []countersign.Review
	for q := (apiclient.ReviewQuery{Limit: k}); len(open) < k; {
		page, err := reviewer.Reviews(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, page.Reviews...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	for i, r := range open[:min(k, len(open))] {
		start := time.Now()
		if _, err := reviewer.Decide(ctx, r.ID, api.DecisionRequest{Action: countersign.ActionReject, Reason: "a parked copy"}); err != nil {
			t.Fatalf("deciding %s: %v", r.ID, err)
		}
		decisions = append(decisions, time.Since(start))
		start = time.Now()
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: "touch", WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			t.Fatalf("bare update: %v", err)
		}
		updates = append(updates, time.Since(start))
		if (i+1)%100 == 0 {
			t.Logf("%d decisions", i+1)
		}
	}
	return decisions, updates
}

// devInfo reads the running dev process's addresses.
func devInfo(t *testing.T, dataDir string) app.DevInfo {
	t.Helper()
	var info app.DevInfo
	raw, err := os.ReadFile(filepath.Join(dataDir, app.DevFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// webQueue fetches the web queue's rows as a signed-in reviewer's page
// does on each poll.
func webQueue(base, token string) error {
	req, err := http.NewRequest(http.MethodGet, base+"/ui/queue/rows", nil)
	if err != nil {
		return err
	}
	req.AddCookie(&http.Cookie{Name: "countersign_session", Value: token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<tr") {
		return fmt.Errorf("web queue: %s: %.200s", resp.Status, body)
	}
	return nil
}

// waitStatus waits until a document has the status.
func waitStatus(t *testing.T, c *apiclient.Client, id string, want countersign.Status) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Hour)
	for {
		d, err := c.Document(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("document %s is %s after two hours, want %s", id, d.Status, want)
		}
		time.Sleep(2 * time.Second)
	}
}

// timeIt runs fn n times and returns its p50 and p99.
func timeIt(t *testing.T, n int, fn func() error) [2]time.Duration {
	t.Helper()
	var took []time.Duration
	for range n {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	return percentiles(took)
}

// percentiles are the nearest-rank p50 and p99 of d.
func percentiles(d []time.Duration) [2]time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return [2]time.Duration{s[(len(s)-1)*50/100], s[(len(s)-1)*99/100]}
}

func pair(p [2]time.Duration) string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	return ms(p[0]) + " / " + ms(p[1]) + " ms"
}

// dataSizes sums the data directory's files: Temporal's database (with its
// write-ahead log), the store's, and all of them, in bytes.
func dataSizes(t *testing.T, dir string) (temporal, store, total float64) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size := float64(info.Size())
		total += size
		switch name := d.Name(); {
		case strings.HasPrefix(name, app.TemporalDB):
			temporal += size
		case strings.HasPrefix(name, app.StoreDB):
			store += size
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return temporal, store, total
}
