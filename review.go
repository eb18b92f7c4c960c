package countersign

import (
	"encoding/json"
	"time"
)

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
	// Risk is set when a risk rule sent the review's document to a
	// person: in the value order its chance of being wrong counts
	// RiskWeight times (Rank).
	Risk bool `json:"risk,omitempty"`
	// Blind is set on a gate review that more than one person must decide
	// under a policy with blind_review: until it closes, each decides
	// without seeing the others' decisions (Hides).
	Blind bool `json:"blind,omitempty"`
}

// RiskWeight is how many times a draft's chance of being wrong counts, in
// the queue's value order, when a risk rule sent its review: an error there
// costs more than one where no rule looked.
const RiskWeight = 2

// Rank is the review's place in the part of the value order that is not
// overdue, the lowest first: its confidence, or for a risk review the
// confidence of a draft RiskWeight times as likely to be wrong
// (1 - RiskWeight·(1 - confidence)), so that a risk review at 0.9 stands
// with the others at 0.8. The store keeps it to sort by.
func (r *Review) Rank() float64 {
	if !r.Risk {
		return r.Confidence
	}
	return 1 - RiskWeight*(1-r.Confidence)
}

// Hides reports whether decision d, on review r, is kept from viewer: on a
// blind review that is still open, only the decision's author sees it, and
// auditors, who decide nothing. Once the review closes (settled, disputed
// or timed out) everyone who may read the document sees every decision.
func (r *Review) Hides(d Decision, viewer Principal) bool {
	return r.Blind && r.Status == ReviewPending && d.ReviewID == r.ID &&
		d.Actor != viewer.User && viewer.Role != RoleAuditor
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

// Visible keeps of decisions those viewer may see among a document's
// reviews (Review.Hides), and counts the ones it left out.
func Visible(reviews []Review, decisions []Decision, viewer Principal) ([]Decision, int) {
	kept := decisions[:0:0]
	for _, d := range decisions {
		if hidesAny(reviews, d.ReviewID, d.Actor, viewer) {
			continue
		}
		kept = append(kept, d)
	}
	return kept, len(decisions) - len(kept)
}

// VisibleEvents keeps of a document's audit events those viewer may see:
// all but the decision.recorded events Review.Hides from them. It counts
// the ones it left out.
func VisibleEvents(reviews []Review, events []AuditEvent, viewer Principal) ([]AuditEvent, int) {
	blind := false
	for i := range reviews {
		blind = blind || reviews[i].Blind
	}
	if !blind {
		return events, 0
	}
	kept := events[:0:0]
	for _, e := range events {
		if e.Type == EventDecisionRecorded {
			var d struct {
				ReviewID string `json:"review_id"`
			}
			if json.Unmarshal(e.Data, &d) != nil {
				// Unreadable: hidden if it could be a hidden decision.
				d.ReviewID = ""
			}
			if hidesAny(reviews, d.ReviewID, e.Actor, viewer) {
				continue
			}
		}
		kept = append(kept, e)
	}
	return kept, len(events) - len(kept)
}

// hidesAny reports whether a decision by actor on review id is hidden from
// viewer; an empty id stands for any review of the document.
func hidesAny(reviews []Review, id, actor string, viewer Principal) bool {
	for i := range reviews {
		r := &reviews[i]
		if (id == "" || r.ID == id) && r.Hides(Decision{ReviewID: r.ID, Actor: actor}, viewer) {
			return true
		}
	}
	return false
}
