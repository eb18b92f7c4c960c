// Package dispatch carries into Temporal what people and countersign's own
// processes ask of the review and supervisor workflows: a submitted
// document's review started (Submit, and Resume for the reconciler), a
// decision (Decide), a veto (Veto), a policy reset (ResetPolicy), a new
// policy version made known (PolicyChanged), the supervisor's state read
// (Supervision), and how a review workflow ended (ReviewRun, EndedEarly,
// Termination) for the reconciler. Every person's update is signed here
// (internal/provenance), so the workflow's validator can tell it from one
// sent around countersign.
//
// The REST API, the web page and Slack send people's requests through it,
// and the CLI through the API; the reconciler its repairs. Nothing else
// calls Temporal on behalf of anyone: the worker's own calls (its audit
// reports to the supervisor, its readiness) stay with the worker.
package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/pdfium"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/rest"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/internal/webhook"
)

// Dispatcher sends requests to the workflows. Its zero value is not usable:
// Store and, for anything that reaches Temporal, Temporal are needed.
type Dispatcher struct {
	Temporal client.Client
	Store    countersign.Store
	// TaskTypes are the task types as configured now: a submission's, and
	// the review groups a reviewer is held to. Resolver finds the version
	// a stored document was submitted under.
	TaskTypes *tasktype.Registry
	Resolver  *tasktype.Resolver
	// Signer signs every decision, veto and reset for the workflow's
	// validator, which refuses what it cannot verify. Without it no person's
	// update is sent.
	Signer *provenance.Signer
	// MaxDocumentBytes bounds a document body (default DefaultMaxDocumentBytes).
	MaxDocumentBytes int
	// PDF reads the text layer of a PDF submitted as a file; without it a
	// PDF is refused.
	PDF *pdfium.Extractor
	// OCR reads images, and the scanned pages of PDFs, submitted as files;
	// without it they are refused.
	OCR *ocr.Reader
	// Abandoned, when set, closes at once what a review workflow
	// terminated or timed out in Temporal left open, when a person's update
	// finds it gone (internal/reconcile's Reconciler); otherwise the
	// reconciler's next round does.
	Abandoned interface {
		CloseIfAbandoned(ctx context.Context, documentID string) error
	}
	// ClaimLease is how long a claim holds a review unless renewed
	// (countersign.DefaultClaimLease when zero).
	ClaimLease time.Duration
	// Webhook, when set, is the incident target an escalation is sent to
	// (incident.escalated); without it escalations are only recorded.
	Webhook *webhook.Client
	Now     func() time.Time

	// snapshots holds the task type versions this process has stored, so
	// that each is written once rather than with every document.
	snapshots sync.Map
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// MayReview refuses a reviewer the documents of a task type whose review
// groups they are in none of (see Principal.MayReview); other roles pass.
// The groups are the task type's as configured now, not as when a document
// was submitted: access follows today's rules. A task type no longer
// configured, or a Dispatcher without task types, names no groups.
func (d *Dispatcher) MayReview(p countersign.Principal, taskType string) error {
	if p.Role != countersign.RoleReviewer || d.TaskTypes == nil {
		return nil
	}
	tt, err := d.TaskTypes.Get(taskType)
	if err != nil || p.MayReview(tt) {
		return nil
	}
	return countersign.Errorf(countersign.CodeForbidden, "%s may not review %s documents: they are for the review groups %s",
		p.User, taskType, strings.Join(tt.ReviewGroups, ", "))
}

// attest signs the claims of a person's update (see package provenance), so
// that the workflow's validator can tell it from one sent around the API.
// Without a signer no one can be vouched for, and the error says so.
func (d *Dispatcher) attest(claims provenance.Claims, claimsErr error) (*provenance.Envelope, error) {
	if claimsErr != nil {
		return nil, countersign.Errorf(countersign.CodeInvalid, "the request cannot be signed: %v", claimsErr)
	}
	if d.Signer == nil {
		return nil, countersign.Errorf(countersign.CodeUnavailable, "this API has no decision signing key, so it cannot send decisions to workflows")
	}
	claims.IssuedAt = d.now().UTC()
	env, err := d.Signer.Sign(claims)
	if err != nil {
		return nil, countersign.Errorf(countersign.CodeInternal, "sign the request: %v", err)
	}
	return env, nil
}

// newUpdateID names an update no caller asked to deduplicate: the envelope
// is bound to its ID, so the ID is chosen before signing.
func newUpdateID(kind string) string {
	return kind + "-" + uuid.NewString()
}

// decisionUpdateID makes a caller's idempotency key into the update ID.
// Temporal deduplicates updates by ID alone, so the key is scoped to the
// caller and the review: the same key from someone else is a different
// request. With no key, every request is new.
func decisionUpdateID(caller countersign.Principal, reviewID, key string) string {
	if key == "" {
		return newUpdateID("decision")
	}
	sum := sha256.Sum256([]byte(caller.User + "\x00" + reviewID + "\x00" + key))
	return "decision-" + hex.EncodeToString(sum[:16])
}

// update sends a signed update to a workflow and waits until it completes,
// with its result in result: a refusal of the validator or the handler is
// the error.
func (d *Dispatcher) update(ctx context.Context, workflowID, name, id string, arg, result any) error {
	handle, err := d.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     id,
		WorkflowID:   workflowID,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return handle.Get(ctx, result)
}

// closeIfAbandoned is for a person's update that found the review workflow
// of documentID closed: see Abandoned. The person's answer is the same
// whether it closes anything or not.
func (d *Dispatcher) closeIfAbandoned(ctx context.Context, documentID string) {
	if d.Abandoned != nil {
		_ = d.Abandoned.CloseIfAbandoned(ctx, documentID)
	}
}

// isNotFound reports whether Temporal has no such workflow running.
func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// temporalError turns an error from a Temporal call into a coded error: a
// refusal from a validator keeps its code when the API answers that code
// (internal ones excepted), a closed workflow is a conflict, and an
// unreachable server is unavailable.
func temporalError(err error, what string) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if code := countersign.Code(appErr.Type()); rest.Status(code) != http.StatusInternalServerError {
			return countersign.Errorf(code, "%s", appErr.Message())
		}
	}
	if isNotFound(err) {
		return countersign.Errorf(countersign.CodeConflict, "%s: the review is closed", what)
	}
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	if errors.As(err, &unavailable) || errors.As(err, &deadline) {
		return countersign.Conceal(countersign.CodeUnavailable, what+": Temporal is unavailable; try again", err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
