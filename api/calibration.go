package api

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/rest"
	"github.com/countersign/countersign/internal/simulate"
)

// calibrate learns a confidence model for a task type from the human
// outcomes in the store (its training split), stores it, active when it
// beats the active calibration out of sample and inactive with the reason
// otherwise, and records who fitted it.
func (h *handlers) calibrate(w http.ResponseWriter, r *http.Request) {
	var req CalibrateRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.TaskType == "" {
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "task_type is required"))
		return
	}
	holdout := calibration.DefaultHoldout
	if req.Holdout != nil {
		holdout = *req.Holdout
	}
	if !(holdout >= 0 && holdout <= maxHoldout) {
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "holdout must be a share between 0 and %v, not %v", maxHoldout, holdout))
		return
	}
	seed := rand.Int64()
	if req.Seed != nil {
		seed = *req.Seed
	}
	tt, err := h.Dispatch.TaskTypes.Get(req.TaskType)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	active, err := calibration.Active(r.Context(), h.Store, tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	outcomes, err := calibration.Collect(r.Context(), h.Store, tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(outcomes.Documents) == 0 {
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid,
			"task type %s has no human outcomes to learn from yet: calibration needs documents a person approved or corrected", tt.Name))
		return
	}
	now := audit.Time(h.Now())
	cal, err := calibration.Learn(tt, outcomes, calibration.Options{Seed: seed, Holdout: holdout, TrainedThrough: now, Active: active})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	cal.CreatedAt = now
	cal.CreatedBy = p.User
	if err := h.Store.PutCalibration(r.Context(), cal); err != nil {
		h.fail(w, r, err)
		return
	}
	data, err := audit.Canonical(map[string]any{
		"task_type": cal.TaskType,
		"version":   cal.Version,
		"seed":      cal.Seed,
		"holdout":   cal.Holdout,
		"documents": cal.Report.Documents,
		"held_out":  cal.Report.HeldOut,
		"document":  cal.Report.Document,
		"active":    cal.Active,
		"inactive":  cal.Inactive,
	})
	if err == nil {
		_, err = h.Store.AppendAudit(r.Context(), countersign.AuditEvent{
			ID:   "calibration/" + cal.TaskType + "/" + cal.Version + "/" + strconv.FormatInt(cal.CreatedAt.UnixNano(), 10),
			Type: countersign.EventCalibrationFitted, Actor: p.User, Channel: channel(r), At: cal.CreatedAt, Data: data,
		})
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusCreated, cal)
}

// maxHoldout keeps some reviewed documents for training.
const maxHoldout = 0.9

// getCalibration returns the newest calibration of a task type, active or
// not (its active field says).
func (h *handlers) getCalibration(w http.ResponseWriter, r *http.Request) {
	cal, err := h.Store.LatestCalibration(r.Context(), r.PathValue("task_type"))
	if errors.Is(err, countersign.ErrNotFound) {
		err = countersign.Errorf(countersign.CodeNotFound, "task type %s has no calibration: fit one with countersign calibrate --type %s", r.PathValue("task_type"), r.PathValue("task_type"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, cal)
}

// simulatePolicy replays the stored scores and outcomes of a task type
// through its current policy at a range of thresholds.
func (h *handlers) simulatePolicy(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tt, err := h.Dispatch.TaskTypes.Get(q.Get("task_type"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var extra []float64
	for _, raw := range q["threshold"] {
		for _, part := range strings.Split(raw, ",") {
			x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
			// NaN compares false with everything: refused by name, or it
			// would reach the JSON answer, which cannot hold it.
			if err != nil || math.IsNaN(x) || x < 0 || x > 1 {
				h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "threshold must be a number between 0 and 1, not %q", part))
				return
			}
			extra = append(extra, x)
		}
	}
	cal, err := calibration.Active(r.Context(), h.Store, tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	level, err := levelParam(q, simulate.DefaultLevel)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := simulate.Run(r.Context(), h.Store, tt, cal, level, h.Now(), extra...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, res)
}
