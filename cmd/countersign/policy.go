package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/api/wire"
	"github.com/countersign/countersign/internal/certify"
	"github.com/countersign/countersign/internal/simulate"
)

// printSimulation writes a simulation as a table; thresholds asked for
// with --threshold are marked.
func printSimulation(out io.Writer, res *simulate.Result, asked []float64) error {
	cal := res.Calibration
	if cal == "" {
		cal = "none (raw scores)"
	}
	fmt.Fprintf(out, "%s, policy %s, calibration %s: %d documents it did not train on (%d it did, left out); %d counted for the error rates (in the uniform sample, their review or audit due)",
		res.TaskType, res.PolicyVersion, cal, res.Documents, res.TrainedOn, res.Checked)
	if res.Unsampled > 0 {
		fmt.Fprintf(out, " (and %d decided in hotl outside the uniform sample, counted as unchecked: their share of less confident documents would bias the error rates)", res.Unsampled)
	}
	if res.NoVerdict > 0 {
		fmt.Fprintf(out, ", %d of them without a verdict when due (an open review or audit, a review that timed out), counted as wrong", res.NoVerdict)
		if res.OverdueReviews > 0 {
			fmt.Fprintf(out, " (%d still awaiting review: decide them)", res.OverdueReviews)
		}
	}
	if res.PendingReviews > 0 {
		fmt.Fprintf(out, "; %d reviewed documents whose review is not due yet (decided or still open) left out of them until it is", res.PendingReviews)
	}
	if res.PendingAudits > 0 {
		fmt.Fprintf(out, "; %d drawn for an audit not due yet, likewise", res.PendingAudits)
	}
	fmt.Fprint(out, "\n\n")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "THRESHOLD\tTO A PERSON\tAUTO-ACCEPTED\tKNOWN\tWRONG\tERROR RATE\tUPPER %s\tUNCHECKED\tREJECTED\t\n", countersign.Percent(res.Level))
	for _, r := range res.Rows {
		mark := ""
		for _, t := range asked {
			if t == r.Threshold {
				mark = " *"
			}
		}
		fmt.Fprintf(tw, "%s%s\t%d (%.1f%%)\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t\n", certify.FormatThreshold(r.Threshold), mark,
			r.Review, 100*r.ReviewRate, r.AutoAccepted, r.Known, r.Wrong, optional(r.ErrorRate, "%.3f", 1), upper(r.UpperBound), r.Unknown, r.Rejected)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nKNOWN: accepted without a person, in the uniform sample, with its review or audit due; WRONG: of those, corrected, rejected or without a verdict when due.\n"+
		"ERROR RATE: WRONG/KNOWN; UPPER: its one-sided Clopper-Pearson bound at %s confidence, rounded up; n/a: nothing known.\n", countersign.Percent(res.Level))
	return nil
}

// upper writes an upper bound to three decimals rounded up, so that a
// bound over a budget never prints as the budget (0 of 290 at 95% is
// 0.010277: 0.011, not 0.010).
func upper(v *float64) string {
	if v == nil {
		return "n/a"
	}
	// The bound times 1000 may land a hair over a whole number by
	// rounding: a bound of exactly 0.01 stays 0.010.
	return fmt.Sprintf("%.3f", math.Ceil(*v*1000-1e-9)/1000)
}

