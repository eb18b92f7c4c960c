package main

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/countersign/countersign/api/wire"
)

func newEscalate() *cobra.Command {
	var (
		cf       clientFlags
		reason   string
		severity int
	)
	cmd := &cobra.Command{
		Use:   "escalate DOCUMENT_ID --reason TEXT [--severity N]",
		Short: "Escalate a document (an alert) to an incident",
		Long: `Escalates a document, typically a security alert, to an incident: the
escalation is recorded in the document's audit trail (document.escalated,
with your reason, the severity you give and the label and severity the
document stood at) and sent to the incident target, the webhook the server
is configured with (--webhook-url), as an incident.escalated event.

Escalating is not a decision: the review goes on as before, and a document
may be escalated more than once. With no webhook configured the escalation
is still recorded, and the answer says nothing was sent.

Needs the reviewer (of the task type's review groups), approver or admin role.`,
		Example: `  countersign escalate 3f2a... --reason "lateral movement from this host" --severity 5`,
		Args:    usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return exitError{code: 2, err: fmt.Errorf("--reason is required: say why the document is escalated")}
			}
			if severity < 0 {
				return exitError{code: 2, err: fmt.Errorf("--severity %d is negative: leave it out or give 1 or more", severity)}
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			// One key per invocation: a retry of the request records once.
			res, err := c.Escalate(cmd.Context(), args[0], uuid.NewString(), wire.EscalateRequest{Reason: reason, Severity: severity})
			if err != nil {
				return friendly(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "document %s escalated (event %s): %s\n", res.DocumentID, res.EventID, res.Incident.Message)
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why the document is escalated (required)")
	cmd.Flags().IntVar(&severity, "severity", 0, "the incident's severity as you judge it (optional)")
	return cmd
}
