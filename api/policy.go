package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/certify"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/rest"
)

// CertifyRefusal is the 422 answer of POST /v1/policy/certify when no
// threshold passes: the error, whose message says why and how many more
// reviewed documents it would take, and the test.
type CertifyRefusal struct {
	Error rest.ErrorDetail `json:"error"`
	Test  *certify.Result  `json:"test"`
}

// certifyPolicy tests thresholds on the reviewed documents the active
// calibration did not train on, and stores the certificate of the lowest
// that keeps the error rate among accepted documents within the budget.
func (h *handlers) certifyPolicy(w http.ResponseWriter, r *http.Request) {
	var req CertifyRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.ErrorBudget == 0 {
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "error_budget is required: the highest acceptable error rate among auto-accepted documents, a share between 0 and 1 (0.01 is 1%%)"))
		return
	}
	tt, err := h.Dispatch.TaskTypes.Get(req.TaskType)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	level := certify.DefaultLevel
	if req.Level != nil {
		level = *req.Level
	}
	cal, err := calibration.Active(r.Context(), h.Store, tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data, err := certify.Collect(r.Context(), h.Store, tt, cal, h.Now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	calVersion := ""
	if cal != nil {
		calVersion = cal.Version
	}
	if err := certify.Check(req.ErrorBudget, level); err != nil {
		h.fail(w, r, err) // a budget or level out of range, before anything is recorded
		return
	}
	if err := certify.CheckHorizon(req.Horizon); err != nil {
		h.fail(w, r, err)
		return
	}
	if data.Early() {
		// Not tested, so not an attempt.
		res, msg := data.EarlyRefusal(tt.Name, req.ErrorBudget, level)
		if req.Horizon > 0 {
			res.Horizon, res.RateBudget = req.Horizon, certify.BatchRateAt(req.ErrorBudget, level, req.Horizon)
		}
		rest.WriteJSON(w, http.StatusUnprocessableEntity, CertifyRefusal{
			Error: rest.ErrorDetail{Code: countersign.CodeInvalid, Message: msg},
			Test:  res,
		})
		return
	}
	attempt, err := h.certificationAttempt(r, CertificationAttempt{
		TaskType: tt.Name, Budget: req.ErrorBudget, Horizon: req.Horizon, Level: level, Calibration: calVersion,
		Documents: len(data.Samples), Since: data.Since, Until: data.Until,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := certify.TestBatchAttempt(data.Samples, req.ErrorBudget, level, req.Horizon, attempt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data.Note(res)
	if res.Certified == nil {
		rest.WriteJSON(w, http.StatusUnprocessableEntity, CertifyRefusal{
			Error: rest.ErrorDetail{Code: countersign.CodeInvalid, Message: res.Explain(tt.Name)},
			Test:  res,
		})
		return
	}
	p := principal(r)
	c := &countersign.Certificate{
		TaskType:      tt.Name,
		PolicyVersion: tt.Policy.Version,
		Budget:        res.Budget,
		Level:         res.Level,
		Horizon:       res.Horizon,
		RateBudget:    res.RateBudget,
		Threshold:     res.Certified.Threshold,
		Bound:         res.Certified.Bound,
		Accepted:      res.Certified.Accepted,
		Wrong:         res.Certified.Wrong,
		Documents:     res.Documents,
		ReviewShare:   res.ReviewShare,
		Tested:        res.Tested,
		Attempt:       res.Attempt,
		TestedAt:      res.TestedAt,
		Since:         data.Since,
		Until:         data.Until,
		CreatedAt:     audit.Time(h.Now()),
		CreatedBy:     p.User,
	}
	if cal != nil {
		c.Calibration = cal.Version
	}
	if err := h.Store.PutCertificate(r.Context(), c); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.recordPolicy(r, "certificate/"+c.ID, countersign.EventPolicyCertified, c.CreatedAt, c); err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusCreated, CertifyResponse{Certificate: c, Test: res})
}

// CertificationAttempt is the data of a policy.certification_attempted
// event: which evidence a certification was about to be tested on.
type CertificationAttempt struct {
	TaskType string  `json:"task_type"`
	Budget   float64 `json:"budget"`
	// Horizon is a batch certificate's (0: a certificate of the rate); it
	// is recorded, not counted apart.
	Horizon     int     `json:"horizon,omitempty"`
	Level       float64 `json:"level"`
	Calibration string  `json:"calibration,omitempty"`
	// Documents are the held-out reviewed documents, created from Since to
	// Until.
	Documents int       `json:"documents"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
}

// certificationAttempt records an attempt to certify and returns which
// attempt it is: one more than the attempts recorded before it at the same
// task type, budget and level, with or without a horizon, whatever their
// documents (the shares of the level sum to one over any sequence of
// attempts, overlapping or not: trying again until one passes is what
// they pay for, on fresh documents too).
// The event is appended first and the earlier ones counted by their place
// in the chain, so two attempts at once count each other in order. An
// attempt on no documents tests nothing and is not counted. It reads the
// whole chain: certification is an approver's occasional act. Another
// budget is another count: an approver who asks for 5.00001% after 5% was
// refused starts afresh, in plain sight of the audit log. So is another
// level: attempts at 95% spend 95%'s share, not 99%'s, and a 99% attempt
// after them could not say that every attempt together keeps 99% if they
// counted. A horizon is not another count: horizons of 400, 401 and 420
// test nearly the same rate on the same documents, and each would
// otherwise take a fresh share. Counted together, the batch attempts'
// shares of their half of the level still sum to at most that half, and
// the rate attempts' to at most the level.
func (h *handlers) certificationAttempt(r *http.Request, a CertificationAttempt) (int, error) {
	if a.Documents == 0 {
		return 1, nil
	}
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		return 0, err
	}
	event := countersign.AuditEvent{
		ID: "certification-attempt/" + a.TaskType + "/" + hex.EncodeToString(raw), Type: countersign.EventPolicyCertificationAttempted,
		Actor: principal(r).User, Channel: channel(r), At: audit.Time(h.Now()),
	}
	var err error
	if event.Data, err = audit.Canonical(a); err != nil {
		return 0, err
	}
	stored, err := h.Store.AppendAudit(r.Context(), event)
	if err != nil {
		return 0, err
	}
	earlier, err := h.countAttempts(r.Context(), a, stored.Seq)
	if err != nil {
		return 0, err
	}
	return earlier + 1, nil
}

// countAttempts counts the recorded attempts at a's task type, budget and
// level, whatever their horizon, before the event at seq before.
func (h *handlers) countAttempts(ctx context.Context, a CertificationAttempt, before int64) (int, error) {
	n := 0
	err := h.Store.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		if e.Seq >= before {
			return errStopScan
		}
		if e.Type != countersign.EventPolicyCertificationAttempted {
			return nil
		}
		var b CertificationAttempt
		if json.Unmarshal(e.Data, &b) != nil {
			return nil
		}
		if b.TaskType == a.TaskType && b.Budget == a.Budget && b.Level == a.Level && b.Documents > 0 {
			n++
		}
		return nil
	})
	if errors.Is(err, errStopScan) {
		err = nil
	}
	return n, err
}

// errStopScan ends a scan of the chain early.
var errStopScan = errors.New("stop")

// listCertificates lists a task type's certificates, newest first.
func (h *handlers) listCertificates(w http.ResponseWriter, r *http.Request) {
	tt, err := h.Dispatch.TaskTypes.Get(r.URL.Query().Get("task_type"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.Store.Certificates(r.Context(), tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"certificates": nonNil(list)})
}

// DefaultAuditRate is the audit rate a certificate is applied with when
// the policy in force audits nothing.
const DefaultAuditRate = 0.1

// applyCertificate puts a certificate's threshold in force, in hotl mode.
// The certificate must speak for routing as it is now: made under the task
// type's current rules and with the active calibration.
func (h *handlers) applyCertificate(w http.ResponseWriter, r *http.Request) {
	var req PolicyApplyRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.inputLimits().sizes.Check(nil, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	tt, err := h.Dispatch.TaskTypes.Get(req.TaskType)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Certificate == "" {
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "certificate is required: list them with countersign policy certificates --type %s", tt.Name))
		return
	}
	c, err := h.Store.Certificate(r.Context(), req.Certificate)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if c.TaskType != tt.Name {
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "certificate %s is of task type %s, not %s", c.ID, c.TaskType, tt.Name))
		return
	}
	if c.PolicyVersion != tt.Policy.Version {
		h.fail(w, r, countersign.Errorf(countersign.CodeConflict,
			"certificate %s was made under policy %s of %s, whose rules may route otherwise than its policy now (%s): certify again", c.ID, c.PolicyVersion, tt.Name, tt.Policy.Version))
		return
	}
	cal, err := calibration.Active(r.Context(), h.Store, tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	active := ""
	if cal != nil {
		active = cal.Version
	}
	if c.Calibration != active {
		h.fail(w, r, countersign.Errorf(countersign.CodeConflict,
			"certificate %s certifies %s, but routing of %s now uses %s: certify again", c.ID, calibrationText(c.Calibration), tt.Name, calibrationText(active)))
		return
	}
	threshold := c.Threshold
	reason := req.Reason
	if strings.TrimSpace(reason) == "" {
		confidence := c.Level
		if c.TestedAt > 0 {
			confidence = c.TestedAt
		}
		reason = fmt.Sprintf("certificate %s: %d of %d accepted documents wrong at threshold %s, upper bound %.4g within the budget %g at %g confidence",
			c.ID, c.Wrong, c.Accepted, certify.FormatThreshold(c.Threshold), c.Bound, c.Budget, confidence)
		if c.Horizon > 0 {
			reason = fmt.Sprintf("certificate %s: %d of %d accepted documents wrong at threshold %s, upper bound %.4g within the rate %.4g at %g confidence, so that at most %d of each next %d accepted documents (a budget of %g) are wrong at %g confidence",
				c.ID, c.Wrong, c.Accepted, certify.FormatThreshold(c.Threshold), c.Bound, c.RateBudget, confidence, c.Allowed(), c.Horizon, c.Budget, c.Level)
		}
	}
	if req.AuditSampleRate != nil && !share(*req.AuditSampleRate) {
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "audit sample rate must be a number between 0 and 1, not %v", *req.AuditSampleRate))
		return
	}
	h.putPolicyVersion(w, r, tt, countersign.EventPolicyApplied, func(v *countersign.PolicyVersion) {
		v.Mode, v.Threshold, v.Certificate, v.Reason = countersign.ModeHOTL, &threshold, c.ID, reason
		if req.AuditSampleRate != nil {
			v.AuditSampleRate = req.AuditSampleRate
		} else if v.Apply(tt.Policy).AuditSampleRate <= 0 {
			rate := DefaultAuditRate
			v.AuditSampleRate = &rate
		}
		// What a certificate promises is watched from its first document:
		// a task type without supervision of its own is supervised at the
		// certificate's budget and level (a batch certificate's rate: what
		// keeps its batches within the budget); one with supervision of
		// its own keeps it, at the stricter of its budget and the
		// certificate's rate (PolicyVersion.Apply).
		v.Supervision, v.SupervisionBudget = nil, c.Rate()
		if tt.Policy.Supervision == nil {
			v.Supervision = &countersign.Supervision{ErrorBudget: c.Rate(), Level: c.Level, Bound: countersign.BoundConfidenceSequence, OnBreach: countersign.BreachRaiseThreshold}
		}
	})
}

// setPolicy changes a task type's threshold, mode or audit rate by hand.
func (h *handlers) setPolicy(w http.ResponseWriter, r *http.Request) {
	var req PolicySetRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.inputLimits().sizes.Check(nil, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	tt, err := h.Dispatch.TaskTypes.Get(req.TaskType)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch {
	case req.Threshold == nil && req.Mode == "" && req.AuditSampleRate == nil:
		err = countersign.Errorf(countersign.CodeInvalid, "nothing to set: give a threshold, a mode or an audit sample rate")
	case req.Threshold != nil && !share(*req.Threshold):
		err = countersign.Errorf(countersign.CodeInvalid, "threshold must be a number between 0 and 1, not %v", *req.Threshold)
	case req.AuditSampleRate != nil && !share(*req.AuditSampleRate):
		err = countersign.Errorf(countersign.CodeInvalid, "audit sample rate must be a number between 0 and 1, not %v", *req.AuditSampleRate)
	case req.Mode != "" && req.Mode != countersign.ModeHITL && req.Mode != countersign.ModeHOTL:
		err = countersign.Errorf(countersign.CodeInvalid, "unknown mode %q (known: hitl, hotl)", req.Mode)
	case strings.TrimSpace(req.Reason) == "":
		err = countersign.Errorf(countersign.CodeInvalid, "reason is required: say why the policy changes")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.putPolicyVersion(w, r, tt, countersign.EventPolicySet, func(v *countersign.PolicyVersion) {
		if req.Mode != "" {
			v.Mode = req.Mode
		}
		if req.Threshold != nil {
			// A threshold set by hand is no longer the certificate's.
			v.Threshold, v.Certificate = req.Threshold, ""
		}
		if req.AuditSampleRate != nil {
			v.AuditSampleRate = req.AuditSampleRate
		}
		v.Reason = req.Reason
	})
}

// putPolicyVersion makes the next policy version of tt from the one in
// force (keeping the changes change does not make), checks the policy it
// puts in force, stores it and records it.
func (h *handlers) putPolicyVersion(w http.ResponseWriter, r *http.Request, tt *countersign.TaskType, event string, change func(*countersign.PolicyVersion)) {
	now, err := h.Store.PolicyInForce(r.Context(), tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	v := &countersign.PolicyVersion{TaskType: tt.Name, CreatedBy: p.User, CreatedAt: audit.Time(h.Now())}
	if now != nil {
		v.Previous, v.Mode, v.Threshold, v.AuditSampleRate, v.Certificate, v.Supervision, v.SupervisionBudget = now.ID, now.Mode, now.Threshold, now.AuditSampleRate, now.Certificate, now.Supervision, now.SupervisionBudget
	}
	change(v)
	if err := checkVersion(tt, v); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Store.PutPolicyVersion(r.Context(), v); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.recordPolicy(r, "policy/"+v.ID, event, v.CreatedAt, v); err != nil {
		h.fail(w, r, err)
		return
	}
	inForce, err := dispatch.PolicyInForce(r.Context(), h.Store, tt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "policy version in force", "task_type", tt.Name, "version", v.ID, "by", v.CreatedBy, "event", event)
	if err := h.Dispatch.PolicyChanged(r.Context(), tt.Name); err != nil {
		h.Logger.WarnContext(r.Context(), "the supervisor was not told of the new policy version; it reads it at the next audit", "task_type", tt.Name, "error", err)
	}
	rest.WriteJSON(w, http.StatusCreated, PolicyResponse{PolicyVersion: v, Policy: inForce.Policy})
}

// checkVersion refuses a version that would put in force a policy the task
// type file could not have said: hotl without a threshold of its own, or
// supervised without audits.
func checkVersion(tt *countersign.TaskType, v *countersign.PolicyVersion) error {
	p := v.Apply(tt.Policy)
	if p.Mode != countersign.ModeHOTL {
		return nil
	}
	if tt.Policy.Mode != countersign.ModeHOTL && v.Threshold == nil {
		return countersign.Errorf(countersign.CodeInvalid,
			"%s is hitl in its task type file, which sets no threshold to accept at: apply a certificate, or set a threshold with the mode", tt.Name)
	}
	if p.Supervision != nil && p.AuditSampleRate <= 0 {
		return countersign.Errorf(countersign.CodeInvalid, "the supervision of %s needs audits to judge from: the audit sample rate must stay above 0", tt.Name)
	}
	return nil
}

// listPolicyVersions lists a task type's policy versions, newest first,
// and the policy new documents start under.
func (h *handlers) listPolicyVersions(w http.ResponseWriter, r *http.Request) {
	tt, err := h.Dispatch.TaskTypes.Get(r.URL.Query().Get("task_type"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.Store.PolicyVersions(r.Context(), tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	inForce, err := dispatch.PolicyInForce(r.Context(), h.Store, tt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"versions": nonNil(list), "policy": inForce.Policy})
}

// recordPolicy appends the audit event of a certificate or policy version.
func (h *handlers) recordPolicy(r *http.Request, id, event string, at time.Time, v any) error {
	data, err := audit.Canonical(v)
	if err != nil {
		return err
	}
	_, err = h.Store.AppendAudit(r.Context(), countersign.AuditEvent{
		ID: id, Type: event, Actor: principal(r).User, Channel: channel(r), At: at, Data: data,
	})
	return err
}

// levelParam reads the level query parameter, a confidence level in (0,1);
// def when absent.
func levelParam(q url.Values, def float64) (float64, error) {
	raw := q.Get("level")
	if raw == "" {
		return def, nil
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || !(x > 0 && x < 1) {
		return 0, countersign.Errorf(countersign.CodeInvalid, "level must be a number between 0 and 1 (such as 0.95), not %q", raw)
	}
	return x, nil
}

// share reports whether x is a number from 0 to 1.
func share(x float64) bool { return !math.IsNaN(x) && x >= 0 && x <= 1 }

// calibrationText names a calibration version in a message.
func calibrationText(version string) string {
	if version == "" {
		return "the uncalibrated confidence"
	}
	return "calibration " + version
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
