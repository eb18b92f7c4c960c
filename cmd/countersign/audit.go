package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newAudit() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show a document's audit trail, or verify the whole chain",
	}
	cmd.AddCommand(newAuditShow(), newAuditVerify())
	return cmd
}

func newAuditShow() *cobra.Command {
	var (
		cf     clientFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show DOCUMENT_ID",
		Short: "Show every audit event of a document, in order",
		Args:  usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			events, err := c.Audit(cmd.Context(), args[0])
			if err != nil {
				return friendly(err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(events)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tAT\tEVENT\tACTOR\tCHANNEL\tHASH\tDATA")
			for _, e := range events {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Local().Format(time.DateTime), e.Type, e.Actor, e.Channel, e.Hash[:12], clip(string(e.Data), 100))
			}
			return tw.Flush()
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the events as JSON, with full data and hashes")
	return cmd
}

func newAuditVerify() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the whole audit hash chain and name the first broken event",
		Long: `Asks the server to recompute every event's hash and its link to the previous
event. Exits 0 when the chain holds, 1 when it is broken (naming the first
broken event and why).`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			report, err := c.VerifyAudit(cmd.Context())
			if err != nil {
				return friendly(err)
			}
			if report.OK {
				fmt.Fprintf(cmd.OutOrStdout(), "audit chain OK: %d events, head %s\n", report.Events, report.Head)
				return nil
			}
			b := report.Broken
			return exitError{code: 1, err: fmt.Errorf("audit chain BROKEN at event %d (%s): %s; %d events before it verify", b.Seq, b.ID, b.Reason, report.Events)}
		},
	}
	cf.add(cmd)
	return cmd
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
