package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
)

func newBatch() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "batch",
		Short: "Follow a batch of documents: its progress, its export",
		Long: `A batch groups documents a submitter names together (countersign submit
--batch NAME): a data room, a day's alerts. Its progress counts its documents by
status and by route; its export is the export of its documents; and when its
last document is accepted, rejected or failed, the webhook, if configured,
receives batch.completed once.`,
	}
	cmd.AddCommand(newBatchStatus(), newBatchList(), exportCommand(true))
	return cmd
}

func newBatchStatus() *cobra.Command {
	var (
		cf     clientFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a batch's progress",
		Long: `Shows a batch's documents by status and by route, its open reviews, when it
was first and last submitted to, and whether it is done: every document
accepted, rejected or failed. A batch that received documents after it was done
is done again once they are.`,
		Example: `  countersign batch status data-room-7
  countersign batch status alerts-2026-03-14 --json`,
		Args: usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := countersign.CheckBatchName(args[0]); err != nil {
				return exitError{code: 2, err: err}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			p, err := c.Batch(cmd.Context(), args[0])
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), p)
			}
			return printBatch(cmd.OutOrStdout(), p)
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the progress as JSON")
	return cmd
}

// printBatch writes a batch's progress for a person.
func printBatch(w io.Writer, p *countersign.BatchProgress) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	state := fmt.Sprintf("in progress: %d of %d documents not final yet", p.Unfinished, p.Documents)
	if p.Done {
		state = fmt.Sprintf("done: all %d documents final", p.Documents)
	}
	fmt.Fprintf(tw, "Batch\t%s\n", p.Name)
	fmt.Fprintf(tw, "State\t%s\n", state)
	fmt.Fprintf(tw, "Submitted\t%s to %s\n", p.FirstSubmittedAt.Local().Format(time.DateTime), p.LastSubmittedAt.Local().Format(time.DateTime))
	fmt.Fprintf(tw, "Open reviews\t%d\n", p.OpenReviews)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "STATUS\tDOCUMENTS")
	for _, s := range []countersign.Status{countersign.StatusProcessing, countersign.StatusAwaitingReview,
		countersign.StatusAccepted, countersign.StatusRejected, countersign.StatusFailed} {
		fmt.Fprintf(tw, "%s\t%d\n", s, p.ByStatus[s])
	}
	if len(p.ByRoute) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "ROUTE\tDOCUMENTS")
		routes := make([]string, 0, len(p.ByRoute))
		for o := range p.ByRoute {
			routes = append(routes, string(o))
		}
		slices.Sort(routes)
		for _, o := range routes {
			fmt.Fprintf(tw, "%s\t%d\n", o, p.ByRoute[countersign.Outcome(o)])
		}
	}
	if len(p.Completions) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "COMPLETED\tDOCUMENTS\tWEBHOOK")
		for _, c := range p.Completions {
			hook := fmt.Sprintf("pending (%d attempts)", c.Attempts)
			switch {
			case c.Error != "":
				hook = "failed: " + oneLine(c.Error)
			case c.DeliveredAt != nil && c.Status == 0:
				hook = "none configured"
			case c.DeliveredAt != nil:
				hook = fmt.Sprintf("delivered %s (%d)", c.DeliveredAt.Local().Format(time.DateTime), c.Status)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\n", c.CompletedAt.Local().Format(time.DateTime), c.Documents, hook)
		}
	}
	return tw.Flush()
}

func newBatchList() *cobra.Command {
	var (
		cf     clientFlags
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List batches, the most recently begun first",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var batches []countersign.Batch
			cursor := ""
			for len(batches) < limit {
				page, err := c.Batches(cmd.Context(), min(limit-len(batches), 500), cursor)
				if err != nil {
					return friendly(err)
				}
				batches = append(batches, page.Batches...)
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), batches)
			}
			if len(batches) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no batches: name one with countersign submit --batch NAME")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "BATCH\tDOCUMENTS\tUNFINISHED\tSTATE\tFIRST SUBMITTED\tLAST SUBMITTED")
			for _, b := range batches {
				state := "in progress"
				if b.Done {
					state = "done"
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", b.Name, b.Documents, b.Unfinished, state,
					b.FirstSubmittedAt.Local().Format(time.DateTime), b.LastSubmittedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	cmd.Flags().IntVar(&limit, "limit", 100, "list at most this many batches")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the batches as JSON")
	return cmd
}