func newPolicyCertify() *cobra.Command {
	var (
		cf       clientFlags
		taskType string
		budget   float64
		level    float64
		horizon  int
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "certify --type T --error-budget E [--level L] [--horizon N]",
		Short: "Find the lowest auto-accept threshold whose error rate is within a budget, with a guarantee",
		Long: `Tests auto-accept thresholds on the reviewed documents of a task type that the
active calibration did not train on (a person approved, corrected, rejected or
audited them; gold items and vetoes left out, but a veto of a document the
uniform sample drew is its verdict), with their confidence recomputed through
that calibration, and certifies the lowest threshold at which the
error rate among the documents it would accept is within --error-budget, with
confidence --level.

The thresholds are every distinct confidence of those documents, tested from
the strictest down, each with an exact binomial test (as in Learn then Test):
with probability at least --level, the certified threshold's error rate is
within the budget on documents like these, and no threshold is rounded. The
sequence starts at the strictest threshold that accepts enough documents for a
record without errors to pass (331 for 1% at 95%, 65 for 5%, at a first
attempt); if it fails there or later, it starts again with a tenth of the
attempt's risk where a record with one error can pass (765 for 1%, 151 for
5%), so one confidently wrong document among the most confident does not
block certification for good.

From a period in hotl only the uniform sample counts: the documents drawn for
an audit and, drawn at the same audit sample rate (by ID and time received),
the documents sent to a person; the others a person decided there are left
out, since counting every document below the threshold in force but only a
share of those above it would weigh the less confident ones more. So
certifying again in hotl takes about 1/rate documents for each reviewed
document a refusal asks for. A document counts once its review or audit is
due (the policy's review_due, a day unless it says otherwise), however it
went: decided, with its verdict; still open, or timed out, as wrong. Before
that it is left out, decided or not, so that quick approvals do not come in
ahead of slow corrections: right after a review session only the reviews
already due count.

Every attempt counts: trying again after a refusal, on more documents, is
another chance for a threshold over the budget to pass, so the first attempt
at a task type, budget and level runs at 80% of the level's risk (1 - level) and the
k-th after it at 20%/(k(k-1)) of it (10%, 3.3%, ...): all attempts together
keep --level. Try again once as many more documents were reviewed as the
refusal says, not before. Each attempt is a policy.certification_attempted
audit event.

A certificate of the rate promises the chance that an accepted document is
wrong; the wrong ones among the next few hundred accepted documents land over
the budget nearly half the time when that rate is just within it. --horizon N
asks instead for a batch certificate: with confidence --level, at most the
budget's share of each next N auto-accepted documents (taken alone) is
wrong. Half of the level's risk covers the batch's own chance, the other half
certifies a stricter rate (at 5% and 95%: 3.28% over 400 documents, 4.13%
over 2,000), so it needs more reviewed documents and sends more to people; a
task type is then supervised at that rate (or at its own budget, when
stricter). Attempts are counted per budget and level, with or without a
horizon. A
batch allows floor(budget·N) wrong documents, so pick N where budget·N is a
whole number: at 5%, 419 asks for a stricter rate (3.13%) than 400 (3.28%).

Prints the threshold, the share of documents that would go to a person, the
accepted documents n and the wrong ones k, and the Clopper-Pearson upper bound
of the error rate; the certificate is stored with an ID for
"countersign policy apply". When no threshold passes it says why and about how
many more reviewed documents it would need, and exits 1.

Needs the approver or admin role.`,
		Example: `  countersign policy certify --type pii-extraction --error-budget 0.01
  countersign policy certify --type pii-extraction --error-budget 0.05 --level 0.99
  countersign policy certify --type soc-alert --error-budget 0.05 --horizon 2000`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			if !cmd.Flags().Changed("error-budget") {
				return exitError{code: 2, err: fmt.Errorf("--error-budget is required (0.01 is 1%%)\nSee '%s --help'.", cmd.CommandPath())}
			}
			if err := requireShare(cmd, "error-budget", budget, true, true); err != nil {
				return err
			}
			if err := requireShare(cmd, "level", level, true, true); err != nil {
				return err
			}
			if err := certify.CheckHorizon(horizon); err != nil {
				return exitError{code: 2, err: fmt.Errorf("--horizon: %v\nSee '%s --help'.", err, cmd.CommandPath())}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			res, err := c.CertifyWith(cmd.Context(), wire.CertifyRequest{TaskType: taskType, ErrorBudget: budget, Level: &level, Horizon: horizon})
			if err != nil {
				// A refusal carries its test: with --json it goes to
				// standard output as the API gave it, the error beside it,
				// and the message to standard error as without.
				var apiErr *apiclient.Error
				if asJSON && errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity && json.Valid(apiErr.Body) {
					if err := printJSON(cmd.OutOrStdout(), apiErr.Body); err != nil {
						return err
					}
				}
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			printCertificate(cmd.OutOrStdout(), res.Certificate)
			if res.Test != nil && res.Test.Unsampled > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "  %d more reviewed documents, decided in hotl outside the uniform sample (not drawn at the audit sample rate), were left out\n", res.Test.Unsampled)
			}
			if res.Test != nil && res.Test.NoVerdict > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "  %d documents of the sample without a person's verdict when due (a review or audit still open then, a review that timed out) were tested as wrong\n", res.Test.NoVerdict)
			}
			if res.Test != nil && res.Test.PendingAudits > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "  %d documents drawn for an audit not due yet were left out until it is due, however it went\n", res.Test.PendingAudits)
			}
			if res.Test != nil && res.Test.PendingReviews > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "  %d documents sent to a person whose review is not due yet were left out until it is due, decided or not\n", res.Test.PendingReviews)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nPut it in force for documents started from now on with:\n  countersign policy apply --type %s --certificate %s\n", taskType, res.Certificate.ID)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type to certify (required)")
	cmd.Flags().Float64Var(&budget, "error-budget", 0, "highest acceptable error rate among auto-accepted documents, a share: 0.01 is 1% (required)")
	cmd.Flags().Float64Var(&level, "level", certify.DefaultLevel, "confidence level of the guarantee")
	cmd.Flags().IntVar(&horizon, "horizon", 0, "certify the wrong share of each next N auto-accepted documents, not only the error rate (0: the rate)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the certificate and the test as JSON (a refusal: its error and test, and exit status 1)")
	return cmd
}

