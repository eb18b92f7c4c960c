package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/api/wire"
)

func newReviews() *cobra.Command {
	var (
		cf       clientFlags
		status   string
		kind     string
		taskType string
		order    string
		limit    int
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "reviews",
		Short: "List the review queue",
		Long: `Lists reviews, oldest first: by default the pending ones, with the confidence
and the reasons they need a person. Decide one with "countersign decide".
With --order due, the soonest due (the most overdue) first, then the least
confident. With --order value, overdue reviews first (the most overdue
first), then the least confident, then the soonest due: the order in which
next hands reviews out, and the web queue's.

Audits (KIND audit) are post-hoc checks of auto-accepted documents whose
output already counts: approve confirms it, correct records the correction,
marks the document corrected_after_audit and tells the submitting system.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var reviews []countersign.Review
			cursor := ""
			for len(reviews) < limit {
				page, err := c.Reviews(cmd.Context(), apiclient.ReviewQuery{Status: status, Kind: kind, TaskType: taskType, Order: order, Limit: min(limit-len(reviews), 500), Cursor: cursor})
				if err != nil {
					return friendly(err)
				}
				reviews = append(reviews, page.Reviews...)
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), reviews)
			}
			if len(reviews) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no %s reviews\n", status)
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REVIEW\tTYPE\tKIND\tSTATUS\tCONFIDENCE\tDUE\tREASON")
			for _, r := range reviews {
				reason := ""
				if len(r.Reasons) > 0 {
					reason = r.Reasons[len(r.Reasons)-1]
				}
				status := string(r.Status)
				if holder := r.Holder(time.Now()); holder != "" {
					status += " (claimed by " + oneLine(holder) + ")"
				} else if r.AssignedTo != "" && r.Status == countersign.ReviewPending {
					status += " (assigned to " + oneLine(r.AssignedTo) + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%s\t%s\n", r.ID, r.TaskType, r.Kind, status, r.Confidence, r.DueAt.Local().Format(time.DateTime), reason)
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&status, "status", "pending", "pending, closed or all")
	cmd.Flags().StringVar(&kind, "kind", "", "only reviews of this kind: review (the human gate) or audit (of auto-accepted documents)")
	cmd.Flags().StringVarP(&taskType, "type", "t", "", "only reviews of this task type")
	cmd.Flags().StringVar(&order, "order", "", `"due" for the soonest due first, then the least confident; "value" for overdue first, then the least confident; oldest first when not set`)
	cmd.Flags().IntVar(&limit, "limit", 100, "list at most this many reviews")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reviews as JSON")
	return cmd
}

func newDecide() *cobra.Command {
	var (
		cf         clientFlags
		reason     string
		approves   string
		fields     []string
		fieldsJSON string
		cmp        comparisonFlags
	)
	cmd := &cobra.Command{
		Use:   "decide REVIEW_ID approve|correct|reject",
		Short: "Approve, correct or reject a review",
		Long: `Decides a pending review. approve accepts the draft as it is; correct accepts
it with the fields you give (the others stay as drafted; a null value removes a
field); reject refuses the document and needs a reason.

When a policy needs several approvals and someone corrected the review first,
an approval must name the correction it approves (--approves DECISION_ID, as
countersign reviews --json or GET /v1/documents/{id} shows it), so that no
one approves a correction they have not seen.

Field values are read as JSON when they parse as JSON (numbers, true, null,
"quoted strings"), else as plain text.

For a comparison (ranking) task type, --ranking, --score, --unsafe,
--all-unacceptable and --improved(-file) set its fields: a ranking is the
candidate IDs best first, separated by ">", with "=" between candidates
ranked equal (when the tie policy allows ties). Each --score sets one
criterion's scores; the criteria you do not give keep the draft's scores
(when the review has no draft scores, give a --score for every criterion).
Unsafe candidates are ranked last, below every safe one.`,
		Example: `  countersign decide 3f2a...-r1 approve
  countersign decide 3f2a...-r1 correct --field party_b="Harbor Freight Logistics, LLC" --field term_months=24
  countersign decide 3f2a...-r1 reject --reason "not a contract: a purchase order"
  countersign decide 3f2a...-r1 correct --ranking "b>a" --score helpfulness=a:2,b:4 \
    --unsafe a=harmful_misinformation --improved-file better.txt`,
		Args: usage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			d := wire.DecisionRequest{Action: countersign.Action(args[1]), Reason: reason, Approves: approves}
			if !d.Action.Valid() {
				return exitError{code: 2, err: fmt.Errorf("unknown action %q: use approve, correct or reject", args[1])}
			}
			patch, err := parseFields(fields, fieldsJSON)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			if err := cmp.apply(patch); err != nil {
				return exitError{code: 2, err: err}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var drafted bool // --score merged into the draft's scores
			if given, ok := patch[countersign.FieldScores].(map[string]any); ok && len(cmp.scores) > 0 {
				view, err := c.Review(cmd.Context(), args[0])
				if err != nil {
					return friendly(err)
				}
				var draft countersign.Fields
				if view.Document != nil && view.Document.Draft != nil {
					draft = view.Document.Draft.Fields
				}
				patch[countersign.FieldScores], drafted = mergeScores(draft[countersign.FieldScores], given)
			}
			if len(patch) > 0 {
				d.Fields = patch
			}
			res, err := c.Decide(cmd.Context(), args[0], d)
			if err != nil {
				if len(cmp.scores) > 0 && !drafted {
					return fmt.Errorf("%w\n(the review has no draft scores for the criteria you left out to keep: give a --score for every criterion of the rubric, the missing ones named above)", friendly(err))
				}
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "review %s: %s by %s; document %s is %s\n",
				res.Decision.ReviewID, res.Decision.Action.PastTense(), res.Decision.Actor, res.Document.ID, res.Document.Status)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (required to reject)")
	cmd.Flags().StringVar(&approves, "approves", "", "with approve: the decision ID of the correction approved, when someone corrected the review first")
	cmd.Flags().StringArrayVar(&fields, "field", nil, "corrected field NAME=VALUE (repeatable)")
	cmd.Flags().StringVar(&fieldsJSON, "fields", "", `corrected fields as a JSON object, e.g. '{"term_months": 24}'`)
	cmp.add(cmd)
	return cmd
}

func parseFields(pairs []string, raw string) (countersign.Fields, error) {
	out := countersign.Fields{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			return nil, fmt.Errorf("--fields is not a JSON object: %w", err)
		}
	}
	for _, p := range pairs {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, errors.New("--field " + p + ": use NAME=VALUE")
		}
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			v = value
		}
		out[name] = v
	}
	return out, nil
}
