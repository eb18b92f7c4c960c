package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/wire"
)

func newCalibrate() *cobra.Command {
	var (
		cf       clientFlags
		taskType string
		seed     int64
		holdout  float64
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "calibrate --type T [--seed N] [--holdout 0.5]",
		Short: "Learn a task type's confidence from the human outcomes so far",
		Long: `Learns, on the server, how the signals recorded with each field predict that a
person keeps the value as drafted (kept unchanged counts as right, corrected
or removed as wrong; an optional field the draft left empty is right when the
person left it empty too): a logistic regression with an L2 penalty on the
signals, the log-odds of those that take many values, and indicators of
absent signals, pooled over all fields, and per field (pulled toward the
pooled model) where a field has 30 outcomes of both kinds and its own model
predicts better out of sample. A document's confidence is the probability
that every field is right: the product of its fields' probabilities (a
missing required value counts as wrong), calibrated by a Platt map fitted out
of fold. No probability reaches 0 or 1.

It learns only from the training split of the reviewed documents: a share
--holdout of them, drawn by the seed, is kept for certifying a threshold.
Folds and split follow --seed (random when not given; it is printed and
recorded): the same seed on the same outcomes gives the same calibration.

Prints, out of sample (5-fold cross-validation): each signal's AUC, per field
and over all fields the calibration error (ECE, 10 bins) before and after,
the Brier score and AUC of the probabilities each field uses, and the same
for the document confidence. The calibration is stored; it becomes active
(routing uses it) only when its document Brier score beats the active
calibration's on the same documents, or the uncalibrated confidence's when
none is active. Otherwise it says why and exits 0.

Needs the approver or admin role.`,
		Example: `  countersign calibrate --type contract-review
  countersign calibrate --type contract-review --seed 7 --holdout 0.3 --json`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			req := wire.CalibrateRequest{TaskType: taskType, Holdout: &holdout}
			if cmd.Flags().Changed("seed") {
				req.Seed = &seed
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "learning a calibration for %s from its human outcomes ...\n", taskType)
			cal, err := c.Calibrate(cmd.Context(), req)
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), cal)
			}
			return printCalibration(cmd.OutOrStdout(), cal)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type to calibrate (required)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "seed of the holdout split and the folds (default random, printed)")
	cmd.Flags().Float64Var(&holdout, "holdout", 0.5, "share of reviewed documents kept out of training, for certification")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the calibration as JSON, with its model and whether it is active")
	return cmd
}

func printCalibration(out io.Writer, cal *countersign.Calibration) error {
	rep := cal.Report
	fmt.Fprintf(out, "calibration %s of %s: learned from %d reviewed documents, %d held out for certification, each counted once its review is due (seed %d, holdout %.2f; task type versions %s)\n",
		cal.Version, cal.TaskType, rep.Documents, rep.HeldOut, cal.Seed, cal.Holdout, strings.Join(rep.TaskTypeVersions, ", "))
	if cal.Active {
		fmt.Fprintln(out, "active: routing of new documents uses it from now on")
	} else {
		fmt.Fprintf(out, "NOT ACTIVE: stored, but routing keeps the calibration it had: %s\n", cal.Inactive)
	}

	fmt.Fprintln(out, "\nSignals, each alone, at field level (training split):")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SIGNAL\tOUTCOMES\tAUC\t")
	for _, s := range rep.Signals {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", s.Signal, s.Present, figure(s.AUC))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(out, "\nFields: raw score before, the model each field uses after (out of sample):")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "FIELD\tOUTCOMES\tCORRECT\tECE BEFORE\tECE AFTER\tBRIER\tAUC\tMODEL\t")
	for _, f := range rep.Fields {
		model := "pooled"
		if f.Own {
			model = "own"
		}
		name := f.Field
		if f.Omitted {
			name += " (left empty)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.3f\t%.3f\t%.4f\t%s\t%s\t\n", name, f.Samples, 100*f.Accuracy, f.ECEBefore, f.ECEAfter, f.Brier, figure(f.AUC), model)
	}
	p := rep.Pooled
	fmt.Fprintf(tw, "(all fields)\t%d\t%.1f%%\t%.3f\t%.3f\t%.4f\t%s\t\t\n", p.Samples, 100*p.Accuracy, p.ECEBefore, p.ECEAfter, p.Brier, figure(p.AUC))
	if err := tw.Flush(); err != nil {
		return err
	}
	said := map[string]bool{}
	for _, f := range rep.Fields {
		if f.Pooled != "" && !said[f.Field] {
			said[f.Field] = true
			fmt.Fprintf(out, "  %s uses the pooled model: %s\n", f.Field, f.Pooled)
		}
	}

	if d := rep.Document; d != nil {
		fmt.Fprintf(out, "\nDocuments: P(every field right); %d documents, %.1f%% right as drafted:\n", d.Documents, 100*d.Accuracy)
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "CONFIDENCE\tECE\tBRIER\tAUC\t")
		fmt.Fprintf(tw, "uncalibrated (weakest field)\t%.3f\t%.4f\t%.3f\t\n", d.ECEBefore, d.BrierBefore, d.AUCBefore)
		fmt.Fprintf(tw, "this calibration, out of sample\t%.3f\t%.4f\t%.3f\t\n", d.ECEAfter, d.BrierAfter, d.AUCAfter)
		if err := tw.Flush(); err != nil {
			return err
		}
		against := "the uncalibrated confidence"
		if d.Baseline != "" {
			against = "the active calibration " + d.Baseline
		}
		fmt.Fprintf(out, "Compared with %s on %d documents: Brier %.4f, against %.4f.\n", against, d.Compared, d.ComparedBrier, d.BaselineBrier)
	}
	if cal.Active {
		fmt.Fprintln(out, "\nCheck the threshold with:")
		fmt.Fprintf(out, "  countersign policy simulate --type %s\n", cal.TaskType)
	}
	return nil
}

// figure prints an optional figure, or n/a.
func figure(x *float64) string {
	if x == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", *x)
}
