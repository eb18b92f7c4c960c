// Package slackapp is countersign in Slack: review messages in Block Kit with
// Approve, Correct and Reject buttons (Notifier), the interactions and the
// /countersign command that answer them (Handler), over HTTP with Slack's
// request signatures or over Socket Mode, and a Web API client held to
// Slack's rate limits (Client).
//
// A decision made in Slack goes through the same dispatch.Dispatcher as the
// REST API, so the review workflow's validator has the last word on it; a Slack account
// acts only as the countersign user an admin linked it to.
package slackapp

import (
	"context"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
)

// Decider sends a person's decision to the review workflow:
// dispatch.Dispatcher, as for the REST API and the web page. The workflow's
// validator refuses what may not be decided, with a coded error (403, 409,
// 422). key, when not empty, makes the same request decide once.
type Decider interface {
	Decide(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel, dec dispatch.Decision, key string) (*dispatch.Decided, error)
}

// Claimer holds reviews for the people working on them:
// dispatch.Dispatcher, as for the REST API and the web page.
type Claimer interface {
	Claim(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel) (*countersign.Review, error)
	Next(ctx context.Context, caller countersign.Principal, ch countersign.Channel, f countersign.ReviewFilter) (*countersign.Review, error)
}

// Store is what Slack reads of the store: the links of Slack accounts, the
// reviews and their documents.
type Store interface {
	SlackUser(ctx context.Context, slackUserID string) (*countersign.SlackUser, error)
	GetReview(ctx context.Context, id string) (*countersign.Review, error)
	GetDocument(ctx context.Context, id string) (*countersign.Document, error)
	ListReviews(ctx context.Context, f countersign.ReviewFilter) (countersign.ReviewPage, error)
}

// TaskTypes are the task types as configured now: their schemas type the
// fields of a correction, their review groups say who may review.
type TaskTypes interface {
	Get(name string) (*countersign.TaskType, error)
	All() []*countersign.TaskType
}

// Versions find the task type version a document is pinned to
// (tasktype.Resolver), so that a comparison is shown and picked by the
// rubric and mode it was submitted under, as dispatch checks it.
type Versions interface {
	Version(ctx context.Context, version string) (*countersign.TaskType, error)
}

// Action IDs of the review message's buttons and selects, and callback IDs
// of the modals. A button's value is the review ID; the comparison selects
// carry it in their block's ID (blockPick + "/" + review ID), their option
// values being a candidate ID or a reason code; a modal's private metadata
// says which review and message it is for.
const (
	ActionApprove      = "countersign_approve"
	ActionCorrect      = "countersign_correct"
	ActionReject       = "countersign_reject"
	ActionClaim        = "countersign_claim"
	ActionPickBest     = "countersign_pick_best"
	ActionUnacceptable = "countersign_all_unacceptable"
	ViewCorrect        = "countersign_correct"
	ViewReject         = "countersign_reject"
	blockDecide        = "countersign_decide"
	blockPick          = "countersign_pick"
	blockReason        = "reason"
	inputAction        = "value"
	fieldBlockPref     = "field:"
)
