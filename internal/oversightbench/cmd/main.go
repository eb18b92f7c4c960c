// Command oversightbench is the oversight benchmark (`make
// oversight-bench`): per seed, countersign in process (embedded Temporal,
// SQLite) drafts generated claim notices with a fake model of known error
// profile, an oracle reviewer decides what reaches people through the REST
// API, and the run measures against the truth how much went to people and
// how many wrong drafts escaped, next to what a perfect oracle and the best
// threshold in hindsight would have needed.
//
// Per seed: submit and review -reviewed documents in hitl; calibrate;
// certify at each budget (reviewing -review-step more documents while a
// certificate is refused, up to -max-reviewed); then per budget apply its
// certificate (hotl, audits at the task type's rate) and run -heldout new
// documents; then run -recertify more in hotl, certify that budget again on
// the uniform sample, put the new certificate in force when it is laxer,
// and run -heldout new documents again. The table goes to stdout, progress
// to stderr, the raw figures to -json.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/oversightbench"
)

func main() {
	cfg := defaultConfig()
	var seeds, budgets string
	flag.StringVar(&seeds, "seeds", "1,2,3,4,5", "seeds to run, comma-separated (or a count: 5 runs seeds 1 to 5)")
	flag.StringVar(&budgets, "budgets", "0.01,0.02,0.05", "error budgets to certify and run, comma-separated")
	flag.IntVar(&cfg.Reviewed, "reviewed", cfg.Reviewed, "documents reviewed in hitl before the first calibration")
	flag.IntVar(&cfg.ReviewStep, "review-step", cfg.ReviewStep, "more documents reviewed each time a certificate is refused")
	flag.IntVar(&cfg.MaxReviewed, "max-reviewed", cfg.MaxReviewed, "stop reviewing for a certificate after this many documents")
	flag.IntVar(&cfg.Heldout, "heldout", cfg.Heldout, "new documents run per budget after its certificate is applied")
	flag.Float64Var(&cfg.Level, "level", cfg.Level, "confidence level of the certificates")
	flag.IntVar(&cfg.Horizon, "horizon", 0, "batch certificates over this many accepted documents (policy certify --horizon; 0: certificates of the rate)")
	flag.IntVar(&cfg.Recertify, "recertify", cfg.Recertify, "more documents run in hotl after a budget's batch before it is certified again on the uniform sample, then another batch (0: not certified again)")
	flag.IntVar(&cfg.Wave, "wave", cfg.Wave, "documents submitted at once; each wave is decided before the next")
	flag.IntVar(&cfg.Workers, "workers", cfg.Workers, "concurrent API calls")
	flag.StringVar(&cfg.JSON, "json", cfg.JSON, "file for the raw figures")
	flag.StringVar(&cfg.Commit, "commit", "", "the commit under test, for the report (make passes git describe)")
	flag.StringVar(&cfg.DataDir, "data-dir", "", "keep each seed's countersign data under this folder (default: a temporary folder, removed)")
	flag.Parse()

	var err error
	if cfg.Seeds, err = parseSeeds(seeds); err != nil {
		fatal(err)
	}
	if cfg.Budgets, err = parseBudgets(budgets); err != nil {
		fatal(err)
	}
	if err := cfg.check(); err != nil {
		fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	rep := &Report{Commit: cfg.Commit, Started: time.Now().UTC(), Config: cfg, Profile: oversightbench.DefaultProfile()}
	for _, seed := range cfg.Seeds {
		sr, err := runSeed(ctx, &cfg, seed)
		if sr != nil {
			rep.Seeds = append(rep.Seeds, *sr)
		}
		if err != nil {
			progress("seed %d: %v", seed, err)
			if ctx.Err() != nil {
				break
			}
		}
		// Keep what was measured so far, should a later seed not finish.
		rep.summarize(cfg.Budgets)
		if err := writeJSON(cfg.JSON, rep); err != nil {
			fatal(err)
		}
	}
	rep.Duration = time.Since(rep.Started).Round(time.Second).String()
	rep.summarize(cfg.Budgets)
	if err := writeJSON(cfg.JSON, rep); err != nil {
		fatal(err)
	}
	rep.print(os.Stdout)
	progress("raw figures in %s", cfg.JSON)
	if len(rep.Seeds) < len(cfg.Seeds) {
		os.Exit(1)
	}
}

func parseSeeds(s string) ([]uint64, error) {
	if n, err := strconv.Atoi(s); err == nil && !strings.Contains(s, ",") {
		if n < 1 {
			return nil, fmt.Errorf("-seeds %d: want at least one", n)
		}
		out := make([]uint64, n)
		for i := range out {
			out[i] = uint64(i + 1)
		}
		return out, nil
	}
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(part), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("-seeds: %q is not a seed", part)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseBudgets(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || v <= 0 || v >= 1 {
			return nil, fmt.Errorf("-budgets: %q is not a share between 0 and 1", part)
		}
		out = append(out, v)
	}
	return out, nil
}

func writeJSON(path string, rep *Report) error {
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// progress writes a line to stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "oversightbench:", err)
	os.Exit(2)
}
