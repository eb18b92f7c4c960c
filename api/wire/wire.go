// Package wire holds the wire types of REST v1: what the server (package
// api, which keeps them under the same names as aliases) reads and writes,
// and what api/apiclient sends and reads. Their JSON names are the public
// contract. It imports no part of the server, so that the client binary,
// countersign-cli, starts without initialising the router and what it
// serves from.
package wire

import "github.com/countersign/countersign"

// SubmitRequest is the body of POST /v1/documents.
type SubmitRequest struct {
	TaskType   string            `json:"task_type"`
	ExternalID string            `json:"external_id,omitempty"`
	Content    string            `json:"content"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	// Batch names the batch the document belongs to: 1 to 128 letters,
	// digits, '.', '_', ':' or '-'.
	Batch string `json:"batch,omitempty"`
	// Prelabel is the document's draft made elsewhere (a labeling tool's
	// prediction): no model drafts it, and a person reviews it.
	Prelabel *countersign.Prelabel `json:"prelabel,omitempty"`
	// ContentBase64 is a file submitted in place of Content (base64),
	// of ContentType: application/pdf, whose text layer becomes the
	// document's content.
	ContentBase64 []byte `json:"content_base64,omitempty"`
	ContentType   string `json:"content_type,omitempty"`
}

// SubmitResponse answers POST /v1/documents; Created is false when the
// document was submitted before. Batch is the batch the document is in:
// the one it was first submitted in.
type SubmitResponse struct {
	ID      string             `json:"id"`
	Status  countersign.Status `json:"status"`
	Created bool               `json:"created"`
	Batch   string             `json:"batch,omitempty"`
}

// DocumentView is a document as GET /v1/documents/{id} shows it: its state,
// its latest review and its decisions.
type DocumentView struct {
	*countersign.Document
	Review    *countersign.Review    `json:"review"`
	Decisions []countersign.Decision `json:"decisions"`
	// Hidden counts the decisions left out: on a blind review still open,
	// others' decisions are kept from whoever may still decide it
	// (countersign.Review.Hides).
	Hidden int `json:"hidden_decisions,omitempty"`
	// Disposition says whether a person settled the final outcome
	// (analyst) or the engine did on its own (automatic); empty while the
	// document is not final.
	Disposition countersign.Disposition `json:"disposition,omitempty"`
	// Original describes the file the content was extracted from (a PDF;
	// GET /v1/documents/{id}/original returns it), with its pages' sizes;
	// absent for a document submitted as text.
	Original *OriginalView `json:"original,omitempty"`
}

// OriginalView is a document's original file as its view shows it.
type OriginalView struct {
	SHA256      string             `json:"sha256"`
	ContentType string             `json:"content_type"`
	Size        int64              `json:"size"`
	Pages       []countersign.Page `json:"pages"`
	// Evidence is where each draft field's evidence quote stands on the
	// pages: per field, the boxes of its words, one per line, page by
	// page, in points from the page's top left corner.
	Evidence map[string][]countersign.PageBoxes `json:"evidence,omitempty"`
}

// ReviewView answers GET /v1/reviews/{id}: what a person sees before
// deciding a review. Document is the review's document without its
// content; Fields are its fields as the web page and Slack lay them out,
// the least confident first; Decisions are those made on this review.
type ReviewView struct {
	Review countersign.Review `json:"review"`
	// Why is the review's reasons in plain words: a rule that matched
	// named with the task type's description of it, its expression apart.
	Why       []Reason               `json:"why"`
	Document  *countersign.Document  `json:"document"`
	Fields    []ReviewField          `json:"fields"`
	Decisions []countersign.Decision `json:"decisions"`
	// Hidden counts the decisions on a blind review left out, as in
	// DocumentView.
	Hidden int `json:"hidden_decisions,omitempty"`
}

// Reason is a reason a person looks at a document, in words; Rule is the
// expression of the rule that matched, if it is one.
type Reason struct {
	Text string `json:"text"`
	Rule string `json:"rule,omitempty"`
}

// ReviewField is one field of a document under review: its draft value
// (Present is false when the draft has none), the engine's confidence in it
// and why (nil when it was not scored), and the draft's evidence for it.
type ReviewField struct {
	Name       string                `json:"name"`
	Title      string                `json:"title,omitempty"`
	Required   bool                  `json:"required"`
	Present    bool                  `json:"present"`
	Value      any                   `json:"value"`
	Confidence *float64              `json:"confidence"`
	Reasons    []string              `json:"reasons,omitempty"`
	Evidence   *countersign.Evidence `json:"evidence,omitempty"`
}

// BatchList answers GET /v1/batches: batches, the most recently begun
// first; NextCursor is empty on the last page.
type BatchList struct {
	Batches    []countersign.Batch `json:"batches"`
	NextCursor string              `json:"next_cursor"`
}

// ReviewList answers GET /v1/reviews; NextCursor is empty on the last page.
type ReviewList struct {
	Reviews    []countersign.Review `json:"reviews"`
	NextCursor string               `json:"next_cursor"`
}

// ClaimResponse answers POST and DELETE /v1/reviews/{id}/claim: the review
// with its claim as it stands.
type ClaimResponse struct {
	Review countersign.Review `json:"review"`
}

// AssignRequest is the body of POST /v1/reviews/{id}/assign: the person
// the review is assigned to.
type AssignRequest struct {
	To string `json:"to"`
}

// NextResponse answers POST /v1/reviews/next: the review claimed for the
// caller, or null when none is left for them.
type NextResponse struct {
	Review *countersign.Review `json:"review"`
}

// DecisionRequest is the body of POST /v1/reviews/{id}/decision.
type DecisionRequest struct {
	Action countersign.Action `json:"action"`
	Fields countersign.Fields `json:"fields,omitempty"`
	Reason string             `json:"reason,omitempty"`
	// Approves, on an approval of a review someone corrected, names that
	// correction (its decision ID): an approval stands only for what its
	// author saw.
	Approves string `json:"approves,omitempty"`
}

// DecisionResponse answers a decision: the decision as recorded and the
// document's status after it.
type DecisionResponse struct {
	Decision countersign.Decision `json:"decision"`
	Document DocumentStatus       `json:"document"`
}

// DocumentStatus names a document and its status.
type DocumentStatus struct {
	ID     string             `json:"id"`
	Status countersign.Status `json:"status"`
}

// AuditEvents answers GET /v1/documents/{id}/audit.
type AuditEvents struct {
	Events []countersign.AuditEvent `json:"events"`
	// Hidden counts the decision.recorded events of a blind review still
	// open that the caller may not see yet (countersign.Review.Hides).
	Hidden int `json:"hidden_events,omitempty"`
}

// TokenRequest is the body of POST /v1/tokens. ExpiresIn is a duration
// ("720h"); empty means the token does not expire.
type TokenRequest struct {
	User      string           `json:"user"`
	Role      countersign.Role `json:"role"`
	ExpiresIn string           `json:"expires_in,omitempty"`
	// Groups are the reviewer groups of the user (see review_groups).
	Groups []string `json:"groups,omitempty"`
}

// TokenResponse carries a new token's secret, shown this once.
type TokenResponse struct {
	Secret string `json:"token"`
	*countersign.Token
}

// TokenList answers GET /v1/tokens: every token, oldest first, without
// secrets or hashes.
type TokenList struct {
	Tokens []countersign.Token `json:"tokens"`
}

// RevokeRequest is the body of POST /v1/tokens/{id}/revoke; the answer is
// the revoked countersign.Token.
type RevokeRequest struct {
	Reason string `json:"reason"`
}

// CalibrateRequest asks for a calibration of a task type
// (POST /v1/calibrations); the answer is the countersign.Calibration as
// stored, active or with the reason it is not.
type CalibrateRequest struct {
	TaskType string `json:"task_type"`
	// Seed draws the holdout split and the folds; absent, a random one,
	// recorded in the calibration. The same seed on the same outcomes
	// gives the same model and figures.
	Seed *int64 `json:"seed,omitempty"`
	// Holdout is the share of reviewed documents kept out of training for
	// certification, in [0, 0.9]; absent, 0.5.
	Holdout *float64 `json:"holdout,omitempty"`
}

// SlackUserRequest links a Slack account to a countersign user
// (POST /v1/slack/users); the answer is the countersign.SlackUser as stored.
type SlackUserRequest struct {
	SlackUserID string           `json:"slack_user_id"`
	User        string           `json:"user"`
	Role        countersign.Role `json:"role"`
	Groups      []string         `json:"groups,omitempty"`
}

// SlackUserList answers GET /v1/slack/users: every linked Slack account.
type SlackUserList struct {
	SlackUsers []countersign.SlackUser `json:"slack_users"`
}
