package countersign

import (
	"strings"
	"time"
)

// SLA is how long a review may wait before people are reminded, before the
// next tier is told, and before the timeout action ends the wait. Each
// interval runs from the review's opening, on a durable timer of its
// workflow, so a restart neither loses nor restarts it. Zero intervals are
// not set.
type SLA struct {
	// RemindAfter: the review's reviewers are reminded.
	RemindAfter time.Duration `json:"remind_after,omitempty"`
	// EscalateAfter: EscalateTo is told the review is still waiting.
	EscalateAfter time.Duration `json:"escalate_after,omitempty"`
	EscalateTo    *Audience     `json:"escalate_to,omitempty"`
	// TimeoutAfter: TimeoutAction ends the wait.
	TimeoutAfter  time.Duration `json:"timeout_after,omitempty"`
	TimeoutAction TimeoutAction `json:"timeout_action,omitempty"`
}

// TimeoutAction is what happens to a review nobody decided in time. There
// is no approving action: a document no person decided never counts.
type TimeoutAction string

// Timeout actions.
const (
	// TimeoutReject closes the review and rejects the document, with the
	// reason that it timed out.
	TimeoutReject TimeoutAction = "reject"
	// TimeoutHold marks the document held: the review stays open and
	// waits for a person, with no more reminders, and the escalation tier
	// is told.
	TimeoutHold TimeoutAction = "hold"
)

// Approvals is how many people must agree on a reviewed document before it
// is final: ApprovalsRequired, or 1 when unset.
func (p Policy) Approvals() int {
	if p.ApprovalsRequired < 1 {
		return 1
	}
	return p.ApprovalsRequired
}

// AdjudicatorRole is the role that settles a disagreement between
// reviewers: Adjudicator, or approver when unset. Admins may always.
func (p Policy) AdjudicatorRole() Role {
	if p.Adjudicator == "" {
		return RoleApprover
	}
	return p.Adjudicator
}

// Audit event types of the human gate beyond opening and deciding.
const (
	// EventReviewDisputed: the decisions on a review disagreed; the review
	// closed and an adjudication review opened.
	EventReviewDisputed = "review.disputed"
	// EventReviewReminded, EventReviewEscalated: an SLA interval passed
	// with the review still open; the data says who was told, or why not.
	EventReviewReminded  = "review.reminded"
	EventReviewEscalated = "review.escalated"
	// EventReviewTimedOut: the SLA's timeout passed with no decision; the
	// data names the action taken.
	EventReviewTimedOut = "review.timed_out"
	// EventReviewNotified: a notifier told people a review opened or
	// closed (or failed to).
	EventReviewNotified = "review.notified"
)

// FormatDuration writes d as a person would, without zero units: 72h, 90m,
// 1h30m, 2s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
