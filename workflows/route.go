package workflows

import (
	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/routing"
)

// RouteInput is what routing decides on; see routing.RouteInput.
type RouteInput = routing.RouteInput

// Route decides where a document goes; the workflow records it. The rules
// live in package routing so that the policy simulation (and the client
// binary through it) replays them without linking Temporal.
func Route(in RouteInput) *countersign.Route { return routing.Route(in) }

// AuditSampled draws whether an auto-accepted document is audited; see
// routing.AuditSampled.
func AuditSampled(documentID string, rate float64) bool {
	return routing.AuditSampled(documentID, rate)
}

// draftError says why a draft failed.
func draftError(d *countersign.Draft) string { return routing.DraftError(d) }
