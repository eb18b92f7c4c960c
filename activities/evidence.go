package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/quality"
)

// Basis is what a supervisor's estimation window judges; see quality.Basis,
// where it lives so that the stats wire type (and the client binary) need
// not link the activities.
type Basis = quality.Basis

// Certified is a certificate's evidence, where a window starts; see
// quality.Certified.
type Certified = quality.Certified

// maxVersions bounds the policy versions a window remembers; versions that
// only change the audit rate are rare, and the newest matter.
const maxVersions = 32

// PolicyBasis reads what a new estimation window of taskType judges: the
// policy version in force (nil: the task type's own policy), its mode and
// threshold, and the certificate it was applied from, whose evidence the
// window starts from when the threshold in force is the certified one.
func (a *Activities) PolicyBasis(ctx context.Context, taskType string) (*Basis, error) {
	b, _, err := a.policyBasis(ctx, taskType)
	return b, err
}

// policyBasis is PolicyBasis, with the policy in force.
func (a *Activities) policyBasis(ctx context.Context, taskType string) (*Basis, countersign.Policy, error) {
	tt, err := a.TaskTypes.Current(ctx, taskType)
	if err != nil {
		return nil, countersign.Policy{}, retryable(err)
	}
	v, err := a.Store.PolicyInForce(ctx, taskType)
	if err != nil {
		return nil, countersign.Policy{}, retryable(err)
	}
	p := v.Apply(tt.Policy)
	b := &Basis{Mode: p.Mode, Threshold: p.AutoAcceptThreshold}
	if v == nil {
		return b, p, nil
	}
	b.Versions = []string{v.ID}
	if v.Certificate == "" {
		return b, p, nil
	}
	c, err := a.Store.Certificate(ctx, v.Certificate)
	switch {
	case errors.Is(err, countersign.ErrNotFound):
		a.logger().Warn("the policy in force names a certificate the store does not have: its window starts empty", "task_type", taskType, "version", v.ID, "certificate", v.Certificate)
		return b, p, nil
	case err != nil:
		return nil, p, retryable(err)
	case c.TaskType != taskType || c.Threshold != b.Threshold:
		a.logger().Warn("the certificate of the policy in force does not certify its threshold: its window starts empty", "task_type", taskType, "version", v.ID, "certificate", c.ID, "certified", c.Threshold, "threshold", b.Threshold)
		return b, p, nil
	}
	sup := p.Supervision
	b.Certificate = &Certified{
		ID: c.ID, Calibration: c.Calibration, Threshold: c.Threshold, Budget: c.Rate(), Level: c.Level,
		Accepted: c.Accepted, Wrong: c.Wrong, Since: c.Since, Until: c.Until,
		Refutes: sup != nil && c.Rate() <= sup.ErrorBudget && c.Level >= sup.Level,
	}
	return b, p, nil
}

// ConfirmAuditsInput is a batch of audit outcomes reported to a supervisor,
// to be checked against the store before they count.
type ConfirmAuditsInput struct {
	TaskType string `json:"task_type"`
	// Counter names the supervisor's step that counts them; it marks each
	// audit it confirms as counted, so a retry of the step finds its own
	// marks and a later report of the same audit is refused.
	Counter string `json:"counter"`
	// Basis is the window's, nil when the supervisor has none yet.
	Basis   *Basis                     `json:"basis,omitempty"`
	Reports []countersign.AuditOutcome `json:"reports"`
}

// ConfirmAuditsResult is what the supervisor may count.
type ConfirmAuditsResult struct {
	// Basis is the policy in force now. NewWindow is set when it differs
	// from the window's in mode, threshold or certificate: the supervisor
	// starts a new window from it before it counts Confirmed.
	Basis     *Basis `json:"basis"`
	NewWindow bool   `json:"new_window"`
	// Confirmed are the audits as the store records them, whatever the
	// reports said.
	Confirmed []countersign.AuditOutcome `json:"confirmed"`
	// Ignored are the reports that could not be confirmed, and why.
	Ignored []IgnoredAudit `json:"ignored,omitempty"`
}

