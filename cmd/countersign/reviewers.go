package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/report"
)

func newReviewers() *cobra.Command {
	var (
		cf           clientFlags
		taskType     string
		since, until string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "reviewers --type T",
		Short: "How each reviewer of a task type decides: approval rate, speed, gold accuracy",
		Long: `Prints, per person who decided reviews of the task type:

- decisions, how many were approvals, corrections and rejections, and the
  approval rate;
- decision time percentiles (p10, p50, p90), from a review's opening to the
  person's decision;
- gold items: how many they decided, how many rightly, and how many wrong
  gold drafts they approved as they were;
- signals of rubber-stamping: approves_nearly_all (95% or more of at least
  20 decisions), decides_in_seconds (median under 10 s over at least 20),
  approved_wrong_gold, low_gold_accuracy (under 80% of at least 5 gold items).

Gold items are documents with known answers that the task type lists under
gold:, slipped into the review queue at gold.rate per review opened. They look
like any other review in the queue.

Needs the approver, auditor or admin role: reviewers do not see these figures.`,
		Example: `  countersign reviewers --type contract-review
  countersign reviewers --type contract-review --since 2026-11-01 --json`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			rep, err := c.Reviewers(cmd.Context(), taskType, since, until)
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			return printReviewers(cmd.OutOrStdout(), rep)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type (required)")
	cmd.Flags().StringVar(&since, "since", "", "only documents submitted at or after this date or RFC 3339 time")
	cmd.Flags().StringVar(&until, "until", "", "only documents submitted before this date or RFC 3339 time")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON, with each wrong gold decision")
	return cmd
}

func printReviewers(out io.Writer, rep *report.Reviewers) error {
	fmt.Fprintf(out, "%s: %d gold items slipped into the queue\n", rep.TaskType, rep.GoldSlipped)
	if len(rep.Reviewers) == 0 {
		fmt.Fprintln(out, "no decisions yet")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVIEWER\tDECISIONS\tAPPROVE\tCORRECT\tREJECT\tAPPROVAL\tP10\tP50\tP90\tGOLD\tGOLD RIGHT\tWRONG APPROVED\tSIGNALS")
	for _, r := range rep.Reviewers {
		accuracy := "-"
		if r.Gold.Accuracy != nil {
			accuracy = fmt.Sprintf("%d (%.0f%%)", r.Gold.Right, 100**r.Gold.Accuracy)
		}
		signals := strings.Join(r.Signals, ",")
		if signals == "" {
			signals = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.0f%%\t%s\t%s\t%s\t%d\t%s\t%d\t%s\n",
			r.User, r.Decisions, r.Approved, r.Corrected, r.Rejected, 100*r.ApprovalRate,
			percentile(r.DecisionSeconds, "p10"), percentile(r.DecisionSeconds, "p50"), percentile(r.DecisionSeconds, "p90"),
			r.Gold.Decided, accuracy, r.Gold.ApprovedWrong, signals)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rep.Reviewers {
		if g := r.Gold.Ranking; g != nil {
			fmt.Fprintf(out, "%s on gold rankings: %d items, best right %d (%s), mean tau-b to the known ranking %s over %d\n",
				r.User, g.Items, g.BestRight, optional(g.BestAccuracy, "%.0f%%", 100), optional(g.TauB, "%.2f", 1), g.TauItems)
		}
	}
	return nil
}

// percentile formats a decision-time percentile, or "-" when there is none.
func percentile(ps map[string]float64, name string) string {
	v, ok := ps[name]
	if !ok {
		return "-"
	}
	return seconds(v)
}
