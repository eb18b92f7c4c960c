package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/oversightbench"
	"github.com/countersign/countersign/internal/tasktype"
)

// seedWith is a seed's run at a 5% budget: certified after some reviewed
// documents (0: never), with a batch of 100 documents of which wrong
// drafts were wrong, toPeople went to people and escaped wrong ones were
// auto-accepted.
func seedWith(seed uint64, certifiedAfter, wrong, toPeople, escaped int) SeedReport {
	br := BudgetRun{Budget: 0.05, CertifiedAfter: certifiedAfter, Batch: batchWith(wrong, toPeople, escaped)}
	if certifiedAfter > 0 {
		br.Certificate = &countersign.Certificate{ID: "claim-notice/c1", Budget: 0.05, Bound: 0.04}
	}
	return SeedReport{Seed: seed, Budgets: []BudgetRun{br}}
}

// batchWith is a batch of 100 documents in hotl at a 5% budget, of which
// wrong drafts were wrong, toPeople went to people and escaped wrong ones
// were auto-accepted.
func batchWith(wrong, toPeople, escaped int) *BatchFigures {
	var docs []DocResult
	for i := range 100 {
		d := DocResult{Index: i, Outcome: countersign.OutcomeAutoAccept, Confidence: 0.99, FinalRight: true}
		switch {
		case i < toPeople:
			d.Outcome, d.Reviewed, d.Confidence = countersign.OutcomeHumanReview, true, 0.5
			d.Wrong = i < wrong-escaped
		case i < toPeople+escaped:
			d.Wrong, d.Causes = true, []string{"confident look-alike"}
		}
		docs = append(docs, d)
	}
	return batchFigures(docs, 0.05, countersign.ModeHOTL)
}

// goal is the report's goal whose text starts with prefix.
func goal(t *testing.T, r *Report, prefix string) Goal {
	t.Helper()
	for _, g := range r.Goals {
		if strings.HasPrefix(g.Goal, prefix) {
			return g
		}
	}
	t.Fatalf("no goal %q in %+v", prefix, r.Goals)
	return Goal{}
}

const (
	goalShare      = "at a 5% budget, the share"
	goalShareAgain = "the same, after certifying again"
	goalEscaped    = "at every budget"
	goalAfter300   = "a 5% certificate"
)

func TestGoalsReadOffTheFigures(t *testing.T) {
	// Seed 1: 20 wrong drafts, 25 to people, 1 escaped of 75 (1.3%).
	// Seed 2: 20 wrong, 40 to people, 4 escaped of 60 (6.7%), certified
	// only after 400 reviewed documents.
	r := &Report{Seeds: []SeedReport{seedWith(1, 300, 20, 25, 1), seedWith(2, 400, 20, 40, 4)}}
	r.summarize([]float64{0.05})
	s := r.Summary[0]
	if s.Seeds != 2 || s.Certified != 2 || s.WithinBudget != 1 {
		t.Fatalf("summary %+v; want 2 seeds certified, 1 within the budget", s)
	}
	if s.ToPeople.Mean != 0.325 || s.Perfect.Min != 0.16 || s.Escaped.Max != 4.0/60 {
		t.Fatalf("summary %+v", s)
	}
	met := func(g Goal) bool { return g.Met != nil && *g.Met }
	// To people 32.5% on average against a perfect 16% or so: within 10
	// points in seed 1 only, and not on average.
	if g := goal(t, r, goalShare); met(g) || !strings.Contains(g.Measured, "within 10 in 1 of 2 seeds") {
		t.Errorf("goal 1: %+v", g)
	}
	if g := goal(t, r, goalShareAgain); g.Met != nil || !strings.Contains(g.Measured, "not run") {
		t.Errorf("goal 1 again, without a second look: %+v; want not measured", g)
	}
	if g := goal(t, r, goalEscaped); met(g) || !strings.Contains(g.Measured, "5.0%: 1/2") {
		t.Errorf("goal 2: %+v", g)
	}
	if g := goal(t, r, goalAfter300); met(g) || g.Measured != "1 of 2 seeds" {
		t.Errorf("goal 3: %+v", g)
	}

	r = &Report{Config: Config{Budgets: []float64{0.05}}, Seeds: []SeedReport{seedWith(1, 300, 20, 25, 1), seedWith(2, 250, 20, 24, 2)}}
	r.summarize([]float64{0.05})
	for _, prefix := range []string{goalShare, goalEscaped, goalAfter300} {
		if g := goal(t, r, prefix); !met(g) {
			t.Errorf("goal not met: %+v", g)
		}
	}
	var out bytes.Buffer
	r.print(&out)
	for _, want := range []string{"5.0%    2/2", "claim-notice/c1", "- 5.0%: confident look-alike 3", "Goals", "met"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table does not show %q:\n%s", want, out.String())
		}
	}
}

func TestABudgetLeftInHITLKeepsItTrivially(t *testing.T) {
	s := seedWith(1, 0, 20, 100, 0)
	s.Budgets[0].Batch.Mode = countersign.ModeHITL
	r := &Report{Seeds: []SeedReport{s}}
	r.summarize([]float64{0.05})
	if g := goal(t, r, goalEscaped); g.Met == nil || !*g.Met || !strings.Contains(g.Measured, "nothing auto-accepted") {
		t.Errorf("goal 2 with everything reviewed: %+v; want met, saying nothing was auto-accepted", g)
	}
	if g := goal(t, r, goalAfter300); g.Met == nil || *g.Met {
		t.Errorf("goal 3 without a certificate: %+v; want not met", g)
	}
}

