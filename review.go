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
