package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

// seedWith is a seed's run at a 5% budget: certified after some reviewed
// documents (0: never), with a batch of 100 documents of which wrong
// drafts were wrong, toPeople went to people and escaped wrong ones were
// auto-accepted.
func seedWith(seed uint64, certifiedAfter, wrong, toPeople, escaped int) SeedReport {
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
	br := BudgetRun{Budget: 0.05, CertifiedAfter: certifiedAfter, Batch: batchFigures(docs, 0.05, countersign.ModeHOTL)}
	if certifiedAfter > 0 {
		br.Certificate = &countersign.Certificate{ID: "claim-notice/c1", Budget: 0.05, Bound: 0.04}
	}
	return SeedReport{Seed: seed, Budgets: []BudgetRun{br}}
}

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
	met := func(i int) bool { return r.Goals[i].Met != nil && *r.Goals[i].Met }
	// To people 32.5% on average against a perfect 16% or so: within 10
	// points in seed 1 only, and not on average.
	if met(0) || !strings.Contains(r.Goals[0].Measured, "within 10 in 1 of 2 seeds") {
		t.Errorf("goal 1: %+v", r.Goals[0])
	}
	if met(1) || !strings.Contains(r.Goals[1].Measured, "5.0%: 1/2") {
		t.Errorf("goal 2: %+v", r.Goals[1])
	}
	if met(2) || r.Goals[2].Measured != "1 of 2 seeds" {
		t.Errorf("goal 3: %+v", r.Goals[2])
	}

	r = &Report{Config: Config{Budgets: []float64{0.05}}, Seeds: []SeedReport{seedWith(1, 300, 20, 25, 1), seedWith(2, 250, 20, 24, 2)}}
	r.summarize([]float64{0.05})
	for i, g := range r.Goals {
		if !met(i) {
			t.Errorf("goal %d not met: %+v", i+1, g)
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
	if g := r.Goals[1]; g.Met == nil || !*g.Met || !strings.Contains(g.Measured, "nothing auto-accepted") {
		t.Errorf("goal 2 with everything reviewed: %+v; want met, saying nothing was auto-accepted", g)
	}
	if g := r.Goals[2]; g.Met == nil || *g.Met {
		t.Errorf("goal 3 without a certificate: %+v; want not met", g)
	}
}
