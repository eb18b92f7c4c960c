package dispatch

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/webhook"
)

// WebhookIncidentEscalated is the webhook event of an escalation.
const WebhookIncidentEscalated = "incident.escalated"

// Escalation is a person's request to raise a document (an alert) to an
// incident: why, and how severe they hold it (0 when they say not).
type Escalation struct {
	Reason   string
	Severity int
}

// Escalated is what an escalation did: the audit event that records it
// and how the incident target took it.
type Escalated struct {
	EventID  string
	Incident IncidentDelivery
}

// IncidentDelivery is how the incident.escalated webhook went: not sent
// when no target is configured, else the receiver's status or the error.
type IncidentDelivery struct {
	Configured bool
	Delivered  bool
	Status     int
	Error      string
}

// Escalate records that caller escalated document id to an incident
// (document.escalated) and sends the incident.escalated webhook, if one is
// configured. Escalating is not a decision: anyone who may review the
// task type may, the submitter too, and as often as they need; each
// escalation is an event of its own, but a retry with the same
// idempotency key records and sends the first one again (the webhook's
// delivery ID is the event's ID). An empty reason is 422, an unknown
// document 404, a reviewer outside the task type's groups 403. A failed
// delivery does not undo the record: the answer says how it went.
func (d *Dispatcher) Escalate(ctx context.Context, id string, caller countersign.Principal, ch countersign.Channel, e Escalation, idempotencyKey string) (*Escalated, error) {
	e.Reason = strings.TrimSpace(e.Reason)
	if e.Reason == "" {
		return nil, countersign.Errorf(countersign.CodeInvalid, "reason is empty: say why document %s is escalated", id)
	}
	if e.Severity < 0 {
		return nil, countersign.Errorf(countersign.CodeInvalid, "severity %d is negative: leave it out or give 1 or more", e.Severity)
	}
	if !caller.Role.CanDecide() {
		return nil, countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not escalate documents: the reviewer, approver or admin role is needed", caller.User, caller.Role)
	}
	doc, err := d.Store.GetDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := d.MayReview(caller, doc.TaskType); err != nil {
		return nil, err
	}
	eventID := fmt.Sprintf("%s/%s/%s", countersign.EventDocumentEscalated, doc.ID, uuid.NewString())
	if idempotencyKey != "" {
		eventID = fmt.Sprintf("%s/%s/%s/%s", countersign.EventDocumentEscalated, doc.ID, caller.User, idempotencyKey)
	}
	v := map[string]any{"reason": e.Reason, "role": caller.Role}
	if e.Severity > 0 {
		v["severity"] = e.Severity
	}
	if fields := currentFields(doc); fields != nil {
		for _, k := range []string{"label", "severity"} {
			if x, ok := fields[k]; ok && x != nil {
				v["document_"+k] = x
			}
		}
	}
	data, err := audit.Canonical(v)
	if err != nil {
		return nil, err
	}
	recorded, err := d.Store.AppendAudit(ctx, countersign.AuditEvent{
		ID: eventID, DocumentID: doc.ID, Type: countersign.EventDocumentEscalated, Actor: caller.User, Channel: ch, At: d.now(), Data: data,
	})
	if err != nil {
		return nil, fmt.Errorf("record the escalation of document %s: %w", doc.ID, err)
	}
	out := &Escalated{EventID: recorded.ID}
	if d.Webhook == nil {
		return out, nil
	}
	out.Incident.Configured = true
	status, err := d.Webhook.Send(ctx, webhook.Event{
		ID: recorded.ID, Type: WebhookIncidentEscalated, At: recorded.At,
		Data: map[string]any{
			"document_id":  doc.ID,
			"external_id":  doc.ExternalID,
			"task_type":    doc.TaskType,
			"metadata":     doc.Metadata,
			"status":       doc.Status,
			"escalated_by": recorded.Actor,
			"channel":      recorded.Channel,
			"escalation":   recorded.Data,
		},
	})
	out.Incident.Status = status
	if err != nil {
		out.Incident.Error = err.Error()
	} else {
		out.Incident.Delivered = true
	}
	return out, nil
}

// currentFields are document doc's fields as they stand: the final's, else
// the draft's, else nil.
func currentFields(doc *countersign.Document) countersign.Fields {
	switch {
	case doc.Final != nil:
		return doc.Final.Fields
	case doc.Draft != nil:
		return doc.Draft.Fields
	}
	return nil
}
