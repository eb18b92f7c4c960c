package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/export"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/report"
	"github.com/countersign/countersign/starter"
	"github.com/countersign/countersign/workflows"
)

// VetoRequest is the body of POST /v1/documents/{id}/veto.
type VetoRequest struct {
	Action countersign.Action `json:"action"`
	Fields countersign.Fields `json:"fields,omitempty"`
	Reason string             `json:"reason,omitempty"`
}

// veto overrides an auto-accepted document within its veto window, through
// the review workflow's veto update and its validator.
func (h *handlers) veto(w http.ResponseWriter, r *http.Request) {
	var req VetoRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.inputLimits().check(req.Fields, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	doc, err := h.Store.GetDocument(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	update := workflows.VetoRequest{Action: req.Action, Fields: req.Fields, Reason: req.Reason, Actor: principal(r), Channel: channel(r)}
	id := newUpdateID("veto")
	claims, err := update.Claims(doc.ID, id)
	if update.Provenance, err = attest(h.Signer, claims, err, h.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	handle, err := h.Temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
		UpdateID:     id,
		WorkflowID:   workflows.ReviewWorkflowID(doc.ID),
		UpdateName:   workflows.VetoUpdate,
		Args:         []any{update},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var result workflows.DecisionResult
		if err = handle.Get(r.Context(), &result); err == nil {
			writeJSON(w, http.StatusOK, DecisionResponse{Decision: result.Decision, Document: DocumentStatus{ID: doc.ID, Status: result.Status}})
			return
		}
	}
	if isNotFound(err) {
		closeIfAbandoned(r.Context(), h.Store, h.Temporal, doc.ID)
		err = countersign.Errorf(countersign.CodeConflict, "document %s is %s and its review has ended: the veto window is closed; only an audit can correct it now", doc.ID, doc.Status)
	}
	h.fail(w, r, temporalError(err, "veto of document "+doc.ID))
}

// ResetRequest is the body of POST /v1/policy/reset.
type ResetRequest struct {
	TaskType string `json:"task_type"`
	Reason   string `json:"reason"`
}

// resetPolicy lifts a supervisor's tightening of a task type's policy.
func (h *handlers) resetPolicy(w http.ResponseWriter, r *http.Request) {
	var req ResetRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.inputLimits().sizes.Check(nil, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.Starter.TaskTypes.Get(req.TaskType); err != nil {
		h.fail(w, r, err)
		return
	}
	update := workflows.ResetRequest{Reason: req.Reason, Actor: principal(r), Channel: channel(r)}
	id := newUpdateID("reset")
	claims, err := update.Claims(req.TaskType, id)
	if update.Provenance, err = attest(h.Signer, claims, err, h.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	handle, err := h.Temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
		UpdateID:     id,
		WorkflowID:   workflows.SupervisorWorkflowID(req.TaskType),
		UpdateName:   workflows.ResetUpdate,
		Args:         []any{update},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var o countersign.PolicyOverride
	if err == nil {
		err = handle.Get(r.Context(), &o)
	}
	if isNotFound(err) {
		err = countersign.Errorf(countersign.CodeConflict, "the policy of %s is not tightened: no audit has reached its supervisor yet", req.TaskType)
	}
	if err != nil {
		h.fail(w, r, temporalError(err, "reset of the policy of "+req.TaskType))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"override": o})
}

// Stats is the answer of GET /v1/stats: supervision and quality figures.
type Stats struct {
	TaskType    string           `json:"task_type"`
	Supervision SupervisionStats `json:"supervision"`
	Quality     *report.Report   `json:"quality"`
}

// SupervisionStats is where a task type's autonomy stands.
type SupervisionStats struct {
	// State is unsupervised (no error budget), normal, or tightened.
	State string `json:"state"`
	// Estimate is the escaped-error estimate of the supervisor's window: the
	// evidence of the certificate it started from (Basis), if any, and the
	// audits since Since.
	Estimate *quality.Estimate `json:"estimate,omitempty"`
	Since    *time.Time        `json:"since,omitempty"`
	// Basis is what the window judges: the policy versions in force since
	// it started, and the certificate whose evidence it starts from.
	Basis  *activities.Basis `json:"basis,omitempty"`
	Audits quality.Tally     `json:"all_audits"`
	// IgnoredReports counts the audit reports the supervisor did not count
	// because the store did not confirm them.
	IgnoredReports int                         `json:"ignored_reports,omitempty"`
	Override       *countersign.PolicyOverride `json:"override,omitempty"`
	Budget         float64                     `json:"budget,omitempty"`
	Level          float64                     `json:"level,omitempty"`
	// Policy is the policy new documents start under: the task type's,
	// then PolicyVersion, then Override; its version names each.
	Policy        countersign.Policy         `json:"policy"`
	PolicyVersion *countersign.PolicyVersion `json:"policy_version,omitempty"`
}

// Supervision states.
const (
	StateUnsupervised = "unsupervised"
	StateNormal       = "normal"
	StateTightened    = "tightened"
)

// stats reports a task type's supervision state and quality figures.
func (h *handlers) stats(w http.ResponseWriter, r *http.Request) {
	tt, err := h.Starter.TaskTypes.Get(r.URL.Query().Get("task_type"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := Stats{TaskType: tt.Name}
	sup := &out.Supervision
	sup.State = StateUnsupervised
	inForce, err := starter.PolicyInForce(r.Context(), h.Store, tt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if s := inForce.Policy.Supervision; s != nil && inForce.Policy.Mode == countersign.ModeHOTL {
		sup.State, sup.Budget, sup.Level = StateNormal, s.ErrorBudget, s.Level
	}
	sup.Override, sup.PolicyVersion, sup.Policy = inForce.Override, inForce.Version, inForce.Policy
	var state workflows.Supervision
	resp, err := h.Temporal.QueryWorkflow(r.Context(), workflows.SupervisorWorkflowID(tt.Name), "", workflows.SupervisionQuery)
	switch {
	case err == nil:
		if err := resp.Get(&state); err != nil {
			h.fail(w, r, err)
			return
		}
		sup.Estimate, sup.Audits, sup.Since = state.Estimate, state.All, &state.Since
		sup.Basis, sup.IgnoredReports = state.Basis, state.Ignored
	case !isNotFound(err):
		h.fail(w, r, temporalError(err, "supervisor of "+tt.Name))
		return
	}
	if sup.Override != nil {
		sup.State = StateTightened
	}
	if out.Quality, err = report.Build(r.Context(), h.Store, tt.Name, h.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// exportData streams labeled data from decided documents: SFT or preference
// JSONL, CSV of field decisions, or an evaluation set.
func (h *handlers) exportData(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format, err := export.ParseFormat(q.Get("format"))
	if err != nil {
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "%v", err))
		return
	}
	f := export.Filter{TaskType: q.Get("task_type")}
	if f.TaskType != "" {
		if _, err := h.Starter.TaskTypes.Get(f.TaskType); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if f.Since, f.Until, err = timeRange(q); err != nil {
		h.fail(w, r, err)
		return
	}
	for name, into := range map[string]*bool{"human_only": &f.HumanOnly, "exclude_flagged": &f.ExcludeFlagged} {
		if raw := q.Get(name); raw != "" {
			v, err := strconv.ParseBool(raw)
			if err != nil {
				h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "%s must be true or false, not %q", name, raw))
				return
			}
			*into = v
		}
	}
	contentType := "application/x-ndjson"
	if format == export.CSV {
		contentType = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", exportName(f.TaskType, format)))
	guidelines := func(ctx context.Context, version string) (string, error) {
		tt, err := h.Starter.Resolver.Version(ctx, version)
		if err != nil {
			return "", err
		}
		return tt.Guideline, nil
	}
	// The status line is sent with the first byte: a failure after that is
	// told in a trailer, and the log says why.
	w.Header().Set("Trailer", ExportErrorTrailer)
	out := &countingWriter{w: w}
	counts, err := export.Run(r.Context(), h.Store, guidelines, f, format, out, nil)
	if err != nil && out.n == 0 {
		// Nothing was sent yet: answer with a proper error status.
		for _, name := range []string{"Trailer", "Content-Disposition"} {
			w.Header().Del(name)
		}
		h.fail(w, r, err)
		return
	}
	if err != nil {
		h.Logger.Error("export failed", "format", format, "exported", counts.Exported, "error", err)
		message := "internal error; the server log has the details"
		if countersign.ErrorCode(err) != countersign.CodeInternal {
			message = err.Error()
		}
		w.Header().Set(ExportErrorTrailer, message)
	}
}

// ExportErrorTrailer is the HTTP trailer that says an export failed after
// it had started streaming.
const ExportErrorTrailer = "X-Countersign-Export-Error"

// countingWriter counts the bytes that reached the client.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func exportName(taskType string, format export.Format) string {
	name := "countersign"
	if taskType != "" {
		name += "-" + taskType
	}
	ext := ".jsonl"
	if format == export.CSV {
		ext = ".csv"
	}
	return name + "-" + string(format) + ext
}

// parseTime accepts RFC 3339 times and plain dates (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2026-01-31) nor an RFC 3339 time", s)
	}
	return t, nil
}

// isNotFound reports whether Temporal has no such workflow running.
func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// timeRange reads the since and until query parameters (dates or RFC 3339
// times); a missing one leaves that end open.
func timeRange(q url.Values) (since, until time.Time, err error) {
	for name, into := range map[string]*time.Time{"since": &since, "until": &until} {
		if raw := q.Get(name); raw != "" {
			t, err := parseTime(raw)
			if err != nil {
				return time.Time{}, time.Time{}, countersign.Errorf(countersign.CodeBadRequest, "%s: %v", name, err)
			}
			*into = t
		}
	}
	return since, until, nil
}
