package countersign

import "time"

// ReviewStatus is whether a review still waits for a person.
type ReviewStatus string

// Review statuses.
const (
	ReviewPending ReviewStatus = "pending"
	ReviewClosed  ReviewStatus = "closed"
)

// Review is a task for a person: a draft the policy would not accept alone.
type Review struct {
	ID         string       `json:"id"`
	DocumentID string       `json:"document_id"`
	TaskType   string       `json:"task_type"`
	Kind       ReviewKind   `json:"kind"`
	Status     ReviewStatus `json:"status"`
	CreatedAt  time.Time    `json:"created_at"`
	DueAt      time.Time    `json:"due_at"`
	ClosedAt   *time.Time   `json:"closed_at,omitempty"`
	Confidence float64      `json:"confidence"`
	Reasons    []string     `json:"reasons"`
	// Outcome is the action that closed the review.
	Outcome Action `json:"outcome,omitempty"`
	// ClosedBy is who closed it.
	ClosedBy string `json:"closed_by,omitempty"`
	// ClaimedBy is who claimed the review, and ClaimedUntil when the claim
	// lapses unless renewed: until then nobody else may decide it. A claim
	// whose time has passed holds nothing (Holder).
	ClaimedBy    string     `json:"claimed_by,omitempty"`
	ClaimedUntil *time.Time `json:"claimed_until,omitempty"`
	// AssignedTo is the person the review is assigned to (Assignment):
	// next offers it to them alone until it is overdue, and nobody else
	// but an approver or admin may claim it meanwhile.
	AssignedTo string `json:"assigned_to,omitempty"`
}

// Holder is who holds a live claim on the review at now, or "" when
// nobody does: it is closed, unclaimed, or its claim lapsed.
func (r *Review) Holder(now time.Time) string {
	if r.Status != ReviewPending || r.ClaimedBy == "" || r.ClaimedUntil == nil || !r.ClaimedUntil.After(now) {
		return ""
	}
	return r.ClaimedBy
}

// Audit events of claims: a person claimed a review, released it (or an
// approver released it for them), or a claim lapsed and another person
// took the review over.
const (
	EventReviewClaimed     = "review.claimed"
	EventReviewReleased    = "review.released"
	EventReviewClaimLapsed = "review.claim_lapsed"
)

// DefaultClaimLease is how long a claim holds a review unless renewed.
const DefaultClaimLease = 15 * time.Minute

// Claim asks the store to hold a review for Person until Until.
type Claim struct {
	ReviewID string
	Person   string
	// Previous is who held the review when the caller read it, "" for
	// nobody: the claim is taken only if they still do, so two callers
	// never both take one review.
	Previous string
	Now      time.Time
	Until    time.Time
}

// Decision is one person's verdict on a review, as recorded.
type Decision struct {
	ID         string    `json:"id"`
	ReviewID   string    `json:"review_id"`
	DocumentID string    `json:"document_id"`
	Action     Action    `json:"action"`
	Fields     Fields    `json:"fields,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Actor      string    `json:"actor"`
	Role       Role      `json:"role"`
	Channel    Channel   `json:"channel"`
	At         time.Time `json:"at"`
}
