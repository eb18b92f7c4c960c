package main

import (
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/wire"
	"github.com/countersign/countersign/internal/certify"
	"github.com/countersign/countersign/internal/export"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/report"
)

func newPolicyReset() *cobra.Command {
	var (
		cf       clientFlags
		taskType string
		reason   string
	)
	cmd := &cobra.Command{
		Use:   "reset --type T --reason TEXT",
		Short: "Lift a supervisor's tightening of a task type's policy",
		Long: `When audits show that more auto-accepted documents of a task type were wrong
than its error budget allows, its supervisor tightens the policy (a higher
auto-accept threshold, or every document to a person) and holds it so. This
lifts the tightening: new documents run under the policy in force beneath it
(the latest policy version, set by policy apply or policy set, or the task
type's own policy when there is none), and the escaped-error estimate starts
afresh. Say what was fixed in --reason;
it is recorded in the audit log with your name.

Needs the approver or admin role.`,
		Example: `  countersign policy reset --type pii-extraction --reason "prompt v7 fixes the DOB format; 200 re-audited docs clean"`,
		Args:    usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			o, err := c.ResetPolicy(cmd.Context(), taskType, reason)
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "policy of %s reset by %s: override %s (%s) lifted; new documents run under the policy in force beneath it (countersign stats --type %s shows it)\n",
				taskType, o.ResetBy, o.ID, describeOverride(o), taskType)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type whose policy to reset (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the tightening is no longer needed (required)")
	return cmd
}

func describeOverride(o *countersign.PolicyOverride) string {
	if o.Mode == countersign.ModeHITL {
		return "every document to a person"
	}
	return "auto-accept threshold " + certify.FormatThreshold(o.Threshold)
}

func newVeto() *cobra.Command {
	var (
		cf         clientFlags
		reason     string
		fields     []string
		fieldsJSON string
	)
	cmd := &cobra.Command{
		Use:   "veto DOCUMENT_ID reject|correct",
		Short: "Override an auto-accepted document within its policy's veto window",
		Long: `A task type whose policy sets a veto_window holds each auto-accepted document
back from delivery for that long. Within the window a supervisor may reject it
(with a reason) or correct its fields; after it, only an audit can correct it.

Needs the approver or admin role.`,
		Example: `  countersign veto 3f2a... reject --reason "the counterparty is under sanctions review"
  countersign veto 3f2a... correct --field term_months=24`,
		Args: usage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := wire.VetoRequest{Action: countersign.Action(args[1]), Reason: reason}
			if v.Action != countersign.ActionReject && v.Action != countersign.ActionCorrect {
				return exitError{code: 2, err: fmt.Errorf("unknown veto %q: use reject or correct", args[1])}
			}
			patch, err := parseFields(fields, fieldsJSON)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			if len(patch) > 0 {
				v.Fields = patch
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			res, err := c.Veto(cmd.Context(), args[0], v)
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "document %s vetoed (%s) by %s; it is %s\n", res.Document.ID, res.Decision.Action, res.Decision.Actor, res.Document.Status)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (required to reject)")
	cmd.Flags().StringArrayVar(&fields, "field", nil, "corrected field NAME=VALUE (repeatable)")
	cmd.Flags().StringVar(&fieldsJSON, "fields", "", `corrected fields as a JSON object, e.g. '{"term_months": 24}'`)
	return cmd
}

func newStats() *cobra.Command {
	var (
		cf       clientFlags
		taskType string
		by       string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "stats --type T [--by rule]",
		Short: "Supervision state and quality figures of a task type",
		Long: `Prints where a task type's autonomy stands and how its reviews go:

- supervision: the escaped-error estimate of auto-accepted documents (audits
  that corrected them, over audits, after the evidence of the certificate the
  window started from, if any), its confidence bounds, the error budget,
  whether the supervisor has tightened the policy; it counts audits in the
  order they were drawn, each once decided or due, and says which audit it
  waits for, how many it counted as escaped for want of a verdict in time,
  and how many it passed (of another policy version, or counted before);
- documents by status and route, and the auto-accept rate;
- per field: how often people corrected it, the calibration error (ECE) of its
  confidence, and, where two people decided the same document, their percent
  agreement and Cohen's kappa, and where three or more did, Fleiss' kappa
  and Krippendorff's alpha;
- reviews: opened, pending, audits, overdue, SLA breaches, and decision time
  percentiles;
- for a comparison task type: how far rankings agree (Kendall's tau-b and
  the share of candidate pairs ordered alike, a pair both tie counting as
  alike), between the first two people who ranked an item and between the
  judge and the final ranking, and per rubric criterion the share of the
  judge's scores the person kept and their mean absolute difference, over
  all time and by ISO week; n/a where no item has the figure.

With --by rule, per detection rule (the alert's metadata.rule_name, which a
verdict task type's input.map fills): alerts, decided verdicts, the
false-positive rate (final label false_positive over decided), the
automatic-closure rate, audits of automatic closures, how many the audit
changed and how many of those were escaped true positives, and the mean
time from submission to verdict.

Needs the approver, auditor or admin role.`,
		Example: `  countersign stats --type pii-extraction
  countersign stats --type soc-alert-triage --by rule`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if by != "" && by != "rule" {
				return fmt.Errorf("--by %q: the figures can be broken down by rule only (--by rule)", by)
			}
			st, err := c.StatsBy(cmd.Context(), taskType, by)
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			if by == "rule" {
				return printRules(cmd.OutOrStdout(), st)
			}
			return printStats(cmd.OutOrStdout(), st)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type (required)")
	cmd.Flags().StringVar(&by, "by", "", "break the figures down: rule (per detection rule)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
	return cmd
}

// printRules prints the figures per detection rule, a rule a row.
func printRules(out io.Writer, st *wire.Stats) error {
	if len(st.Rules) == 0 {
		fmt.Fprintf(out, "%s: no documents yet\n", st.TaskType)
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tALERTS\tDECIDED\tFALSE POS\tFP RATE\tAUTOMATIC\tAUTO RATE\tVETOED\tAUDITED\tCHANGED\tESCAPED TP\tESCAPED AT MOST\tMEAN TO VERDICT")
	for _, r := range st.Rules {
		rule := r.Rule
		if rule == "" {
			rule = "(no rule named)"
		}
		mean := "-"
		if r.MeanSecondsToVerdict != nil {
			mean = seconds(*r.MeanSecondsToVerdict)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", rule, r.Documents, r.Decided, r.FalsePositives,
			optional(r.FalsePositiveRate, "%.1f%%", 100), r.Automatic, optional(r.AutomaticRate, "%.1f%%", 100), r.Vetoed, r.Audited, r.AuditChanged, r.EscapedTruePositives,
			optional(r.EscapedBound, "%.1f%%", 100), mean)
	}
	return tw.Flush()
}

func printStats(out io.Writer, st *wire.Stats) error {
	sup := st.Supervision
	fmt.Fprintf(out, "%s: policy %s, %s\n", st.TaskType, sup.Policy.Version, describePolicy(sup.Policy))
	if v := sup.PolicyVersion; v != nil {
		fmt.Fprintf(out, "policy version %s in force since %s (by %s", v.ID, v.CreatedAt.Local().Format(time.DateTime), v.CreatedBy)
		if v.Certificate != "" {
			fmt.Fprintf(out, ", from certificate %s", v.Certificate)
		}
		fmt.Fprintf(out, "): %s\n", v.Reason)
	}
	switch sup.State {
	case wire.StateUnsupervised:
		fmt.Fprintln(out, "supervision: none (the policy sets no error budget)")
	default:
		fmt.Fprintf(out, "supervision: %s; error budget %s at %s confidence\n", sup.State, countersign.Percent(sup.Budget), countersign.Percent(sup.Level))
		if b := sup.Basis; b != nil && b.Certificate != nil {
			c := b.Certificate
			fmt.Fprintf(out, "  window from certificate %s: %d wrong of %d accepted at %s, data %s to %s",
				c.ID, c.Wrong, c.Accepted, certify.FormatThreshold(c.Threshold), c.Since.Local().Format(time.DateOnly), c.Until.Local().Format(time.DateOnly))
			if c.Refutes {
				fmt.Fprintln(out, "; the audits must refute it to tighten")
			} else {
				fmt.Fprintf(out, "; not counted: certified an error rate within %s at %s\n", countersign.Percent(c.Budget), countersign.Percent(c.Level))
			}
		}
		if e := sup.Estimate; e != nil {
			fmt.Fprintf(out, "  escaped errors: %d of %d audited", e.Escaped, e.Audits)
			if s := e.Start; s != nil {
				fmt.Fprintf(out, " after %d of %d certified", s.Escaped, s.Audits)
			}
			// The bounds rounded outwards, so that neither reads as
			// inside the budget when it is not.
			fmt.Fprintf(out, "; the audits' rate %.1f%%, bounds %.1f%% to %.1f%% (%s)", 100*e.Rate, math.Floor(1000*e.Lower)/10, math.Ceil(1000*e.Bound-1e-9)/10, e.Method)
			switch {
			case e.Rule == quality.RuleRefute:
				fmt.Fprintf(out, "; the policy is tightened when the lower bound is over the budget")
			case e.Audits < e.MinAudits:
				fmt.Fprintf(out, "; judged from %d audits on", e.MinAudits)
			}
			fmt.Fprintln(out)
		} else {
			fmt.Fprintln(out, "  no audits since the window started")
		}
		switch {
		case sup.DrawOrder && sup.IgnoredReports > 0:
			fmt.Fprintf(out, "  %s not counted: drawn under a policy not the window's, or counted before (see the worker's log)\n", audits(sup.IgnoredReports))
		case sup.IgnoredReports > 0:
			fmt.Fprintf(out, "  %d audit reports not counted: the store did not confirm them (see the worker's log)\n", sup.IgnoredReports)
		}
		if sup.Overdue > 0 {
			fmt.Fprintf(out, "  %s of the window counted as escaped for want of a verdict in time (open when due, decided after it, or closed undecided)\n", audits(sup.Overdue))
		}
		if sup.Waiting != "" && sup.Until != nil {
			fmt.Fprintf(out, "  audits count in the order drawn: the next is the audit of %s, due %s: counted once decided, or then as escaped if still open\n",
				sup.Waiting, sup.Until.Local().Format(time.DateTime))
		}
		if o := sup.Override; o != nil {
			fmt.Fprintf(out, "  TIGHTENED since %s (%s): %s\n  lift it with: countersign policy reset --type %s --reason ...\n",
				o.At.Local().Format(time.DateTime), describeOverride(o), o.Reason, st.TaskType)
		}
	}
	q := st.Quality
	if q == nil {
		return nil
	}
	fmt.Fprintf(out, "\ndocuments: %d", q.Documents)
	for _, s := range []countersign.Status{countersign.StatusProcessing, countersign.StatusAwaitingReview, countersign.StatusAccepted, countersign.StatusRejected, countersign.StatusFailed} {
		if n := q.Statuses[s]; n > 0 {
			fmt.Fprintf(out, ", %s %d", s, n)
		}
	}
	fmt.Fprintf(out, "\nroutes:")
	for _, o := range []countersign.Outcome{countersign.OutcomeAutoAccept, countersign.OutcomeAutoAcceptWithAudit, countersign.OutcomeHumanReview, countersign.OutcomeReject} {
		fmt.Fprintf(out, " %s %d", o, q.Routes[o])
	}
	fmt.Fprintf(out, "; auto-accept rate %.1f%%\n", 100*q.AutoAcceptRate)
	rv := q.Reviews
	fmt.Fprintf(out, "reviews: %d opened (%d audits), %d pending, %d overdue, %d SLA breaches", rv.Opened, rv.Audits, rv.Pending, rv.Overdue, rv.Breaches)
	if p50, ok := rv.DecisionSeconds["p50"]; ok {
		fmt.Fprintf(out, "; decision time p50 %s, p90 %s, p99 %s", seconds(p50), seconds(rv.DecisionSeconds["p90"]), seconds(rv.DecisionSeconds["p99"]))
	}
	fmt.Fprintln(out)
	if len(q.Fields) == 0 {
		fmt.Fprintln(out, "\nno field has been checked by a person yet")
		return printComparison(out, q.Comparison)
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	// Agreement among three or more people has columns only where some
	// document had that many.
	groups := slices.ContainsFunc(q.Fields, func(f report.FieldReport) bool { return f.Groups > 0 })
	header := "FIELD\tCHECKED\tCORRECTED\tRATE\tECE\tPAIRS\tAGREEMENT\tKAPPA\t"
	if groups {
		header += "3+ PEOPLE\tFLEISS KAPPA\tALPHA\t"
	}
	fmt.Fprintln(tw, header)
	for _, f := range q.Fields {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%s\t%d\t%s\t%s\t", f.Field, f.Checked, f.Corrected, 100*f.CorrectionRate,
			optional(f.ECE, "%.3f", 1), f.Pairs, optional(f.Agreement, "%.1f%%", 100), optional(f.Kappa, "%.2f", 1))
		if groups {
			fmt.Fprintf(tw, "%d\t%s\t%s\t", f.Groups, optional(f.FleissKappa, "%.2f", 1), optional(f.Alpha, "%.2f", 1))
		}
		fmt.Fprintln(tw)
	}
	if groups {
		fmt.Fprintln(tw, "(3+ PEOPLE: documents three or more people decided; Fleiss' kappa when the same number decided each, Krippendorff's alpha (nominal) in any case)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printComparison(out, q.Comparison)
}

// printComparison prints how far a comparison task type's rankings agree;
// nothing for other task types.
func printComparison(out io.Writer, c *report.ComparisonReport) error {
	if c == nil {
		return nil
	}
	fmt.Fprintln(out, "\nrankings (pairwise: share of candidate pairs ordered alike, a pair both tie counting as alike; tau-b: Kendall's, over the items where defined):")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tITEMS\tPAIRWISE\tTAU-B\tTAU ITEMS\t")
	for _, row := range []struct {
		name string
		a    report.RankAgreement
	}{{"two people", c.People}, {"judge vs final", c.Judge}} {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t\n", row.name, row.a.Items, optional(row.a.PairwiseAgreement, "%.1f%%", 100), optional(row.a.TauB, "%.2f", 1), row.a.TauItems)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "three or more people: Kendall's W %s (concordance, corrected for ties; mean over %d items, %d rankings)\n",
		optional(c.Concordance.KendallW, "%.2f", 1), c.Concordance.Items, c.Concordance.Rankings)
	if c.Judge.Items == 0 {
		fmt.Fprintln(out, "judge's scores: n/a (0 items a person settled)")
		return nil
	}
	fmt.Fprintln(out, "\njudge's scores against the person's (exact: share the same; mean |diff| in points of the criterion's scale):")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WEEK\tCRITERION\tSCORES\tEXACT\tMEAN |DIFF|\tITEMS\tPAIRWISE\tTAU-B\t")
	rows := append([]report.JudgeWeek{{Week: "all", Judge: c.Judge, Criteria: c.Criteria}}, c.Weeks...)
	for _, w := range rows {
		if len(w.Criteria) == 0 {
			fmt.Fprintf(tw, "%s\t(none scored)\t0\tn/a\tn/a\t%d\t%s\t%s\t\n", w.Week, w.Judge.Items, optional(w.Judge.PairwiseAgreement, "%.1f%%", 100), optional(w.Judge.TauB, "%.2f", 1))
		}
		for i, cr := range w.Criteria {
			ranking := "\t\t\t"
			if i == 0 {
				ranking = fmt.Sprintf("%d\t%s\t%s\t", w.Judge.Items, optional(w.Judge.PairwiseAgreement, "%.1f%%", 100), optional(w.Judge.TauB, "%.2f", 1))
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", w.Week, cr.Criterion, cr.Scores, optional(cr.Exact, "%.1f%%", 100), optional(cr.MeanAbsDiff, "%.2f", 1), ranking)
		}
	}
	return tw.Flush()
}

func optional(v *float64, format string, scale float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v*scale)
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func newExport() *cobra.Command { return exportCommand(false) }

// exportCommand is countersign export or, ofBatch, countersign batch
// export NAME: the same export, of one batch's documents.
func exportCommand(ofBatch bool) *cobra.Command {
	var (
		cf             clientFlags
		format         string
		taskType       string
		batch          string
		since, until   string
		humanOnly      bool
		excludeFlagged bool
		output         string
	)
	cmd := &cobra.Command{
		Use:   "export --format sft|preference|csv|eval|label-studio|argilla|hf",
		Short: "Export decided documents as labeled data: SFT, preference pairs, CSV, evaluation sets, Label Studio, Argilla",
		Long: `Streams the accepted documents as training or evaluation data:

  sft         JSONL, one chat per document: system = the task type's guideline,
              user = the document, assistant = the final fields as JSON
  preference  JSONL, only documents a person changed: prompt (system and user
              messages), chosen = the final fields, rejected = the draft
  csv         one row per field of each document: draft and final value, the
              change, confidence, who decided, model, prompt and policy versions
  eval        JSONL: the document and its final fields as the expected answer
  label-studio  a JSON array of Label Studio tasks (one a line): data.text =
              the document, annotations = the final fields (a TextArea per
              field, an "evidence" span where the draft's quote stands),
              predictions = the draft with its confidence
  argilla     JSONL of Argilla 2 records: fields.text = the document,
              suggestions = the draft with scores, responses = the final
              fields (status "submitted")
  hf          a folder (--output DIR, required) that Hugging Face datasets
              loads: sft.jsonl, preference.jsonl and a README.md dataset
              card naming them as configurations, with counts, fields and
              lineage (task type and guideline versions, policies, models,
              prompts, countersign version, export time, filter); for
              comparison items pairwise.jsonl, ranked.jsonl and sft.jsonl
              of the improved responses instead (select comparisons and
              other documents apart, with --type)

Every JSONL line carries metadata with the document's lineage (task type,
policy, model and prompt versions, reviewers, audit event IDs). The export
streams: memory stays flat however many documents match. It is written to
standard output unless --output is given; progress goes to standard error.

Needs the approver, auditor or admin role.`,
		Example: `  countersign export --format sft --type contract-review --human-only --output sft.jsonl
  countersign export --format preference --since 2026-01-01 --exclude-flagged > prefs.jsonl
  countersign export --format csv --type pii-extraction --output decisions.csv
  countersign export --format label-studio --type contract-review -o tasks.json
  countersign export --format hf --type contract-review --human-only -o contract-review-data/
  countersign export --format eval --batch data-room-7`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == hfFormat {
				if output == "" {
					return exitError{code: 2, err: fmt.Errorf("--format hf writes a folder: give it with --output DIR")}
				}
			} else if _, err := export.ParseFormat(format); err != nil {
				return exitError{code: 2, err: fmt.Errorf("%w, or hf", err)}
			}
			if ofBatch {
				batch = args[0]
			}
			if batch != "" {
				if err := countersign.CheckBatchName(batch); err != nil {
					return exitError{code: 2, err: err}
				}
			}
			q := url.Values{}
			for name, value := range map[string]string{"task_type": taskType, "batch": batch, "since": since, "until": until} {
				if value != "" {
					q.Set(name, value)
				}
			}
			if humanOnly {
				q.Set("human_only", "true")
			}
			if excludeFlagged {
				q.Set("exclude_flagged", "true")
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if format == hfFormat {
				return exportHF(cmd, c, q, output)
			}
			q.Set("format", format)
			var w io.Writer = cmd.OutOrStdout()
			var file *os.File
			if output != "" {
				if file, err = os.Create(output); err != nil {
					return err
				}
				w = file
			}
			progress := cmd.ErrOrStderr()
			lines, err := c.Export(cmd.Context(), q, w, func(n int) {
				fmt.Fprintf(progress, "\rexported %d lines", n)
			})
			fmt.Fprintln(progress)
			if file != nil {
				if cerr := file.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return friendly(err)
			}
			where := "standard output"
			if output != "" {
				where = output
			}
			if format == string(export.LabelStudio) {
				// A task a line, between the lines of the array's brackets.
				fmt.Fprintf(progress, "%d Label Studio tasks written to %s\n", max(lines-2, 0), where)
				return nil
			}
			fmt.Fprintf(progress, "%d %s lines written to %s\n", lines, format, where)
			return nil
		},
	}
	if ofBatch {
		cmd.Use = "export NAME --format sft|preference|csv|eval|label-studio|argilla|hf"
		cmd.Short = "Export a batch's accepted documents as labeled data"
		cmd.Long = "The export of \"countersign export\", of one batch's documents.\n\n" + cmd.Long
		cmd.Example = `  countersign batch export data-room-7 --format csv --output data-room-7.csv
  countersign batch export alerts-2026-03-14 --format sft --human-only > sft.jsonl`
		cmd.Args = usage(cobra.ExactArgs(1))
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&format, "format", "", "sft, preference, csv, eval, label-studio, argilla or hf (required)")
	cmd.Flags().StringVar(&taskType, "type", "", "only documents of this task type")
	if !ofBatch {
		cmd.Flags().StringVar(&batch, "batch", "", "only documents of this batch")
	}
	cmd.Flags().StringVar(&since, "since", "", "only documents submitted at or after this date or RFC 3339 time")
	cmd.Flags().StringVar(&until, "until", "", "only documents submitted before this date or RFC 3339 time")
	cmd.Flags().BoolVar(&humanOnly, "human-only", false, "only documents a person approved, corrected, audited or vetoed")
	cmd.Flags().BoolVar(&excludeFlagged, "exclude-flagged", false, "leave out documents whose first outcome an audit or a veto changed")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output (for hf: the folder, required)")
	return cmd
}

// audits is n audits, in words.
func audits(n int) string {
	if n == 1 {
		return "1 audit"
	}
	return fmt.Sprintf("%d audits", n)
}