// IgnoredAudit is a report the supervisor does not count.
type IgnoredAudit struct {
	DocumentID string `json:"document_id"`
	Reason     string `json:"reason"`
}

// ConfirmAudits checks each reported audit outcome against the store, since
// anyone who can reach the Temporal frontend can signal a supervisor. An
// outcome counts only when the document is of the task type, was drawn for
// audit under a policy version of the window, its audit review is closed
// with a decision recorded on it and its final record amended by it, and
// no supervisor counted that audit before (the mark is an audit.counted
// event in the document's trail). What counts is the store's account (the
// confidence, whether the auditor corrected it, who and when), not the
// report's. The rest is logged and returned as ignored.
func (a *Activities) ConfirmAudits(ctx context.Context, in ConfirmAuditsInput) (*ConfirmAuditsResult, error) {
	now, err := a.PolicyBasis(ctx, in.TaskType)
	if err != nil {
		return nil, err
	}
	res := &ConfirmAuditsResult{Basis: now, NewWindow: !in.Basis.Continues(now)}
	if !res.NewWindow {
		// The window goes on: documents of its earlier versions count too.
		now.Versions = continueVersions(in.Basis.Versions, now.Versions)
	}
	for _, o := range in.Reports {
		confirmed, why, err := a.confirmAudit(ctx, in, now, o)
		if err != nil {
			return nil, err
		}
		if why != "" {
			a.logger().Warn("audit report not counted", "task_type", in.TaskType, "document", o.DocumentID, "reason", why)
			res.Ignored = append(res.Ignored, IgnoredAudit{DocumentID: o.DocumentID, Reason: why})
			continue
		}
		if confirmed.Escaped != o.Escaped || confirmed.Confidence != o.Confidence {
			a.logger().Warn("audit report differs from the store; the store's account counts", "task_type", in.TaskType, "document", o.DocumentID,
				"reported_escaped", o.Escaped, "escaped", confirmed.Escaped, "reported_confidence", o.Confidence, "confidence", confirmed.Confidence)
		}
		res.Confirmed = append(res.Confirmed, *confirmed)
	}
	return res, nil
}

// confirmAudit returns the store's account of the audit o reports, or why
// it does not count.
func (a *Activities) confirmAudit(ctx context.Context, in ConfirmAuditsInput, basis *Basis, o countersign.AuditOutcome) (*countersign.AuditOutcome, string, error) {
	if o.DocumentID == "" || len(o.DocumentID) > 512 {
		return nil, "no document ID of a plausible length", nil
	}
	doc, err := a.Store.GetDocument(ctx, o.DocumentID)
	switch {
	case errors.Is(err, countersign.ErrNotFound):
		return nil, "no such document", nil
	case err != nil:
		return nil, "", retryable(err)
	case doc.TaskType != in.TaskType:
		return nil, fmt.Sprintf("the document is of task type %s", doc.TaskType), nil
	case doc.Route == nil || doc.Route.Outcome != countersign.OutcomeAutoAcceptWithAudit:
		return nil, "the document was not drawn for audit", nil
	case !routedUnder(in.TaskType, doc.Route.PolicyVersion, basis.Versions):
		return nil, fmt.Sprintf("the document was routed under policy %s, not one of the window's", doc.Route.PolicyVersion), nil
	case doc.Final == nil || doc.Final.AuditedBy == "":
		return nil, "the document's final record shows no audit", nil
	}
	reviews, err := a.Store.ReviewsForDocument(ctx, doc.ID)
	if err != nil {
		return nil, "", retryable(err)
	}
	i := slices.IndexFunc(reviews, func(r countersign.Review) bool { return r.Kind == countersign.ReviewAudit })
	if i < 0 {
		return nil, "the document has no audit review", nil
	}
	review := reviews[i]
	if review.Status != countersign.ReviewClosed {
		return nil, "its audit review is not closed", nil
	}
	decisions, err := a.Store.Decisions(ctx, doc.ID)
	if err != nil {
		return nil, "", retryable(err)
	}
	j := slices.IndexFunc(decisions, func(d countersign.Decision) bool { return d.ReviewID == review.ID })
	if j < 0 {
		return nil, "no decision is recorded on its audit review", nil
	}
	d := decisions[j]
	out := &countersign.AuditOutcome{
		DocumentID: doc.ID,
		TaskType:   doc.TaskType,
		Confidence: review.Confidence,
		Threshold:  doc.Route.Threshold,
		Escaped:    doc.Final.CorrectedAfterAudit,
		Auditor:    d.Actor,
		At:         d.At,
	}
	if out.Escaped {
		out.Fields = slices.Sorted(maps.Keys(d.Fields))
	}
	by, err := a.markCounted(ctx, in.TaskType, in.Counter, doc, review.ID, d.ID, out)
	if err != nil {
		return nil, "", err
	}
	if by != "" {
		return nil, "the audit was counted before, by " + by, nil
	}
	return out, "", nil
}