func printCertificate(out io.Writer, c *countersign.Certificate) {
	cal := c.Calibration
	if cal == "" {
		cal = "none (uncalibrated confidence)"
	}
	fmt.Fprintf(out, "certificate %s of %s: threshold %s\n", c.ID, c.TaskType, certify.FormatThreshold(c.Threshold))
	if c.Horizon > 0 {
		fmt.Fprintf(out, "  error budget %s of each next %d accepted documents at %s confidence: the error rate within %s; upper bound of the error rate %.4f (%.2f%%), Clopper-Pearson\n",
			budgetPercent(c), c.Horizon, countersign.Percent(c.Level), countersign.Percent(c.RateBudget), c.Bound, 100*c.Bound)
	} else {
		fmt.Fprintf(out, "  error budget %s at %s confidence; upper bound of the error rate %.4f (%.2f%%), Clopper-Pearson\n",
			budgetPercent(c), countersign.Percent(c.Level), c.Bound, 100*c.Bound)
	}
	if c.Attempt > 0 {
		what := "this budget: tested"
		if c.Horizon > 0 {
			what = "this budget and level: the rate tested"
		}
		fmt.Fprintf(out, "  attempt %d at %s at %s confidence (the bound's), so that every attempt together keeps %s\n",
			c.Attempt, what, countersign.Percent(c.TestedAt), countersign.Percent(c.Level))
	}
	fmt.Fprintf(out, "  accepted n = %d, wrong k = %d; expected review share %.1f%% of %d held-out reviewed documents\n",
		c.Accepted, c.Wrong, 100*c.ReviewShare, c.Documents)
	fmt.Fprintf(out, "  %d thresholds tested; calibration %s; policy %s; documents created %s to %s\n",
		c.Tested, cal, c.PolicyVersion, c.Since.Local().Format(time.DateTime), c.Until.Local().Format(time.DateTime))
}

// budgetPercent is a certificate's budget as the approver asked for it,
// every digit kept: 5%, 0.25%.
func budgetPercent(c *countersign.Certificate) string {
	return strconv.FormatFloat(100*c.Budget, 'f', -1, 64) + "%"
}

// budgetText is a certificate's budget in a list: "5%", or "5% of 400" for
// a batch certificate.
func budgetText(c *countersign.Certificate) string {
	s := budgetPercent(c)
	if c.Horizon > 0 {
		s += " of " + strconv.Itoa(c.Horizon)
	}
	return s
}

