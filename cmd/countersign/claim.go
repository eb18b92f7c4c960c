package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
)

func newReviewClaim() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "claim REVIEW_ID",
		Short: "Hold a review for yourself while you work on it",
		Long: `Claims a review for you for the server's claim lease (--claim-lease, 15
minutes by default): until it lapses nobody else may decide or claim it,
and the review list shows who holds it. Claiming it again renews the
lease. A review someone else holds is refused, naming them and until when;
an approver can release it for them (countersign review release).

"countersign next" claims the best review waiting for you instead of one
you name.`,
		Example: `  countersign review claim 3f2a...-r1`,
		Args:    usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.Claim(cmd.Context(), args[0])
			if err != nil {
				return friendly(err)
			}
			printClaim(cmd.OutOrStdout(), r)
			return nil
		},
	}
	cf.add(cmd)
	return cmd
}

func newReviewRelease() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "release REVIEW_ID",
		Short: "Give up a claim on a review (an approver: anyone's)",
		Long: `Releases the claim on a review so that someone else may take it: your
own claim, or, with the approver or admin role, the claim of someone who
cannot finish it. The release is recorded in the document's audit trail.`,
		Example: `  countersign review release 3f2a...-r1`,
		Args:    usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.Release(cmd.Context(), args[0])
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "released review %s: anyone may claim it now\n", r.ID)
			return nil
		},
	}
	cf.add(cmd)
	return cmd
}

func newReviewAssign() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "assign REVIEW_ID USER",
		Short: "Assign a review to someone (approver, admin)",
		Long: `Assigns a pending review to USER, with the approver or admin role: a
review assigned to someone away, or better worked by someone else. USER
must be able to decide it: a person with a live API token whose role
decides reviews, of the task type's review groups, who neither submitted
the document nor decided the review (on an adjudication: has the
adjudicator's role and decided no review of the document). Otherwise it
is refused, saying why.

Until the review is due, "countersign next" offers it to its assignee
alone, and other reviewers cannot claim it. The assignment is recorded in
the document's audit trail with the previous assignee.`,
		Example: `  countersign review assign 3f2a...-r1 sam`,
		Args:    usage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.Assign(cmd.Context(), args[0], args[1])
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "assigned review %s to %s\n", r.ID, r.AssignedTo)
			return nil
		},
	}
	cf.add(cmd)
	return cmd
}

func newNext() *cobra.Command {
	var (
		cf       clientFlags
		taskType string
		kind     string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "next",
		Short: "Claim the next review waiting for you and show it",
		Long: `Claims the best review you may take and shows it, as "countersign review
show" does: the review you hold already, else one assigned to you, else
the most overdue, else the least confident (the likeliest to be wrong),
then the soonest due, of the task types you review.
Reviews of documents you submitted, reviews you decided already, reviews
someone else holds and reviews assigned to someone else that are not due
yet are left out. Several people running it at once each
get a different review. The claim holds it for you for the server's claim
lease; decide it with "countersign decide", or give it back with
"countersign review release".

It prints "nothing waiting for you" and exits 0 when no review is left.`,
		Example: `  countersign next
  countersign next --type contract-review
  countersign next --json | jq -r .review.id`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kind != "" && kind != string(countersign.ReviewGate) && kind != string(countersign.ReviewAudit) {
				return exitError{code: 2, err: fmt.Errorf("--kind %q: use review or audit", kind)}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.Next(cmd.Context(), taskType, countersign.ReviewKind(kind))
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"review": r})
			}
			if r == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing waiting for you")
				return nil
			}
			printClaim(cmd.OutOrStdout(), r)
			view, err := c.Review(cmd.Context(), r.ID)
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return printReview(cmd.OutOrStdout(), view)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&taskType, "type", "", "only reviews of this task type")
	cmd.Flags().StringVar(&kind, "kind", "", "only reviews of this kind: review (the human gate) or audit")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's answer as JSON")
	return cmd
}

// printClaim says which review the caller holds and until when.
func printClaim(w io.Writer, r *countersign.Review) {
	until := "(no lease)"
	if r.ClaimedUntil != nil {
		until = r.ClaimedUntil.Local().Format(time.DateTime)
	}
	fmt.Fprintf(w, "claimed review %s until %s: claim it again to renew, \"countersign review release %s\" to give it back\n", r.ID, until, r.ID)
}
