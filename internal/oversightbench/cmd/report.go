package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/oversightbench"
)

// Report is the benchmark's raw figures, written as JSON.
type Report struct {
	Commit   string                 `json:"commit"`
	Started  time.Time              `json:"started"`
	Duration string                 `json:"duration,omitempty"`
	Config   Config                 `json:"config"`
	Profile  oversightbench.Profile `json:"profile"`
	Seeds    []SeedReport           `json:"seeds"`
	Summary  []BudgetSummary        `json:"summary"`
	Goals    []Goal                 `json:"goals"`
}

// SeedReport is one seed's figures.
type SeedReport struct {
	Seed     uint64 `json:"seed"`
	Duration string `json:"duration"`
	// HITL is the reviewed phase: every document to a person.
	HITL         *PhaseFigures    `json:"hitl,omitempty"`
	Calibrations []CalibrationRun `json:"calibrations,omitempty"`
	Budgets      []BudgetRun      `json:"budgets,omitempty"`
	// Notes say which steps the engine could not take.
	Notes []string `json:"notes,omitempty"`
}

// PhaseFigures describes the reviewed documents: how many drafts were
// wrong, which fields and why, and what the perfect oracle and a hindsight
// threshold on the confidence recorded while routing them (before any
// calibration) would have sent to people.
type PhaseFigures struct {
	Documents     int                              `json:"documents"`
	Wrong         int                              `json:"wrong"`
	FieldErrors   map[string]int                   `json:"field_errors"`
	PlannedErrors map[oversightbench.ErrorKind]int `json:"planned_errors"`
	// FinalWrong counts final outcomes that are not the truth: 0 unless
	// the engine lost or changed a decision.
	FinalWrong int           `json:"final_wrong"`
	Budgets    []PhaseBudget `json:"budgets"`
	Docs       []DocResult   `json:"docs"`
}

// PhaseBudget is what a budget would have needed on a phase's documents.
type PhaseBudget struct {
	Budget       float64                  `json:"budget"`
	PerfectShare float64                  `json:"perfect_share"`
	Hindsight    oversightbench.Hindsight `json:"hindsight"`
}

func phaseFigures(docs []DocResult, budgets []float64) *PhaseFigures {
	p := &PhaseFigures{Documents: len(docs), FieldErrors: map[string]int{}, PlannedErrors: map[oversightbench.ErrorKind]int{}, Docs: docs}
	for _, d := range docs {
		if d.Wrong {
			p.Wrong++
		}
		if !d.FinalRight {
			p.FinalWrong++
		}
		for _, f := range d.WrongFields {
			p.FieldErrors[f]++
		}
		for _, k := range d.Errors {
			p.PlannedErrors[k]++
		}
	}
	for _, b := range budgets {
		p.Budgets = append(p.Budgets, PhaseBudget{Budget: b, PerfectShare: oversightbench.PerfectShare(len(docs), p.Wrong, b), Hindsight: oversightbench.BestThreshold(scored(docs), b)})
	}
	return p
}

func scored(docs []DocResult) []oversightbench.Scored {
	out := make([]oversightbench.Scored, len(docs))
	for i, d := range docs {
		out[i] = oversightbench.Scored{Confidence: d.Confidence, Wrong: d.Wrong}
	}
	return out
}

// BudgetRun is one budget's certificate and held-out batch in one seed.
type BudgetRun struct {
	Budget      float64                  `json:"budget"`
	Certificate *countersign.Certificate `json:"certificate,omitempty"`
	// CertifiedAfter is how many reviewed documents there were when the
	// certificate at this budget was given; 0 when none was. Refusal is
	// the engine's last reason for refusing one.
	CertifiedAfter int    `json:"certified_after,omitempty"`
	Refusal        string `json:"refusal,omitempty"`
	// Tested is how many documents the test that certified took.
	Tested int `json:"tested,omitempty"`
	// Attempts counts the certifications tried at this budget, the one
	// certified included.
	Attempts      int                 `json:"attempts,omitempty"`
	PolicyVersion string              `json:"policy_version,omitempty"`
	Batch         *BatchFigures       `json:"batch,omitempty"`
	Supervision   *SupervisionFigures `json:"supervision,omitempty"`
	// Recertification is the certification again after a period in
	// hotl, and the batch after it; nil when there was none (no
	// certificate applied, or -recertify 0).
	Recertification *Recertification `json:"recertification,omitempty"`
}

