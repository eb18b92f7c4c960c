package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/tasktype"
)

func newTaskType() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tasktype",
		Short: "Check task type files",
	}
	cmd.AddCommand(newTaskTypeValidate())
	return cmd
}

func newTaskTypeValidate() *cobra.Command {
	return &cobra.Command{
		Use:   "validate DIR|FILE...",
		Short: "Check task type files: schema, rules, CEL constraints and policy rules, prompts",
		Long: `Reads task type YAML files (a folder is searched as the server searches it: its
.yaml files and those of its immediate subfolders) and checks everything the
server would: the fields' JSON Schema, the rules' patterns and transforms, the
CEL of constraints, risk and reject rules, the prompt templates (they must
parse, render and show the document), the model settings, the scoring weights
and the policy. Every problem is named with its file and field. Needs no
server.

Exits 0 when all files are valid, 1 otherwise.`,
		Example: `  countersign tasktype validate examples
  countersign tasktype validate my-types/claims.yaml`,
		Args: usage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var types []*countersign.TaskType
			var problems []string
			for _, arg := range args {
				found, err := loadTaskTypes(arg)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				types = append(types, found...)
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			for _, tt := range types {
				fmt.Fprintf(tw, "ok\t%s\tversion %s\textractor %s\tpolicy %s %s\t%d fields\n", tt.Name, tt.Version, tt.Extractor.Kind, tt.Policy.Mode, tt.Policy.Version, len(tt.FieldOrder))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(problems) > 0 {
				return exitError{code: 1, err: fmt.Errorf("invalid task types:\n  %s", strings.ReplaceAll(strings.Join(problems, "\n"), "\n", "\n  "))}
			}
			return nil
		},
	}
}

// loadTaskTypes reads one task type file or every task type of a folder.
func loadTaskTypes(path string) ([]*countersign.TaskType, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		reg, err := tasktype.LoadDir(path)
		if err != nil {
			return nil, err
		}
		return reg.All(), nil
	}
	source, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tt, err := tasktype.Parse(source, path)
	if err != nil {
		return nil, err
	}
	return []*countersign.TaskType{tt}, nil
}

func newPolicy() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Certify, apply and set a task type's routing policy; try it on past documents; lift a supervisor's tightening",
	}
	cmd.AddCommand(newPolicySimulate(), newPolicyCertify(), newPolicyCertificates(), newPolicyApply(), newPolicySet(), newPolicyVersions(), newPolicyReset())
	return cmd
}

func newPolicySimulate() *cobra.Command {
	var (
		cf         clientFlags
		taskType   string
		thresholds []float64
		level      float64
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "simulate --type T [--threshold X] [--level L]",
		Short: "Replay held-out scores and outcomes: how many documents each threshold sends to people, how many it gets wrong",
		Long: `Replays every finished document of a task type that the active calibration did
not train on (and those still awaiting a review past its due time) through its
current policy in hotl mode, with the confidence recomputed through that
calibration and the current risk and reject rules, at thresholds from 0.5 to
0.999 and any given with --threshold. Documents the calibration trained on
are left out: their outcomes would flatter it.

For each threshold it prints how many documents would have gone to a person,
how many would have been accepted without one, how many of those the evidence
counts (KNOWN, n: what policy certify counts, a person's verdict in the
uniform sample once its review or audit is due) and how many of them were
wrong (WRONG, k: corrected, rejected, or without a verdict when due), the
error rate k/n and its one-sided Clopper-Pearson upper bound at --level,
rounded up; n/a when no accepted document has a known outcome. The others
have none (UNCHECKED): nobody audited them, or their review or audit is not
due yet.

Needs the approver, auditor or admin role.`,
		Example: `  countersign policy simulate --type pii-extraction
  countersign policy simulate --type pii-extraction --threshold 0.9953 --level 0.99`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			if err := requireShare(cmd, "level", level, true, true); err != nil {
				return err
			}
			for _, t := range thresholds {
				if err := requireShare(cmd, "threshold", t, false, false); err != nil {
					return err
				}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			res, err := c.SimulatePolicy(cmd.Context(), taskType, level, thresholds...)
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			return printSimulation(cmd.OutOrStdout(), res, thresholds)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type to simulate (required)")
	cmd.Flags().Float64SliceVar(&thresholds, "threshold", nil, "threshold(s) to try besides the default range, between 0 and 1 (repeat or separate with commas)")
	cmd.Flags().Float64Var(&level, "level", 0.95, "confidence level of the upper bounds")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the simulation as JSON")
	return cmd
}

// requireType refuses a command run without its --type, as a usage error.
func requireType(cmd *cobra.Command, taskType string) error {
	if taskType == "" {
		return exitError{code: 2, err: fmt.Errorf("--type is required\nSee '%s --help'.", cmd.CommandPath())}
	}
	return nil
}

// requireShare says, as a usage error, what is wrong with a share given in
// a flag (a level, a budget, a threshold or a rate): it must be a number
// within [lo, hi], open at an end whose bound is excluded. Checked before the
// request is sent, so that a value the CLI cannot send (NaN) is named, and
// one it would not send (a level of 0, which the client leaves to the
// server's default) is refused rather than taken for the default.
func requireShare(cmd *cobra.Command, flag string, v float64, openLow, openHigh bool) error {
	low := v > 0 || (!openLow && v == 0)
	high := v < 1 || (!openHigh && v == 1)
	if low && high {
		return nil
	}
	lo, hi := "[0", "1]"
	if openLow {
		lo = "(0"
	}
	if openHigh {
		hi = "1)"
	}
	return exitError{code: 2, err: fmt.Errorf("--%s must be a number in %s, %s, not %v\nSee '%s --help'.", flag, lo, hi, v, cmd.CommandPath())}
}
