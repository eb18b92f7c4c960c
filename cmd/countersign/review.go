package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/wire"
)

func newReview() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Look at one review before deciding it, claim it, release it, assign it",
		Args:  usage(cobra.NoArgs),
	}
	cmd.AddCommand(newReviewShow(), newReviewClaim(), newReviewRelease(), newReviewAssign())
	return cmd
}

func newReviewShow() *cobra.Command {
	var (
		cf     clientFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show REVIEW_ID",
		Short: "Show a review's draft, confidence, reasons and evidence",
		Long: `Shows what a person decides on, as the web page does: why the document
needs a person, then every field of its task type with the drafted value,
the engine's confidence in it and why, and the quote the draft gives as
evidence: required fields the draft lacks first, then the least confident
(fields not scored lead). Then the decisions already made on the review,
and how to decide it with "countersign decide".

--json prints the API's answer (GET /v1/reviews/{id}).`,
		Example: `  countersign review show 3f2a...-r1
  countersign review show 3f2a...-r1 --json | jq '.fields[] | select(.confidence < 0.8)'`,
		Args: usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			view, err := c.Review(cmd.Context(), args[0])
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), view)
			}
			return printReview(cmd.OutOrStdout(), view)
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the review as JSON")
	return cmd
}

// printReview writes a review for a terminal.
func printReview(w io.Writer, v *wire.ReviewView) error {
	r, doc := v.Review, v.Document
	fmt.Fprintf(w, "review %s: %s (%s), %s, due %s\n", r.ID, r.TaskType, r.Kind, r.Status, r.DueAt.Local().Format(time.DateTime))
	if holder := r.Holder(time.Now()); holder != "" {
		fmt.Fprintf(w, "claimed by %s until %s\n", oneLine(holder), r.ClaimedUntil.Local().Format(time.DateTime))
	}
	if r.AssignedTo != "" && r.Status == countersign.ReviewPending {
		fmt.Fprintf(w, "assigned to %s\n", oneLine(r.AssignedTo))
	}
	name := ""
	if doc.ExternalID != "" {
		name = ", external ID " + oneLine(doc.ExternalID)
	}
	fmt.Fprintf(w, "document %s%s: %s, submitted by %s at %s\n", doc.ID, name, doc.Status, oneLine(doc.SubmittedBy), doc.CreatedAt.Local().Format(time.DateTime))
	if doc.Draft != nil && doc.Draft.Failed() {
		fmt.Fprintf(w, "no draft: %s\n", oneLine(doc.Draft.Error))
	}
	if len(v.Why) > 0 {
		fmt.Fprintf(w, "why a person (confidence %.2f):\n", r.Confidence)
		for _, reason := range v.Why {
			fmt.Fprintf(w, "  - %s\n", oneLine(reason.Text))
			if reason.Rule != "" {
				fmt.Fprintf(w, "    (the rule: %s)\n", oneLine(reason.Rule))
			}
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tDRAFT\tCONFIDENCE\tEVIDENCE AND REASONS")
	for _, f := range v.Fields {
		field := f.Name
		if f.Required {
			field += " *"
		}
		value := "(none)"
		if f.Present {
			value = shown(f.Value)
		}
		confidence := "not scored"
		if f.Confidence != nil {
			confidence = fmt.Sprintf("%.2f", *f.Confidence)
		}
		var notes []string
		if f.Evidence != nil && f.Evidence.Quote != "" {
			notes = append(notes, fmt.Sprintf("%q", clip(oneLine(f.Evidence.Quote), 60)))
		}
		for _, reason := range f.Reasons {
			notes = append(notes, oneLine(reason))
		}
		if len(notes) == 0 {
			notes = []string{""}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", field, value, confidence, notes[0])
		for _, note := range notes[1:] {
			fmt.Fprintf(tw, "\t\t\t%s\n", note)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "(* required)")
	if len(v.Decisions) > 0 {
		fmt.Fprintln(w, "\ndecisions:")
		for _, d := range v.Decisions {
			line := fmt.Sprintf("  %s: %s by %s at %s", d.ID, d.Action.PastTense(), oneLine(d.Actor), d.At.Local().Format(time.DateTime))
			if len(d.Fields) > 0 {
				line += " " + shown(d.Fields)
			}
			if d.Reason != "" {
				line += fmt.Sprintf(" (%s)", oneLine(d.Reason))
			}
			fmt.Fprintln(w, line)
		}
	}
	if v.Hidden > 0 {
		fmt.Fprintf(w, "\nblind review: %d other decision(s) hidden until the review closes; decide on your own (approve approves the draft)\n", v.Hidden)
	} else if r.Blind && r.Status == countersign.ReviewPending {
		fmt.Fprintln(w, "\nblind review: others' decisions stay hidden until the review closes; approve approves the draft")
	}
	if r.Status == countersign.ReviewPending {
		fmt.Fprintf(w, "\ndecide: countersign decide %s approve | correct --field NAME=VALUE | reject --reason \"...\"\n", r.ID)
	}
	return nil
}

// shown is a value as one line: a string as it is, anything else as JSON,
// cut to a width a terminal's table keeps.
func shown(v any) string {
	if s, ok := v.(string); ok {
		return clip(oneLine(s), 48)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return oneLine(fmt.Sprint(v))
	}
	return clip(oneLine(string(raw)), 48)
}

// oneLine is s with each run of white space, line breaks included, one
// space, and any other control character (an escape sequence a document
// could carry to the reviewer's terminal) shown as U+FFFD.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
