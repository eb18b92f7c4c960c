// Package activities holds the side effects of the review pipeline. Each
// activity does one step for one document, writes its result to the store and
// appends the step's audit event; each is idempotent, because Temporal retries
// activities and a retry must neither duplicate nor fork anything.
package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/telemetry"
	"github.com/countersign/countersign/internal/webhook"
)

// TaskTypes resolves the exact task type version a document runs under.
type TaskTypes interface {
	Version(ctx context.Context, version string) (*countersign.TaskType, error)
	// Current is the version new documents of the named task type run under.
	Current(ctx context.Context, name string) (*countersign.TaskType, error)
}

// Activities holds what the activities share: the store (documents, reviews,
// audit log), the task type versions, the extractors by kind, the notifier,
// a clock and a logger. Register a *Activities with a worker; workflows
// refer to its methods.
type Activities struct {
	Store      countersign.Store
	TaskTypes  TaskTypes
	Extractors map[string]countersign.Extractor
	// ModelAttempts is how many attempts of the Extract activity may fail
	// for a temporary reason (a model endpoint answering 429 or 5xx,
	// unreachable, or not answering in time) before the document goes to a
	// person without a draft; 0 means DefaultModelAttempts. Attempts that
	// failed on the store count too; every other step retries the store
	// without limit.
	ModelAttempts int
	// Webhook, when set, is told when documents are delivered and when
	// supervision tightens or resets a policy.
	Webhook *webhook.Client
	// DeliveryAttempts bounds the attempts to reach the webhook; 0 means
	// DefaultDeliveryAttempts.
	DeliveryAttempts int
	// Supervisors receives audit outcomes for the task types' supervisors.
	Supervisors Supervisors
	// Notifier tells people about reviews (Slack); nil turns its notices
	// off. Mail, when set, e-mails the same notices beside it; each is
	// tried and recorded on its own (Notify).
	Notifier countersign.Notifier
	Mail     countersign.Notifier
	// ReviewURL is where a person opens a review (the web page), for the
	// link in notices; nil sends notices without one.
	ReviewURL func(reviewID string) string
	// Metrics records what the steps count: routes, final statuses,
	// decision latency, corrected fields. Nil records nothing.
	Metrics *telemetry.Metrics
	// TrustStartInput skips Receive's check of a review's input against the
	// store (checkStart). Only tests that tune a review's input by hand
	// (approvals, groups, an unknown version) set it; countersign never
	// does, since anyone who can reach the Temporal frontend can start a
	// review with any input.
	TrustStartInput bool
	// AuditSettle is how long after an audit review's creation time the
	// supervisor's walk waits before it counts or passes it (CountAudits);
	// 0 means DefaultAuditSettle. Tests shorten it.
	AuditSettle time.Duration
	Now         func() time.Time
	Logger      *slog.Logger

	// scorers are what Score needs compiled, by task type version
	// (Activities.scorer).
	scorers sync.Map
}

// DefaultModelAttempts is ModelAttempts when unset: with the workflow's
// backoff, about half a minute of trying.
const DefaultModelAttempts = 5

// Step identifies the audit event an activity appends: the workflow numbers
// its events, so a retried activity appends the same event ID and the store
// keeps the first.
type Step struct {
	EventID         string `json:"event_id"`
	DocumentID      string `json:"document_id"`
	TaskTypeVersion string `json:"task_type_version"`
	PolicyVersion   string `json:"policy_version"`
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// load reads the step's document and the task type version it runs under.
func (a *Activities) load(ctx context.Context, step Step) (*countersign.Document, *countersign.TaskType, error) {
	doc, err := a.Store.GetDocument(ctx, step.DocumentID)
	if err != nil {
		return nil, nil, retryable(err)
	}
	tt, err := a.TaskTypes.Version(ctx, step.TaskTypeVersion)
	if err != nil {
		return nil, nil, retryable(err)
	}
	return doc, tt, nil
}

// taskType names the step's task type for metrics, or "unknown": a metric
// is not worth failing a step for. The resolver keeps versions in memory.
func (a *Activities) taskType(ctx context.Context, step Step) string {
	tt, err := a.TaskTypes.Version(ctx, step.TaskTypeVersion)
	if err != nil {
		return "unknown"
	}
	return tt.Name
}

// record appends the audit event of a step. data is the event's payload;
// the task type and policy versions are added to it.
func (a *Activities) record(ctx context.Context, step Step, eventType, actor string, channel countersign.Channel, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["versions"] = map[string]string{"task_type": step.TaskTypeVersion, "policy": step.PolicyVersion}
	raw, err := audit.Canonical(data)
	if err != nil {
		return permanent(err)
	}
	e := countersign.AuditEvent{
		ID:         step.EventID,
		DocumentID: step.DocumentID,
		Type:       eventType,
		Actor:      actor,
		Channel:    channel,
		At:         a.now(),
		Data:       raw,
		TraceID:    traceID(ctx),
	}
	stored, err := a.Store.AppendAudit(ctx, e)
	if err != nil {
		return retryable(err)
	}
	// A retry finds its own event; anything else under this ID means two
	// steps were given one ID, and the log would not say what happened.
	if stored.Type != e.Type || !ownData(e.Type, stored.Data, e.Data) {
		return permanent(countersign.Errorf(countersign.CodeConflict,
			"audit event %s is already recorded as %s with other data", e.ID, stored.Type))
	}
	return nil
}

// addedKeys are, per event type, the data keys this version records and
// earlier ones did not. A worker upgraded while an activity was retrying
// finds the event an earlier worker recorded without them.
var addedKeys = map[string][]string{
	countersign.EventDecisionRecorded:  {"at"},
	countersign.EventDocumentFinalized: {"decided_at"},
	countersign.EventDocumentVetoed:    {"decided_at"},
}

// ownData reports whether the stored data of an event is the data a retry
// records, or that data as an earlier version recorded it.
func ownData(eventType string, stored, data json.RawMessage) bool {
	if bytes.Equal(stored, data) {
		return true
	}
	keys := addedKeys[eventType]
	if len(keys) == 0 {
		return false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return false
	}
	for _, k := range keys {
		delete(m, k)
	}
	earlier, err := audit.Canonical(m)
	return err == nil && bytes.Equal(stored, earlier)
}

// traceID is the OpenTelemetry trace the activity runs in, if any, so an
// auditor can go from an audit event to its trace.
func traceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// retryable passes store and other errors through for Temporal to retry,
// except those whose code says retrying cannot help.
func retryable(err error) error {
	switch countersign.ErrorCode(err) {
	case countersign.CodeNotFound, countersign.CodeInvalid, countersign.CodeConflict:
		return permanent(err)
	}
	return err
}

// permanent marks err as not worth retrying, keeping its code as the error
// type so the workflow can tell what went wrong.
func permanent(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return err
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), string(countersign.ErrorCode(err)), err)
}