// BatchFigures is what happened to a held-out batch, against the truth.
type BatchFigures struct {
	// Mode is hotl when a certificate was applied, hitl otherwise.
	Mode      countersign.Mode `json:"mode"`
	Documents int              `json:"documents"`
	// Wrong counts the wrong drafts, whoever saw them.
	Wrong int `json:"wrong"`
	// ToPeople counts documents a person decided before their outcome.
	ToPeople      int     `json:"to_people"`
	ToPeopleShare float64 `json:"to_people_share"`
	AutoAccepted  int     `json:"auto_accepted"`
	Audits        int     `json:"audits"`
	// AuditsCorrected counts the audits that corrected the output.
	AuditsCorrected int `json:"audits_corrected"`
	// Escaped counts the auto-accepted documents whose draft was wrong,
	// audited or not; EscapedRate is their share of the auto-accepted.
	Escaped     int     `json:"escaped"`
	EscapedRate float64 `json:"escaped_rate"`
	// EscapedCauses counts the wrong fields of the escaped documents by
	// cause (DocResult.Causes).
	EscapedCauses map[string]int           `json:"escaped_causes,omitempty"`
	PerfectShare  float64                  `json:"perfect_share"`
	Hindsight     oversightbench.Hindsight `json:"hindsight"`
	// FinalWrong counts final outcomes that are not the truth: the
	// escaped errors no audit corrected, and nothing else, since people
	// decide as the truth says.
	FinalWrong int         `json:"final_wrong"`
	Docs       []DocResult `json:"docs"`
}

func batchFigures(docs []DocResult, budget float64, mode countersign.Mode) *BatchFigures {
	f := &BatchFigures{Mode: mode, Documents: len(docs), Docs: docs}
	for _, d := range docs {
		if d.Wrong {
			f.Wrong++
		}
		if !d.FinalRight {
			f.FinalWrong++
		}
		if d.Reviewed {
			f.ToPeople++
			continue
		}
		f.AutoAccepted++
		if d.Audited {
			f.Audits++
		}
		if d.AuditCorrected {
			f.AuditsCorrected++
		}
		if d.Wrong {
			f.Escaped++
			for _, c := range d.Causes {
				if f.EscapedCauses == nil {
					f.EscapedCauses = map[string]int{}
				}
				f.EscapedCauses[c]++
			}
		}
	}
	if f.Documents > 0 {
		f.ToPeopleShare = float64(f.ToPeople) / float64(f.Documents)
	}
	if f.AutoAccepted > 0 {
		f.EscapedRate = float64(f.Escaped) / float64(f.AutoAccepted)
	}
	return f.at(budget)
}

// at is the batch's figures for a budget: the same documents, with the
// perfect oracle's share and the hindsight threshold for that budget.
func (f *BatchFigures) at(budget float64) *BatchFigures {
	out := *f
	out.PerfectShare = oversightbench.PerfectShare(f.Documents, f.Wrong, budget)
	out.Hindsight = oversightbench.BestThreshold(scored(f.Docs), budget)
	return &out
}

// Stat is a figure over seeds.
type Stat struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

func (s *Stat) add(v float64) {
	if s.N == 0 || v < s.Min {
		s.Min = v
	}
	if s.N == 0 || v > s.Max {
		s.Max = v
	}
	s.Mean = (s.Mean*float64(s.N) + v) / float64(s.N+1)
	s.N++
}

