package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
)

// parkedEnv names the variable that runs TestParkedReviewsMemory: the
// number of reviews to park in each configuration.
const parkedEnv = "COUNTERSIGN_PARKED"

// TestParkedReviewsMemory parks reviews in `countersign dev`, run as its
// own process as a user runs it, and prints its resident memory as they
// pile up: with the workflow caches at their defaults, bounded lower, and
// at the sizes the SDK and the server had before countersign bounded them
// (10,000 and 8,192), in the same run. Then it decides the oldest reviews,
// which a bounded cache has evicted, and prints what a decision costs
// there. Not in CI: `make bench-parked` (docs/operations.md: Memory of
// parked reviews).
func TestParkedReviewsMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(parkedEnv))
	if n <= 0 {
		t.Skipf("set %s to the number of reviews to park in each configuration (make bench-parked)", parkedEnv)
	}
	bin := binary(t)
	content := sample(t, "contract-review", "msa-northwind-harbor.txt")
	configs := []struct {
		name string
		args []string
	}{
		{"defaults (1024, 1024)", nil},
		{"bounded (256, 256)", []string{"--workflow-cache-size", "256", "--temporal-history-cache-size", "256"}},
		{"before (10000, 8192)", []string{"--workflow-cache-size", "10000", "--temporal-history-cache-size", "8192"}},
	}
	const checkpoints = 5
	type row struct {
		config          string
		open            int
		rssMiB          float64
		perReviewKiB    float64
		decideP50, p90  time.Duration
		submitPerSecond float64
		goroutines      int
	}
	var rows []row
	for _, c := range configs {
		ctx := context.Background()
		dir := t.TempDir()
		// Documents are submitted faster than a token's default rate.
		p := startDev(t, bin, dir, append([]string{"--rate-limit", "0"}, c.args...)...)
		base := rss(t, p.cmd.Process.Pid)
		t.Logf("%s: %.0f MiB at start", c.name, base)
		began := time.Now()
		var next atomic.Int64
		for k := 1; k <= checkpoints; k++ {
			target := n * k / checkpoints
			submitCopies(t, p.api, &next, target, "parked", content)
			open := waitOpen(t, p.api, target)
			r := row{config: c.name, open: open, rssMiB: rss(t, p.cmd.Process.Pid), goroutines: goroutines(t, p.api)}
			// Growth per review since the first checkpoint: the first
			// documents also bring the process's heap up to its working size.
			if k > 1 {
				first := rows[len(rows)-k+1]
				r.perReviewKiB = (r.rssMiB - first.rssMiB) * 1024 / float64(open-first.open)
			}
			r.submitPerSecond = float64(open) / time.Since(began).Seconds()
			t.Logf("%s: %d open, %.0f MiB", c.name, open, r.rssMiB)
			rows = append(rows, r)
		}
		// Decide the oldest reviews: a bounded cache evicted them long ago.
		tok, err := p.api.CreateToken(ctx, "rita", countersign.RoleReviewer, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		rita := apiclient.New(p.api.BaseURL, tok.Secret)
		page, err := p.api.Reviews(ctx, apiclient.ReviewQuery{Limit: 40})
		if err != nil {
			t.Fatal(err)
		}
		var took []time.Duration
		for _, r := range page.Reviews {
			at := time.Now()
			if _, err := rita.Decide(ctx, r.ID, api.DecisionRequest{Action: countersign.ActionReject, Reason: "a parked copy"}); err != nil {
				t.Fatalf("deciding %s: %v", r.ID, err)
			}
			took = append(took, time.Since(at))
		}
		slices.Sort(took)
		last := &rows[len(rows)-1]
		last.decideP50, last.p90 = took[len(took)/2], took[len(took)*9/10]
		p.cmd.Process.Kill()
		p.wait()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nParked reviews, `countersign dev` as its own process (caches: worker, Temporal history):\n")
	fmt.Fprintf(&b, "%-24s %8s %9s %21s %11s %10s %22s\n", "config", "open", "RSS MiB", "KiB/review since 1st", "goroutines", "submit/s", "decide p50 / p90")
	for _, r := range rows {
		decide := ""
		if r.decideP50 > 0 {
			decide = fmt.Sprintf("%v / %v", r.decideP50.Round(time.Millisecond), r.p90.Round(time.Millisecond))
		}
		fmt.Fprintf(&b, "%-24s %8d %9.0f %21.1f %11d %10.1f %22s\n", r.config, r.open, r.rssMiB, r.perReviewKiB, r.goroutines, r.submitPerSecond, decide)
	}
	t.Log(b.String())
}

// waitOpen waits until at least want reviews are open and returns how many
// are.
func waitOpen(t *testing.T, c *apiclient.Client, want int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Minute)
	for {
		open := 0
		q := apiclient.ReviewQuery{Limit: 1000}
		for {
			page, err := c.Reviews(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			open += len(page.Reviews)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		if open >= want {
			return open
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reviews open after 30 minutes, want %d", open, want)
		}
		time.Sleep(2 * time.Second)
	}
}

// goroutines is the process's go_goroutines, from its /metrics.
func goroutines(t *testing.T, c *apiclient.Client) int {
	t.Helper()
	n, ok := scrape(t, c.BaseURL).value("go_goroutines")
	if !ok {
		t.Fatal("no go_goroutines in /metrics")
	}
	return int(n)
}

// rss is a process's resident memory in MiB, from /proc.
func rss(t *testing.T, pid int) float64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	t.Fatalf("no VmRSS for process %d", pid)
	return 0
}

// submitCopies submits numbered copies of a contract, 8 at a time, until
// next reaches target, each with the external ID prefix-i; it returns the
// ID of copy target. It logs every thousandth.
func submitCopies(t *testing.T, c *apiclient.Client, next *atomic.Int64, target int, prefix, content string) string {
	t.Helper()
	began := time.Now()
	var wg sync.WaitGroup
	var last atomic.Value
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > target {
					next.Add(-1)
					return
				}
				sub, err := c.Submit(context.Background(), api.SubmitRequest{
					TaskType: "contract-review", ExternalID: fmt.Sprintf("%s-%d", prefix, i),
					Content: content + fmt.Sprintf("\n\nCopy %d of this agreement.\n", i),
				})
				if err != nil {
					errs <- fmt.Errorf("submit %d: %w", i, err)
					return
				}
				if i == target {
					last.Store(sub.ID)
				}
				if i%1000 == 0 {
					t.Logf("%d submitted (%.0f s)", i, time.Since(began).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	id, _ := last.Load().(string)
	return id
}
