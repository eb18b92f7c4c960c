package activities

import (
	"context"

	"github.com/countersign/countersign"
)

// RouteInput is the route the workflow decided for a draft.
type RouteInput struct {
	Step  Step               `json:"step"`
	Route *countersign.Route `json:"route"`
}

// RecordRoute stores the route and its reasons and records them.
func (a *Activities) RecordRoute(ctx context.Context, in RouteInput) error {
	if err := a.Store.UpdateDocument(ctx, in.Step.DocumentID, countersign.DocumentUpdate{Route: in.Route}); err != nil {
		return retryable(err)
	}
	data := map[string]any{
		"outcome":   in.Route.Outcome,
		"reasons":   in.Route.Reasons,
		"mode":      in.Route.Mode,
		"threshold": in.Route.Threshold,
	}
	if len(in.Route.Rules) > 0 {
		data["rules"] = in.Route.Rules
	}
	if in.Route.Calibration != "" {
		data["calibration"] = in.Route.Calibration
	}
	if err := a.record(ctx, in.Step, countersign.EventRouteDecided, countersign.SystemActor, countersign.ChannelWorkflow, data); err != nil {
		return err
	}
	a.Metrics.Routed(ctx, a.taskType(ctx, in.Step), in.Route.Outcome)
	return nil
}
