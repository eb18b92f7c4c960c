package main

import (
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/report"
)

// stats says where the supervisor's window started, by which rule it is
// judged, how many audit reports (or, in draw order, audits) it did not
// count, and which audit it waits for.
func TestPrintStatsShowsWhereTheEvidenceStarts(t *testing.T) {
	since := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st := &api.Stats{TaskType: "claims", Supervision: api.SupervisionStats{
		State: api.StateNormal, Budget: 0.05, Level: 0.95,
		Policy: countersign.Policy{Version: "abc+claims/v2", Mode: countersign.ModeHOTL, AutoAcceptThreshold: 0.9},
		Basis: &activities.Basis{Versions: []string{"claims/v2"}, Mode: countersign.ModeHOTL, Threshold: 0.9, Certificate: &activities.Certified{
			ID: "claims/c1", Threshold: 0.9, Budget: 0.05, Level: 0.95, Accepted: 400, Wrong: 8, Since: since, Until: since.AddDate(0, 2, 0), Refutes: true,
		}},
		Estimate: &quality.Estimate{Audits: 20, Escaped: 3, Start: &quality.Tally{Audits: 400, Escaped: 8}, Rate: 3.0 / 20, Bound: 0.4521, Lower: 0.0301,
			AuditLower: 0.0301, Budget: 0.05, Level: 0.95, Method: quality.ConfidenceSequence, MinAudits: 93, Rule: quality.RuleRefute},
		IgnoredReports: 1200,
	}}
	var out strings.Builder
	if err := printStats(&out, st); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"window from certificate claims/c1: 8 wrong of 400 accepted at 0.900",
		"the audits must refute it to tighten",
		// The rate and bounds are the audits' alone, rounded outwards.
		"escaped errors: 3 of 20 audited after 8 of 400 certified; the audits' rate 15.0%, bounds 3.0% to 45.3% (confidence-sequence); the policy is tightened when the lower bound is over the budget",
		"1200 audit reports not counted",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stats output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "judged from") {
		t.Errorf("a window judged by refutation waits for no minimum:\n%s", out.String())
	}

	// A supervisor that counts in draw order passes audits, not reports,
	// and says which audit it waits for.
	until := since.Add(24 * time.Hour)
	st.Supervision.IgnoredReports, st.Supervision.DrawOrder, st.Supervision.Overdue = 1, true, 3
	st.Supervision.Waiting, st.Supervision.Until = "doc-7", &until
	out.Reset()
	if err := printStats(&out, st); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"1 audit not counted: drawn under a policy not the window's, or counted before",
		"3 audits of the window counted as escaped for want of a verdict in time",
		"audits count in the order drawn: the next is the audit of doc-7, due " + until.Local().Format(time.DateTime) + ": counted once decided, or then as escaped if still open",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stats output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "reports not counted") {
		t.Errorf("a supervisor in draw order reads no reports:\n%s", out.String())
	}
}

// stats --by rule prints a row per detection rule, n/a where nothing is
// decided yet.
func TestPrintRules(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	st := &api.Stats{TaskType: "soc-alert-triage", Rules: []report.RuleFigures{
		{Rule: "Brute force", Documents: 5, Decided: 4, FalsePositives: 3, FalsePositiveRate: f(0.75), Automatic: 3, AutomaticRate: f(0.75), Audited: 2, AuditChanged: 1, EscapedTruePositives: 1, MeanSecondsToVerdict: f(915)},
		{Rule: "", Documents: 1},
	}}
	var out strings.Builder
	if err := printRules(&out, st); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 rows:\n%s", out.String())
	}
	for i, want := range [][]string{
		{"RULE", "FP RATE", "VETOED", "ESCAPED TP", "MEAN TO VERDICT"},
		{"Brute force", "75.0%", "15m15s"},
		{"(no rule named)", "n/a", "-"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d lacks %q:\n%s", i, w, out.String())
			}
		}
	}
}

// stats prints a comparison task type's ranking agreement, n/a with the
// count where no item has the figure, never 0.
func TestPrintStatsComparison(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	st := &api.Stats{TaskType: "response-ranking", Quality: &report.Report{Comparison: &report.ComparisonReport{
		People:      report.RankAgreement{},
		Concordance: report.RankConcordance{Items: 2, Rankings: 6, KendallW: f(0.7533)},
		Judge:       report.RankAgreement{Items: 4, PairwiseAgreement: f(7.0 / 12), TauItems: 4, TauB: f(0.5291)},
		Criteria: []report.CriterionAgreement{
			{Criterion: "helpfulness", Scores: 12, Exact: f(10.0 / 12), MeanAbsDiff: f(0.25)},
		},
		Weeks: []report.JudgeWeek{{Week: "2026-W45", Judge: report.RankAgreement{Items: 2, PairwiseAgreement: f(2.0 / 3), TauItems: 2, TauB: f(0.5749)},
			Criteria: []report.CriterionAgreement{{Criterion: "helpfulness", Scores: 6, Exact: f(5.0 / 6), MeanAbsDiff: f(1.0 / 6)}}}},
	}}}
	var out strings.Builder
	if err := printStats(&out, st); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range [][]string{
		{"two people", " 0 ", "n/a", "n/a"},
		{"judge vs final", "4", "58.3%", "0.53"},
		{"three or more people", "Kendall's W 0.75", "over 2 items, 6 rankings"},
		{"all", "helpfulness", "12", "83.3%", "0.25", "58.3%"},
		{"2026-W45", "helpfulness", "6", "83.3%", "0.17", "66.7%", "0.57"},
	} {
		line := ""
		for l := range strings.SplitSeq(text, "\n") {
			if strings.Contains(l, want[0]+" ") || strings.HasPrefix(strings.TrimSpace(l), want[0]) {
				line = l
				break
			}
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("line %q lacks %q:\n%s", want[0], w, text)
			}
		}
	}
	if _, rankings, _ := strings.Cut(text, "\nrankings"); strings.Contains(rankings, "0.0%") {
		t.Errorf("a figure of no items printed as 0:\n%s", text)
	}
}
