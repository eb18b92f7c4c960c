package countersign

import (
	"context"
	"time"
)

// NoticeKind says what a notice tells people about a review.
type NoticeKind string

// Notice kinds, in the order a review may go through them.
const (
	// NoticeOpened: a review waits for its reviewers.
	NoticeOpened NoticeKind = "opened"
	// NoticeReminder: the review is still open after the SLA's first
	// interval; its reviewers are reminded.
	NoticeReminder NoticeKind = "reminder"
	// NoticeEscalation: the review is still open after the second interval;
	// the next tier is told.
	NoticeEscalation NoticeKind = "escalation"
	// NoticeClosed: the review closed (decided, adjudicated, timed out);
	// the message posted at opening is updated in place.
	NoticeClosed NoticeKind = "closed"
)

// Audience is where a notice goes: a channel (a Slack channel ID or name)
// and the reviewer groups to mention there.
type Audience struct {
	Channel string   `json:"channel,omitempty"`
	Groups  []string `json:"groups,omitempty"`
}

// NoticeRef points at a message a notifier posted, so that later notices
// can reply in its thread or update it in place.
type NoticeRef struct {
	Channel string `json:"channel"`
	// ID is the message's ID within the channel (Slack's ts).
	ID string `json:"id"`
}

// Notice is one thing to tell people about a review.
type Notice struct {
	Kind     NoticeKind `json:"kind"`
	Review   Review     `json:"review"`
	Document *Document  `json:"document"`
	// Title is the task type's title, for the message's heading.
	Title string `json:"title"`
	// To is where it goes: the task type's reviewers, or the escalation
	// tier for an escalation.
	To Audience `json:"to"`
	// Ref is the message posted when the review opened, for every later
	// notice; nil for NoticeOpened.
	Ref *NoticeRef `json:"ref,omitempty"`
	// Decisions are the decisions made on the review so far, for
	// NoticeClosed: who decided what.
	Decisions []Decision `json:"decisions,omitempty"`
	// Outcome says how a closed review ended, in words ("approved by rita",
	// "timed out: held").
	Outcome string `json:"outcome,omitempty"`
	// Link is where a person opens the document (the web page).
	Link string    `json:"link,omitempty"`
	At   time.Time `json:"at"`
}

// Notifier tells people about reviews, for example in Slack. A notifier is
// an edge the review never waits on for long: a notice that cannot be
// delivered is retried a few times and then recorded as failed, and the
// review goes on; decisions never depend on it.
type Notifier interface {
	// Notify delivers n and returns the message it posted (for
	// NoticeOpened), or nil.
	Notify(ctx context.Context, n Notice) (*NoticeRef, error)
}