// BudgetSummary is a budget's figures over the seeds.
type BudgetSummary struct {
	Budget float64 `json:"budget"`
	Seeds  int     `json:"seeds"`
	// Certified counts the seeds with a certificate; CertifiedAfter is
	// over them.
	Certified      int  `json:"certified"`
	CertifiedAfter Stat `json:"certified_after"`
	Bound          Stat `json:"certified_bound"`
	BatchStats
	Tightened int `json:"tightened"`
	// Again is what followed certifying again in hotl.
	Again AgainSummary `json:"again"`
}

// BatchStats are a budget's batches over the seeds, one batch a seed.
type BatchStats struct {
	ToPeople  Stat `json:"to_people_share"`
	Perfect   Stat `json:"perfect_share"`
	Hindsight Stat `json:"hindsight_share"`
	// Escaped is over the seeds whose batch auto-accepted anything.
	Escaped Stat `json:"escaped_rate"`
	// WithinBudget counts the seeds whose realized escaped-error rate was
	// within the budget (a seed that auto-accepted nothing counts).
	WithinBudget int `json:"within_budget"`
}

// add counts a seed's batch at budget.
func (s *BatchStats) add(batch *BatchFigures, budget float64) {
	s.ToPeople.add(batch.ToPeopleShare)
	s.Perfect.add(batch.PerfectShare)
	s.Hindsight.add(batch.Hindsight.ReviewShare)
	if batch.AutoAccepted > 0 {
		s.Escaped.add(batch.EscapedRate)
	}
	if batch.EscapedRate <= budget {
		s.WithinBudget++
	}
}

// AgainSummary is a budget's figures after certifying again in hotl, over
// every seed: a seed not certified again (it had no certificate to run in
// hotl under) counts with its first batch, as it stayed where it was.
type AgainSummary struct {
	// Tried counts the seeds that certified again; Certified those given
	// a new certificate, Applied those whose new one was laxer and put
	// in force.
	Tried     int `json:"tried"`
	Certified int `json:"certified"`
	Applied   int `json:"applied"`
	// Samples is over the seeds that tried: the documents the test took.
	Samples Stat `json:"samples"`
	// Bound is the bound of the certificate in force for the batch.
	Bound Stat `json:"certified_bound"`
	BatchStats
}

// add counts a seed's figures after certifying again (its first batch's
// when there was no second look).
func (a *AgainSummary) add(br *BudgetRun, budget float64) {
	batch, inForce := br.Batch, br.Certificate
	if rc := br.Recertification; rc != nil && rc.Batch != nil {
		a.Tried++
		if rc.Test != nil {
			a.Samples.add(float64(rc.Test.Documents))
		}
		if rc.Certificate != nil {
			a.Certified++
		}
		if rc.Applied {
			a.Applied++
			inForce = rc.Certificate
		}
		batch = rc.Batch
	}
	if inForce != nil {
		a.Bound.add(inForce.Bound)
	}
	a.BatchStats.add(batch, budget)
}

// Goal is one of the benchmark's goals, read off the figures.
type Goal struct {
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	// Met is nil when the run did not measure it.
	Met *bool `json:"met"`
}

// summarize computes the summary and the goals from the seeds so far.
func (r *Report) summarize(budgets []float64) {
	r.Summary = nil
	for _, b := range budgets {
		s := BudgetSummary{Budget: b}
		for _, seed := range r.Seeds {
			br := seed.budget(b)
			if br == nil || br.Batch == nil {
				continue
			}
			s.Seeds++
			if br.Certificate != nil {
				s.Certified++
				s.CertifiedAfter.add(float64(br.CertifiedAfter))
				s.Bound.add(br.Certificate.Bound)
			}
			s.BatchStats.add(br.Batch, b)
			if br.Supervision != nil && br.Supervision.Tightened {
				s.Tightened++
			}
			s.Again.add(br, b)
		}
		r.Summary = append(r.Summary, s)
	}
	r.Goals = r.goals()
}

func (s SeedReport) budget(b float64) *BudgetRun {
	for i := range s.Budgets {
		if s.Budgets[i].Budget == b {
			return &s.Budgets[i]
		}
	}
	return nil
}

