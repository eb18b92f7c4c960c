// Package reconcile repairs what no review workflow can repair itself,
// because no step of it runs: a document stored without its review workflow
// (intake stopped between storing it and starting the workflow), a
// review workflow that ended in Temporal without finishing its document
// (terminated, or timed out), and a claim on a review whose lease passed
// (recorded and ended). It also completes batches (CompleteBatches), which
// no one document's workflow can see. Every worker runs a Reconciler, at start and
// then at an interval. Replicas may run it at once: each repair is recorded
// under an audit event ID derived from the document and starts a workflow
// by its fixed ID, so the second replica changes nothing.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/webhook"
)

// DefaultInterval is how often a worker reconciles unless configured
// otherwise.
const DefaultInterval = time.Minute

// batch bounds the documents one round recovers; the next round takes the
// rest.
const batch = 500

// Reconciler finds and repairs documents whose review workflow never started
// or ended without finishing them.
type Reconciler struct {
	// Dispatch asks Temporal how review workflows stand and starts a
	// recovered document's review as intake would have.
	Dispatch *dispatch.Dispatcher
	Store    countersign.Store
	// Interval is how often Run reconciles (default DefaultInterval). It is
	// also the grace a stored document has to show its workflow started:
	// intake starts it within milliseconds, so one older than an interval
	// without it was left behind.
	Interval time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
	// Webhook, when set, is where batch.completed is sent (CompleteBatches).
	Webhook *webhook.Client
	// DeliveryAttempts bounds the attempts to send a batch's webhook that
	// fails for a temporary reason, one a round (default
	// activities.DefaultDeliveryAttempts).
	DeliveryAttempts int

	// since is where the next look for abandoned reviews starts, by close
	// time; zero looks at every one Temporal still lists.
	since time.Time
}

// Run reconciles at once, then every interval, until ctx ends. A round that
// fails is logged and the next one tries again.
func (r *Reconciler) Run(ctx context.Context) {
	ticker := time.NewTicker(r.interval())
	defer ticker.Stop()
	for {
		if err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.logger().Warn("reconciling reviews", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Once runs one round: it starts the review of every document intake left
// without one, closes the reviews whose workflow was terminated or timed
// out since the last round that succeeded, ends the claims whose lease
// has passed, recording each lapse, completes the batches whose last
// document is final, sending their webhook, and starts the supervisor of
// each supervised task type that has none.
func (r *Reconciler) Once(ctx context.Context) error {
	return errors.Join(r.RecoverIntake(ctx), r.CloseAbandoned(ctx), r.endLapsedClaims(ctx), r.CompleteBatches(ctx), r.ensureSupervisors(ctx))
}

// ensureSupervisors starts the supervisor of each supervised task type
// none runs for (dispatch.Dispatcher.EnsureSupervisors).
func (r *Reconciler) ensureSupervisors(ctx context.Context) error {
	n, replaced, err := r.Dispatch.EnsureSupervisors(ctx)
	for _, what := range replaced {
		r.logger().Warn("a run that is no supervisor held a supervisor's workflow ID: terminated, and the supervisor started in its place", "replaced", what)
	}
	if n > 0 {
		r.logger().Info("supervisors started", "started", n)
	}
	return err
}

// endLapsedClaims ends the claims whose lease has passed
// (dispatch.Dispatcher.EndLapsedClaims).
func (r *Reconciler) endLapsedClaims(ctx context.Context) error {
	n, err := r.Dispatch.EndLapsedClaims(ctx)
	if n > 0 {
		r.logger().Info("claims lapsed", "ended", n)
	}
	return err
}

func (r *Reconciler) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultInterval
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// record appends one of the reconciler's audit events to a document's
// trail. Its ID derives from the document, so a replica that repairs the
// same document, or a retry after a crash, finds the event already there;
// the data may differ then (the first one's view of the store stands).
func (r *Reconciler) record(ctx context.Context, doc *countersign.Document, id, eventType string, data map[string]any) error {
	data["versions"] = map[string]string{"task_type": doc.TaskTypeVersion}
	raw, err := audit.Canonical(data)
	if err != nil {
		return err
	}
	stored, err := r.Store.AppendAudit(ctx, countersign.AuditEvent{
		ID:         id,
		DocumentID: doc.ID,
		Type:       eventType,
		Actor:      countersign.SystemActor,
		Channel:    countersign.ChannelWorkflow,
		At:         r.now(),
		Data:       raw,
	})
	if err != nil {
		return fmt.Errorf("record %s of %s: %w", eventType, doc.ID, err)
	}
	if stored.Type != eventType {
		return countersign.Errorf(countersign.CodeConflict, "audit event %s is already recorded as %s, not %s", id, stored.Type, eventType)
	}
	return nil
}
