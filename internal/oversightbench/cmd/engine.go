package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/oversightbench"
)

// The steps of the story that call the engine's calibration, certification
// and policy endpoints. Endpoints the engine does not have yet are reported
// (errNotBuilt) and the run goes on without them: documents then stay in
// hitl.

// notBuilt is the answer of an engine without an endpoint the story needs.
type notBuilt struct{ endpoint string }

func (e *notBuilt) Error() string { return "the engine has no " + e.endpoint + " yet" }

func isNotBuilt(err error) bool {
	var nb *notBuilt
	return errors.As(err, &nb)
}

// call sends a JSON request with c's token. A 404 naming no such endpoint
// is a notBuilt error; other error answers are *apiclient.Error.
func call(ctx context.Context, c *apiclient.Client, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error apiclient.Error `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		e.Error.Status = resp.StatusCode
		if e.Error.Message == "" {
			e.Error.Message = strings.TrimSpace(string(raw))
		}
		if resp.StatusCode == http.StatusNotFound && strings.HasPrefix(e.Error.Message, "no such endpoint") {
			return &notBuilt{endpoint: method + " " + strings.SplitN(path, "?", 2)[0]}
		}
		return &e.Error
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// CalibrationRun is one `calibrate`: the version it stored and whether it
// became active (engines from before active calibrations do not say).
type CalibrationRun struct {
	Reviewed int    `json:"reviewed"`
	Version  string `json:"version,omitempty"`
	Active   *bool  `json:"active,omitempty"`
	Inactive string `json:"inactive,omitempty"`
	Refused  string `json:"refused,omitempty"`
}

func (s *seedRun) calibrate(ctx context.Context) error {
	var c struct {
		Version  string `json:"version"`
		Active   *bool  `json:"active"`
		Inactive string `json:"inactive"`
	}
	run := CalibrationRun{Reviewed: len(s.reviewed)}
	err := call(ctx, s.approver, http.MethodPost, "/v1/calibrations", api.CalibrateRequest{TaskType: oversightbench.TaskType}, &c)
	var apiErr *apiclient.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity:
		run.Refused = apiErr.Message
		progress("seed %d: calibrate refused after %d reviewed: %s", s.seed, run.Reviewed, apiErr.Message)
	case err != nil:
		return fmt.Errorf("calibrate: %w", err)
	default:
		run.Version, run.Active, run.Inactive = c.Version, c.Active, c.Inactive
		state := "stored"
		if c.Active != nil && *c.Active {
			state = "active"
		} else if c.Active != nil {
			state = "inactive: " + c.Inactive
		}
		progress("seed %d: calibrated on %d reviewed documents: %s (%s)", s.seed, run.Reviewed, c.Version, state)
	}
	s.out.Calibrations = append(s.out.Calibrations, run)
	return nil
}

// certify asks for a certificate at budget: the certificate, or the
// engine's reason for refusing.
func (s *seedRun) certify(ctx context.Context, budget float64) (*countersign.Certificate, string, error) {
	var out struct {
		Certificate *countersign.Certificate `json:"certificate"`
	}
	body := map[string]any{"task_type": oversightbench.TaskType, "error_budget": budget, "level": s.cfg.Level}
	err := call(ctx, s.approver, http.MethodPost, "/v1/policy/certify", body, &out)
	var apiErr *apiclient.Error
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnprocessableEntity || apiErr.Status == http.StatusConflict) {
		return nil, apiErr.Message, nil
	}
	if err != nil {
		return nil, "", err
	}
	if out.Certificate == nil || out.Certificate.ID == "" {
		return nil, "", errors.New("POST /v1/policy/certify answered without a certificate")
	}
	return out.Certificate, "", nil
}

// certifyAll calibrates, then certifies at every budget. While a
// budget's certificate is refused it reviews more documents, as the refusal
// asks, and tries that budget again, up to the configured most; it does not
// calibrate again, so that every certificate speaks for the calibration in
// force and the documents reviewed since are held out from it. It returns
// each budget's certificate (nil: none).
func (s *seedRun) certifyAll(ctx context.Context) ([]*countersign.Certificate, error) {
	s.out.Budgets = make([]BudgetRun, len(s.cfg.Budgets))
	certs := make([]*countersign.Certificate, len(s.cfg.Budgets))
	for i, b := range s.cfg.Budgets {
		s.out.Budgets[i].Budget = b
	}
	if err := s.calibrate(ctx); err != nil {
		return certs, err
	}
	for {
		missing := false
		for i, b := range s.cfg.Budgets {
			if certs[i] != nil {
				continue
			}
			cert, refusal, err := s.certify(ctx, b)
			if isNotBuilt(err) {
				s.note("%v: no certificate, every budget stays in hitl", err)
				return certs, nil
			}
			if err != nil {
				return certs, fmt.Errorf("certify at %s: %w", pct(b), err)
			}
			br := &s.out.Budgets[i]
			if cert == nil {
				missing = true
				br.Refusal = refusal
				progress("seed %d: no certificate at %s after %d reviewed: %s", s.seed, pct(b), len(s.reviewed), refusal)
				continue
			}
			certs[i], br.Certificate, br.Refusal, br.CertifiedAfter = cert, cert, "", len(s.reviewed)
			progress("seed %d: certified %s after %d reviewed: threshold %.4f, bound %.4f (%d wrong of %d accepted, review share %.3f)", s.seed, pct(b), len(s.reviewed), cert.Threshold, cert.Bound, cert.Wrong, cert.Accepted, cert.ReviewShare)
		}
		if !missing || len(s.reviewed) >= s.cfg.MaxReviewed {
			return certs, nil
		}
		if err := s.review(ctx, min(len(s.reviewed)+s.cfg.ReviewStep, s.cfg.MaxReviewed)); err != nil {
			return certs, err
		}
	}
}

// apply puts budget i's certificate in force, and reports whether it
// could.
func (s *seedRun) apply(ctx context.Context, i int, cert *countersign.Certificate) (bool, error) {
	var out struct {
		Version *countersign.PolicyVersion `json:"policy_version"`
	}
	body := map[string]any{"task_type": oversightbench.TaskType, "certificate": cert.ID}
	err := call(ctx, s.approver, http.MethodPost, "/v1/policy/apply", body, &out)
	if isNotBuilt(err) {
		s.note("%v: the certificate at %s is not applied, its documents stay in hitl", err, pct(cert.Budget))
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("apply the certificate at %s: %w", pct(s.cfg.Budgets[i]), err)
	}
	if out.Version == nil {
		return false, errors.New("POST /v1/policy/apply answered without a policy version")
	}
	s.out.Budgets[i].PolicyVersion = out.Version.ID
	progress("seed %d: applied certificate %s: policy version %s", s.seed, cert.ID, out.Version.ID)
	return true, nil
}

// SupervisionFigures is the supervisor's state after a budget's batch.
type SupervisionFigures struct {
	State string `json:"state"`
	// Tightened says the supervisor tightened the policy during the batch
	// (and the run reset it before the next budget).
	Tightened bool            `json:"tightened"`
	Estimate  json.RawMessage `json:"estimate,omitempty"`
	Override  json.RawMessage `json:"override,omitempty"`
}

// supervision reads the supervisor's state after budget i's batch, and
// lifts a tightening so that the next budget starts afresh.
func (s *seedRun) supervision(ctx context.Context, i int) error {
	var stats struct {
		Supervision struct {
			State    string          `json:"state"`
			Estimate json.RawMessage `json:"estimate"`
			Override json.RawMessage `json:"override"`
		} `json:"supervision"`
	}
	if err := call(ctx, s.approver, http.MethodGet, "/v1/stats?task_type="+url.QueryEscape(oversightbench.TaskType), nil, &stats); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	sup := stats.Supervision
	fig := &SupervisionFigures{State: sup.State, Tightened: sup.State == api.StateTightened, Estimate: sup.Estimate, Override: sup.Override}
	s.out.Budgets[i].Supervision = fig
	if fig.Tightened {
		progress("seed %d: the supervisor tightened the policy at %s: %s", s.seed, pct(s.cfg.Budgets[i]), sup.Override)
		if _, err := s.approver.ResetPolicy(ctx, oversightbench.TaskType, "oversight benchmark: the next budget starts afresh"); err != nil {
			return fmt.Errorf("policy reset: %w", err)
		}
	}
	return nil
}