func newPolicyCertificates() *cobra.Command {
	var (
		cf       clientFlags
		taskType string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "certificates --type T",
		Short: "List a task type's threshold certificates, newest first",
		Long: `Lists the certificates "countersign policy certify" stored for a task type,
newest first: threshold, budget and level, the upper bound, n and k, and the
calibration they certify.

Needs the approver, auditor or admin role.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			list, err := c.Certificates(cmd.Context(), taskType)
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), list)
			}
			out := cmd.OutOrStdout()
			if len(list) == 0 {
				fmt.Fprintf(out, "%s has no certificates yet: countersign policy certify --type %s --error-budget 0.01\n", taskType, taskType)
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTHRESHOLD\tBUDGET\tLEVEL\tBOUND\tN\tK\tREVIEW SHARE\tCALIBRATION\tCREATED\tBY")
			for _, c := range list {
				cal := c.Calibration
				if cal == "" {
					cal = "none"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4f\t%d\t%d\t%.1f%%\t%s\t%s\t%s\n", c.ID, certify.FormatThreshold(c.Threshold),
					budgetText(&c), countersign.Percent(c.Level), c.Bound, c.Accepted, c.Wrong, 100*c.ReviewShare,
					cal, c.CreatedAt.Local().Format(time.DateTime), c.CreatedBy)
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the certificates as JSON")
	return cmd
}

func newPolicyApply() *cobra.Command {
	var (
		cf          clientFlags
		taskType    string
		certificate string
		reason      string
		rate        float64
	)
	cmd := &cobra.Command{
		Use:   "apply --type T --certificate ID [--audit-rate R] [--reason TEXT]",
		Short: "Put a certificate's threshold in force, in hotl mode, without a restart",
		Long: `Makes a new policy version of the task type: hotl mode at the certificate's
threshold, the rest as the version in force had it. Documents whose review
starts from now on run under it; documents started before keep the policy
they started with. The certificate must have been made under the task type's
current rules and with the calibration routing uses now; otherwise certify
again. Recorded in the audit log (policy.applied) with your name.

Auto-accepted documents are audited at --audit-rate, or at the rate in force,
or at 10% when nothing is audited yet. A task type whose file names no
supervision is supervised from then on at the certificate's error budget and
level (confidence sequence; a breach raises the threshold).

Needs the approver or admin role.`,
		Example: `  countersign policy apply --type pii-extraction --certificate pii-extraction/c3`,
		Args:    usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			if certificate == "" {
				return exitError{code: 2, err: fmt.Errorf("--certificate is required\nSee '%s --help'.", cmd.CommandPath())}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			req := wire.PolicyApplyRequest{TaskType: taskType, Certificate: certificate, Reason: reason}
			if cmd.Flags().Changed("audit-rate") {
				if err := requireShare(cmd, "audit-rate", rate, false, false); err != nil {
					return err
				}
				req.AuditSampleRate = &rate
			}
			res, err := c.ApplyCertificate(cmd.Context(), req)
			if err != nil {
				return friendly(err)
			}
			printPolicyVersion(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type (required)")
	cmd.Flags().StringVar(&certificate, "certificate", "", "ID of the certificate to apply (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why; by default the certificate's figures")
	cmd.Flags().Float64Var(&rate, "audit-rate", 0, "share of auto-accepted documents audited from now on, from 0 to 1 (default: the rate in force, or 0.1 when none)")
	return cmd
}

func newPolicySet() *cobra.Command {
	var (
		cf        clientFlags
		taskType  string
		threshold float64
		mode      string
		rate      float64
		reason    string
	)
	cmd := &cobra.Command{
		Use:   "set --type T [--threshold X] [--mode hitl|hotl] [--audit-rate R] --reason TEXT",
		Short: "Change a task type's threshold, mode or audit rate without a restart",
		Long: `Makes a new policy version of the task type with the parts given changed and
the rest as the version in force had it. Documents whose review starts from now
on run under it; documents started before keep the policy they started with.
A threshold set by hand carries no certificate: prefer "policy certify" and
"policy apply". A supervisor's tightening stays on top until it is reset.
Recorded in the audit log (policy.set) with your name and --reason.

Needs the approver or admin role.`,
		Example: `  countersign policy set --type pii-extraction --mode hitl --reason "new form layout from March; back to full review"
  countersign policy set --type pii-extraction --audit-rate 0.2 --reason "more audits while the new prompt settles"`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			req := wire.PolicySetRequest{TaskType: taskType, Mode: countersign.Mode(mode), Reason: reason}
			if cmd.Flags().Changed("threshold") {
				if err := requireShare(cmd, "threshold", threshold, false, false); err != nil {
					return err
				}
				req.Threshold = &threshold
			}
			if cmd.Flags().Changed("audit-rate") {
				if err := requireShare(cmd, "audit-rate", rate, false, false); err != nil {
					return err
				}
				req.AuditSampleRate = &rate
			}
			if req.Threshold == nil && req.Mode == "" && req.AuditSampleRate == nil {
				return exitError{code: 2, err: fmt.Errorf("nothing to set: give --threshold, --mode or --audit-rate\nSee '%s --help'.", cmd.CommandPath())}
			}
			if reason == "" {
				return exitError{code: 2, err: fmt.Errorf("--reason is required\nSee '%s --help'.", cmd.CommandPath())}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			res, err := c.SetPolicy(cmd.Context(), req)
			if err != nil {
				return friendly(err)
			}
			printPolicyVersion(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type (required)")
	cmd.Flags().Float64Var(&threshold, "threshold", 0, "auto-accept threshold, from 0 to 1")
	cmd.Flags().StringVar(&mode, "mode", "", "hitl (every document to a person) or hotl (confident drafts accepted)")
	cmd.Flags().Float64Var(&rate, "audit-rate", 0, "share of auto-accepted documents audited, from 0 to 1")
	cmd.Flags().StringVar(&reason, "reason", "", "why the policy changes (required)")
	return cmd
}

func printPolicyVersion(out io.Writer, res *wire.PolicyResponse) {
	v, p := res.PolicyVersion, res.Policy
	fmt.Fprintf(out, "policy version %s of %s in force for documents started from now on (by %s)\n", v.ID, v.TaskType, v.CreatedBy)
	fmt.Fprintf(out, "  %s\n", describePolicy(p))
	fmt.Fprintf(out, "  version %s; reason: %s\n", p.Version, v.Reason)
}

// describePolicy says what a policy does with a document, in a line.
func describePolicy(p countersign.Policy) string {
	if p.Mode == countersign.ModeHITL {
		return "mode hitl: every document to a person"
	}
	s := fmt.Sprintf("mode hotl: auto-accept at or above %s", certify.FormatThreshold(p.AutoAcceptThreshold))
	if p.AuditSampleRate > 0 {
		s += fmt.Sprintf(", audit %s of them", strconv.FormatFloat(100*p.AuditSampleRate, 'f', -1, 64)+"%")
	}
	return s
}

func newPolicyVersions() *cobra.Command {
	var (
		cf       clientFlags
		taskType string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "versions --type T",
		Short: "List a task type's policy versions, newest first, and the policy in force",
		Long: `Lists the policy versions approvers put in force for a task type ("policy
apply", "policy set"), newest first, and the policy new documents start under:
the task type's own, then the newest version, then a supervisor's tightening.

Needs the approver, auditor or admin role.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireType(cmd, taskType); err != nil {
				return err
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			list, policy, err := c.PolicyVersions(cmd.Context(), taskType)
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"versions": list, "policy": policy})
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "in force: %s (version %s)\n", describePolicy(*policy), policy.Version)
			if len(list) == 0 {
				fmt.Fprintln(out, "no policy versions: the task type's own policy")
				return nil
			}
			fmt.Fprintln(out)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMODE\tTHRESHOLD\tAUDIT RATE\tCERTIFICATE\tCREATED\tBY\tREASON")
			for _, v := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, orDash(string(v.Mode)), thresholdOrDash(v.Threshold), rateOrDash(v.AuditSampleRate),
					orDash(v.Certificate), v.CreatedAt.Local().Format(time.DateTime), v.CreatedBy, v.Reason)
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "task type (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the versions and the policy in force as JSON")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func thresholdOrDash(x *float64) string {
	if x == nil {
		return "-"
	}
	return certify.FormatThreshold(*x)
}

func rateOrDash(x *float64) string {
	if x == nil {
		return "-"
	}
	return strconv.FormatFloat(*x, 'f', -1, 64)
}