func (r *Report) summary(b float64) *BudgetSummary {
	for i := range r.Summary {
		if r.Summary[i].Budget == b {
			return &r.Summary[i]
		}
	}
	return nil
}

func verdict(ok bool) *bool { return &ok }

func (r *Report) goals() []Goal {
	var out []Goal
	five := r.summary(0.05)
	g := Goal{Goal: "at a 5% budget, the share sent to people within 10 points of the perfect oracle's"}
	if five != nil && five.Seeds > 0 {
		gap := five.ToPeople.Mean - five.Perfect.Mean
		close := 0
		for _, seed := range r.Seeds {
			if br := seed.budget(0.05); br != nil && br.Batch != nil && br.Batch.ToPeopleShare-br.Batch.PerfectShare <= 0.10 {
				close++
			}
		}
		g.Measured = fmt.Sprintf("%s sent vs %s perfect: %+.1f points (within 10 in %d of %d seeds)", pct(five.ToPeople.Mean), pct(five.Perfect.Mean), 100*gap, close, five.Seeds)
		g.Met = verdict(gap <= 0.10)
	} else {
		g.Measured = "not run (no 5% budget)"
	}
	out = append(out, g)
	g = Goal{Goal: "the same, after certifying again on the uniform sample of the documents run in hotl"}
	if five != nil && five.Again.Tried > 0 {
		a := five.Again
		gap := a.ToPeople.Mean - a.Perfect.Mean
		g.Measured = fmt.Sprintf("%s sent vs %s perfect: %+.1f points (%d of %d seeds certified again, %d laxer; the others count with their first batch)", pct(a.ToPeople.Mean), pct(a.Perfect.Mean), 100*gap, a.Certified, five.Seeds, a.Applied)
		g.Met = verdict(gap <= 0.10)
	} else {
		g.Measured = "not run (no seed certified again at 5%)"
	}
	out = append(out, g)

	g = Goal{Goal: "at every budget, the realized escaped-error rate within the budget in at least 95% of seeds"}
	var parts []string
	met := len(r.Summary) > 0
	for _, s := range r.Summary {
		if s.Seeds == 0 {
			met = false
			continue
		}
		part := fmt.Sprintf("%s: %d/%d", pct(s.Budget), s.WithinBudget, s.Seeds)
		if s.Certified == 0 {
			part += " (nothing auto-accepted: hitl)"
		}
		if s.Again.Tried > 0 {
			part += fmt.Sprintf(", after certifying again %d/%d", s.Again.WithinBudget, s.Seeds)
			if float64(s.Again.WithinBudget) < 0.95*float64(s.Seeds) {
				met = false
			}
		}
		parts = append(parts, part)
		if float64(s.WithinBudget) < 0.95*float64(s.Seeds) {
			met = false
		}
	}
	g.Measured = strings.Join(parts, ", ")
	if len(parts) > 0 {
		g.Met = verdict(met)
	}
	out = append(out, g)

	g = Goal{Goal: "a 5% certificate after at most 300 reviewed documents"}
	if five != nil && five.Seeds > 0 {
		within := 0
		for _, seed := range r.Seeds {
			if br := seed.budget(0.05); br != nil && br.CertifiedAfter > 0 && br.CertifiedAfter <= 300 {
				within++
			}
		}
		g.Measured = fmt.Sprintf("%d of %d seeds", within, five.Seeds)
		g.Met = verdict(within == five.Seeds)
	} else {
		g.Measured = "not run (no 5% budget)"
	}
	return append(out, g)
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func rangeOf(s Stat) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 {
		return pct(s.Mean)
	}
	return fmt.Sprintf("%s (%s–%s)", pct(s.Mean), strings.TrimSuffix(pct(s.Min), "%"), pct(s.Max))
}

// countRange writes a count over seeds: its mean and range, or "—".
func countRange(s Stat) string {
	if s.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", s.Mean, s.Min, s.Max)
}

