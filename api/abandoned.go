package api

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/reconcile"
)

// closeIfAbandoned is for a person's update that found the review workflow
// of documentID closed: if the workflow was terminated or timed out, its
// open reviews are closed and the document failed at once, as the worker's
// reconciler would at its next round, so that the queue no longer shows
// them. If that fails, the reconciler does it later; the person's answer
// is the same either way.
func closeIfAbandoned(ctx context.Context, store countersign.Store, temporal client.Client, documentID string) {
	r := &reconcile.Reconciler{Store: store, Temporal: temporal}
	_ = r.CloseIfAbandoned(ctx, documentID)
}