func TestGoalsAfterCertifyingAgain(t *testing.T) {
	// Seed 1: 35 to people under its first certificate; certified again,
	// laxer, after which 22 went to people and 2 of 78 escaped. Seed 2:
	// 30 to people; certified again but not laxer, after which 31 went to
	// people and 4 of 69 escaped (5.8%). Seed 3: no certificate, its batch
	// in hitl (everything to people).
	s1 := seedWith(1, 300, 20, 35, 1)
	s1.Budgets[0].Recertification = &Recertification{
		InHOTL:      2000,
		Certificate: &countersign.Certificate{ID: "claim-notice/c2", Budget: 0.05, Bound: 0.045},
		Laxer:       true,
		Applied:     true,
		Batch:       batchWith(20, 22, 2),
	}
	s2 := seedWith(2, 300, 20, 30, 1)
	s2.Budgets[0].Recertification = &Recertification{
		InHOTL:      2000,
		Certificate: &countersign.Certificate{ID: "claim-notice/c3", Budget: 0.05, Bound: 0.049},
		Batch:       batchWith(20, 31, 4),
	}
	s3 := seedWith(3, 0, 20, 100, 0)
	s3.Budgets[0].Batch.Mode = countersign.ModeHITL
	// Seed 4: 26 to people; refused on its second look, after which 27
	// went to people under its first certificate.
	s4 := seedWith(4, 300, 20, 26, 0)
	s4.Budgets[0].Recertification = &Recertification{InHOTL: 2000, Refusal: "no threshold", Batch: batchWith(20, 27, 0)}
	r := &Report{Config: Config{Budgets: []float64{0.05}, Recertify: 1500, Heldout: 100}, Seeds: []SeedReport{s1, s2, s3, s4}}
	r.summarize([]float64{0.05})
	a := r.Summary[0].Again
	if a.Tried != 3 || a.Certified != 2 || a.Applied != 1 || a.WithinBudget != 3 {
		t.Fatalf("after certifying again %+v; want 3 tried, 2 certified, 1 laxer, 3 of 4 seeds within the budget", a)
	}
	// The laxer certificate's bound for seed 1, the first one's for seeds
	// 2 and 4, which kept theirs, and the share of seed 3's batch in hitl.
	if want := (0.22 + 0.31 + 1.0 + 0.27) / 4; math.Abs(a.ToPeople.Mean-want) > 1e-12 || a.Bound.Max != 0.045 || a.Bound.Min != 0.04 || a.Bound.N != 3 {
		t.Fatalf("after certifying again %+v; want %.3f to people and bounds 0.04 to 0.045", a, want)
	}
	// Seed 3's batch auto-accepted nothing: no escaped rate of its own.
	if a.Escaped.N != 3 || a.Escaped.Max != 4.0/69 {
		t.Fatalf("escaped after certifying again %+v; want 3 seeds, at most 4 of 69", a.Escaped)
	}
	if g := goal(t, r, goalShareAgain); g.Met == nil || *g.Met || !strings.Contains(g.Measured, "2 of 4 seeds certified again, 1 laxer") {
		t.Errorf("goal 1 again: %+v; want not met, with the seeds counted", g)
	}
	// Seed 2's batch after certifying again let 5.8% through: the goal on
	// escaped errors counts it.
	if g := goal(t, r, goalEscaped); g.Met == nil || *g.Met || !strings.Contains(g.Measured, "after certifying again 3/4") {
		t.Errorf("goal 2: %+v; want not met, counting the batches after certifying again", g)
	}
	var out bytes.Buffer
	r.print(&out)
	for _, want := range []string{"After certifying again", "claim-notice/c3 (not laxer)", "2000 in hotl", "5.0%    2/3", "refused"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table does not show %q:\n%s", want, out.String())
		}
	}

	if strings.Contains(out.String(), "claim-notice/c2 (not") {
		t.Errorf("the laxer certificate put in force is labelled as not:\n%s", out.String())
	}

	// Without seeds 2 and 3: within 10 points of the perfect oracle after
	// certifying again (22 and 27 to people against about 16).
	r = &Report{Config: r.Config, Seeds: []SeedReport{s1, s4}}
	r.summarize([]float64{0.05})
	if g := goal(t, r, goalShareAgain); g.Met == nil || !*g.Met {
		t.Errorf("goal 1 again: %+v; want met", g)
	}
}

func TestAuditsAreDueWhenTheRunWaitsForThem(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, oversightbench.TaskType+".yaml"), oversightbench.TaskTypeYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	reg, err := tasktype.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := reg.Get(oversightbench.TaskType)
	if err != nil {
		t.Fatal(err)
	}
	// The run certifies reviewsDue after its last reviews, and again after
	// the period in hotl: were they due later, none of them would count.
	if tt.Policy.ReviewDue != reviewsDue {
		t.Errorf("the task type's review_due is %v; the run waits %v for the audits to be due", tt.Policy.ReviewDue, reviewsDue)
	}
}