// print writes the tables: the summary over seeds, each seed, the goals.
func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "Oversight benchmark: %s, %d seeds, commit %s, %s\n", oversightbench.TaskType, len(r.Seeds), r.Commit, r.Duration)
	fmt.Fprintf(w, "Per seed: %d documents reviewed in hitl (more while a certificate is refused, up to %d), then %d new documents per budget under its certificate (hotl, audits at the task type's rate). Shares are of the new documents; escaped errors are wrong drafts among all auto-accepted ones, audited or not.\n\n", r.Config.Reviewed, r.Config.MaxReviewed, r.Config.Heldout)
	if r.Config.Horizon > 0 {
		fmt.Fprintf(w, "Batch certificates (-horizon %d): each promises at most the budget's share wrong of the next %d accepted documents, by certifying a stricter rate (the certified bound below is of that rate).\n\n", r.Config.Horizon, r.Config.Horizon)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "budget\tcertified\tafter (reviewed)\tsent to people\tperfect oracle\thindsight threshold\tescaped (realized)\tcertified bound\twithin budget\ttightened")
	for _, s := range r.Summary {
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%d\n", pct(s.Budget), s.Certified, s.Seeds, countRange(s.CertifiedAfter), rangeOf(s.ToPeople), rangeOf(s.Perfect), rangeOf(s.Hindsight), rangeOf(s.Escaped), rangeOf(s.Bound), s.WithinBudget, s.Seeds, s.Tightened)
	}
	tw.Flush()

	if r.Config.Recertify > 0 {
		fmt.Fprintf(w, "\nAfter certifying again: each certificate in force for %d more documents in hotl (%d with its batch), certified again on the held-out reviewed documents and the uniform sample (the audited, and as many of those sent to people), the laxer certificate in force for %d new documents. A seed without a first certificate counts with its batch in hitl.\n\n", r.Config.Recertify, r.Config.Recertify+r.Config.Heldout, r.Config.Heldout)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "budget\tcertified again\tlaxer\tdocuments tested\tsent to people\tperfect oracle\thindsight threshold\tescaped (realized)\tcertified bound\twithin budget")
		for _, s := range r.Summary {
			a := s.Again
			fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\n", pct(s.Budget), a.Certified, a.Tried, a.Applied, countRange(a.Samples), rangeOf(a.ToPeople), rangeOf(a.Perfect), rangeOf(a.Hindsight), rangeOf(a.Escaped), rangeOf(a.Bound), a.WithinBudget, s.Seeds)
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nPer seed")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "seed\tbudget\tcertificate\tafter\tthreshold\tbound (k/n)\tmode\tsent to people\tperfect\thindsight (threshold)\tauto-accepted\tescaped\taudits (corrected)\tsupervisor")
	for _, seed := range r.Seeds {
		for _, br := range seed.Budgets {
			cert, after, threshold, bound := "none", "—", "—", "—"
			if br.Certificate != nil {
				cert, after = br.Certificate.ID, fmt.Sprint(br.CertifiedAfter)
				if br.Attempts > 1 {
					after += fmt.Sprintf(" (attempt %d)", br.Attempts)
				}
				threshold = fmt.Sprintf("%.4f", br.Certificate.Threshold)
				bound = fmt.Sprintf("%s (%d/%d)", pct(br.Certificate.Bound), br.Certificate.Wrong, br.Certificate.Accepted)
			}
			b := br.Batch
			if b == nil {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\tnot run\n", seed.Seed, pct(br.Budget), cert, after, threshold, bound)
				continue
			}
			sup := br.Supervision.label()
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s (%.4f)\t%d\t%d (%s)\t%d (%d)\t%s\n", seed.Seed, pct(br.Budget), cert, after, threshold, bound, b.Mode,
				pct(b.ToPeopleShare), pct(b.PerfectShare), pct(b.Hindsight.ReviewShare), b.Hindsight.Threshold, b.AutoAccepted, b.Escaped, pctOf(b.Escaped, b.AutoAccepted), b.Audits, b.AuditsCorrected, sup)
			rc := br.Recertification
			if rc == nil || rc.Batch == nil {
				continue
			}
			cert, bound = "refused", "—"
			if c := rc.Certificate; c != nil {
				cert, bound = c.ID, fmt.Sprintf("%s (%d/%d)", pct(c.Bound), c.Wrong, c.Accepted)
				switch {
				case !rc.Laxer:
					cert += " (not laxer)"
				case !rc.Applied:
					cert += " (not applied)"
				}
			}
			after = fmt.Sprintf("%d in hotl", rc.InHOTL)
			if rc.Test != nil {
				after += fmt.Sprintf(", %d tested", rc.Test.Documents)
				if br.Tested > 0 {
					after += fmt.Sprintf(" (first %d)", br.Tested)
				}
			}
			if rc.Attempt > 0 {
				after += fmt.Sprintf(", attempt %d", rc.Attempt)
			}
			b = rc.Batch
			sup = rc.Supervision.label()
			fmt.Fprintf(tw, "\t  again\t%s\t%s\t%.4f\t%s\t%s\t%s\t%s\t%s (%.4f)\t%d\t%d (%s)\t%d (%d)\t%s\n", cert, after, rc.Threshold, bound, b.Mode,
				pct(b.ToPeopleShare), pct(b.PerfectShare), pct(b.Hindsight.ReviewShare), b.Hindsight.Threshold, b.AutoAccepted, b.Escaped, pctOf(b.Escaped, b.AutoAccepted), b.Audits, b.AuditsCorrected, sup)
		}
	}
	tw.Flush()

	fmt.Fprintln(w, "\nWhy the escaped documents were wrong (wrong fields by the fake model's error, all seeds)")
	for _, b := range r.Config.Budgets {
		causes := map[string]int{}
		for _, seed := range r.Seeds {
			if br := seed.budget(b); br != nil && br.Batch != nil {
				for c, n := range br.Batch.EscapedCauses {
					causes[c] += n
				}
			}
		}
		var parts []string
		for _, c := range sortedKeys(causes) {
			parts = append(parts, fmt.Sprintf("%s %d", c, causes[c]))
		}
		if len(parts) == 0 {
			parts = []string{"none"}
		}
		fmt.Fprintf(w, "- %s: %s\n", pct(b), strings.Join(parts, ", "))
	}

	fmt.Fprintf(w, "\nReviewed phase (hitl; confidence as recorded when routed: uncalibrated for the first %d)\n", r.Config.Reviewed)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "seed\treviewed\twrong drafts\tfield errors\tbudget: perfect / hindsight")
	for _, seed := range r.Seeds {
		h := seed.HITL
		if h == nil {
			continue
		}
		var fields, shares []string
		for _, f := range oversightbench.Fields {
			if n := h.FieldErrors[f]; n > 0 {
				fields = append(fields, fmt.Sprintf("%s %d", f, n))
			}
		}
		for _, b := range h.Budgets {
			shares = append(shares, fmt.Sprintf("%s: %s / %s", pct(b.Budget), pct(b.PerfectShare), pct(b.Hindsight.ReviewShare)))
		}
		fmt.Fprintf(tw, "%d\t%d\t%d (%s)\t%s\t%s\n", seed.Seed, h.Documents, h.Wrong, pctOf(h.Wrong, h.Documents), strings.Join(fields, ", "), strings.Join(shares, "; "))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nGoals")
	for _, g := range r.Goals {
		state := "not measured"
		if g.Met != nil {
			state = map[bool]string{true: "met", false: "NOT met"}[*g.Met]
		}
		fmt.Fprintf(w, "- %s: %s (%s)\n", g.Goal, state, g.Measured)
	}
	var notes []string
	for _, seed := range r.Seeds {
		for _, n := range seed.Notes {
			notes = append(notes, fmt.Sprintf("seed %d: %s", seed.Seed, n))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes")
		for _, n := range notes {
			fmt.Fprintln(w, "- "+n)
		}
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func pctOf(k, n int) string {
	if n == 0 {
		return "—"
	}
	return pct(float64(k) / float64(n))
}