// CountedEventID is the ID of the audit event that marks the audit of a
// document as counted by a supervisor: one per document, since a document
// is audited once.
func CountedEventID(taskType, documentID string) string {
	return "supervisor/" + taskType + "/counted/" + documentID
}

// markCounted records that the supervisor's step counter counts the audit
// of doc, and returns who counted it when another step did (empty when
// this one does: o is then as the step first marked it). decisionID is
// empty for an audit counted without a verdict.
func (a *Activities) markCounted(ctx context.Context, taskType, counter string, doc *countersign.Document, reviewID, decisionID string, o *countersign.AuditOutcome) (string, error) {
	mark := map[string]any{
		"counted_by":  counter,
		"review_id":   reviewID,
		"decision_id": decisionID,
		"escaped":     o.Escaped,
		"confidence":  o.Confidence,
		"versions":    map[string]string{"task_type": doc.TaskTypeVersion, "policy": doc.Route.PolicyVersion},
	}
	if o.NoVerdict {
		mark["no_verdict"] = true
	}
	data, err := audit.Canonical(mark)
	if err != nil {
		return "", permanent(err)
	}
	e := countersign.AuditEvent{
		ID:         CountedEventID(taskType, doc.ID),
		DocumentID: doc.ID,
		Type:       countersign.EventAuditCounted,
		Actor:      countersign.SystemActor,
		Channel:    countersign.ChannelWorkflow,
		At:         a.now(),
		Data:       data,
		TraceID:    traceID(ctx),
	}
	stored, err := a.Store.AppendAudit(ctx, e)
	if err != nil {
		return "", retryable(err)
	}
	if stored.Type == e.Type && bytes.Equal(stored.Data, e.Data) {
		return "", nil
	}
	var earlier struct {
		CountedBy string `json:"counted_by"`
		Escaped   bool   `json:"escaped"`
		NoVerdict bool   `json:"no_verdict"`
	}
	switch err := json.Unmarshal(stored.Data, &earlier); {
	case err != nil || earlier.CountedBy == "":
		return "event " + stored.ID, nil
	case earlier.CountedBy == counter:
		// This step, retried, after the audit moved on (decided since it
		// was counted without a verdict): it counts as first marked.
		o.Escaped, o.NoVerdict = earlier.Escaped, earlier.NoVerdict
		return "", nil
	}
	return earlier.CountedBy, nil
}

// routedUnder reports whether a route's policy version (the task type
// policy's, then "+" and each policy version and override applied) names
// one of versions; with none, whether it names no policy version at all.
func routedUnder(taskType, policyVersion string, versions []string) bool {
	parts := strings.Split(policyVersion, "+")[1:]
	if len(versions) == 0 {
		return !slices.ContainsFunc(parts, func(p string) bool { return countersign.IsPolicyVersionID(taskType, p) })
	}
	return slices.ContainsFunc(parts, func(p string) bool { return slices.Contains(versions, p) })
}
