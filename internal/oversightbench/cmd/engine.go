package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/api/wire"
	"github.com/countersign/countersign/internal/certify"
	"github.com/countersign/countersign/internal/oversightbench"
)

// The steps of the story that call the engine's calibration, certification
// and policy endpoints, as an approver does with the CLI. An endpoint the
// engine under test does not have (a 404 naming no such endpoint) is
// reported and the run goes on without it: documents then stay in hitl.

// notBuilt reports whether err is the API's answer to a route it does not
// have.
func notBuilt(err error) bool {
	var e *apiclient.Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound && strings.HasPrefix(e.Message, "no such endpoint")
}

// refused returns the engine's reason when err is a refusal (422 or 409).
func refused(err error) (string, bool) {
	var e *apiclient.Error
	if errors.As(err, &e) && (e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusConflict) {
		return e.Message, true
	}
	return "", false
}

// refusalNeeds is how many more reviewed documents a refused
// certification says its next attempt needs: certify.WaitFor of its test;
// 0 when the answer holds no test.
func refusalNeeds(err error) int {
	test := refusalTest(err)
	if test == nil {
		return 0
	}
	return test.WaitFor()
}

// CalibrationRun is one `calibrate`: the version it stored and whether it
// became active.
type CalibrationRun struct {
	Reviewed int    `json:"reviewed"`
	Version  string `json:"version,omitempty"`
	Active   bool   `json:"active"`
	Inactive string `json:"inactive,omitempty"`
	Refused  string `json:"refused,omitempty"`
}

// calibrate fits a calibration on the reviewed documents, with the run's
// seed drawing its training split and folds, so that a run repeats.
func (s *seedRun) calibrate(ctx context.Context) error {
	seed := int64(s.seed)
	run := CalibrationRun{Reviewed: len(s.reviewed)}
	c, err := s.approver.Calibrate(ctx, api.CalibrateRequest{TaskType: oversightbench.TaskType, Seed: &seed})
	if reason, ok := refused(err); ok {
		run.Refused = reason
		progress("seed %d: calibrate refused after %d reviewed: %s", s.seed, run.Reviewed, reason)
		s.out.Calibrations = append(s.out.Calibrations, run)
		return nil
	}
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	run.Version, run.Active, run.Inactive = c.Version, c.Active, c.Inactive
	state := "active"
	if !c.Active {
		state = "inactive: " + c.Inactive
	}
	progress("seed %d: calibrated on %d reviewed documents: %s (%s)", s.seed, run.Reviewed, c.Version, state)
	s.out.Calibrations = append(s.out.Calibrations, run)
	return nil
}

// certifyAll calibrates, then certifies at every budget. While a
// budget's certificate is refused it reviews more documents, as the refusal
// asks, and tries that budget again, up to the configured most. As a
// careful approver would, it tries a budget again only once as many more
// documents were reviewed as the refusal said the next attempt needs (at
// least the review step): every attempt spends some of the level
// (certify.AttemptShare), so trying after every step would spend it on
// attempts that cannot pass. It does not
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
	// next is, per budget, how many reviewed documents its next attempt
	// waits for.
	next := make([]int, len(s.cfg.Budgets))
	// due says whether budget i is tried in this round: not certified yet,
	// and as many documents reviewed as its refusal said, or all there are.
	due := func(i int) bool {
		return certs[i] == nil && (len(s.reviewed) >= next[i] || len(s.reviewed) >= s.cfg.MaxReviewed)
	}
	for {
		// Wait for the reviews to be due only when a budget is to be
		// tried in this round.
		tried := false
		for i := range s.cfg.Budgets {
			tried = tried || due(i)
		}
		if tried {
			if err := s.waitDue(ctx, s.reviewedAt, "reviews"); err != nil {
				return certs, err
			}
		}
		missing := false
		for i, b := range s.cfg.Budgets {
			if certs[i] != nil {
				continue
			}
			if !due(i) {
				missing = true
				continue
			}
			resp, err := s.certify(ctx, b)
			if notBuilt(err) {
				s.note("%v: no certificate, every budget stays in hitl", err)
				return certs, nil
			}
			br := &s.out.Budgets[i]
			if reason, ok := refused(err); ok {
				missing = true
				br.Refusal = reason
				br.Attempts++
				// More documents alone will not do (-1): only at the
				// most, once, as the run's last look.
				wait := refusalNeeds(err)
				if wait < 0 {
					wait = s.cfg.MaxReviewed
				}
				next[i] = len(s.reviewed) + max(s.cfg.ReviewStep, wait)
				progress("seed %d: no certificate at %s after %d reviewed: %s", s.seed, pct(b), len(s.reviewed), reason)
				continue
			}
			if err != nil {
				return certs, fmt.Errorf("certify at %s: %w", pct(b), err)
			}
			cert := resp.Certificate
			if cert == nil {
				return certs, fmt.Errorf("certify at %s: the answer has no certificate", pct(b))
			}
			br.Attempts++
			certs[i], br.Certificate, br.Refusal, br.CertifiedAfter = cert, cert, "", len(s.reviewed)
			if resp.Test != nil {
				br.Tested = resp.Test.Documents
			}
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

// apply puts a certificate of budget i in force, and returns the policy
// version that does; "" when it could not.
func (s *seedRun) apply(ctx context.Context, i int, cert *countersign.Certificate) (string, error) {
	resp, err := s.approver.ApplyCertificate(ctx, api.PolicyApplyRequest{TaskType: oversightbench.TaskType, Certificate: cert.ID})
	if notBuilt(err) {
		s.note("%v: the certificate at %s is not applied, its documents stay in hitl", err, pct(cert.Budget))
		return "", nil
	}
	if reason, ok := refused(err); ok {
		s.note("the certificate at %s was refused: %s; its documents stay in hitl", pct(cert.Budget), reason)
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("apply the certificate at %s: %w", pct(s.cfg.Budgets[i]), err)
	}
	if resp.PolicyVersion == nil {
		return "", errors.New("policy apply answered without a policy version")
	}
	progress("seed %d: applied certificate %s: policy version %s", s.seed, cert.ID, resp.PolicyVersion.ID)
	return resp.PolicyVersion.ID, nil
}

// SupervisionFigures is the supervisor's state after a budget's batch.
type SupervisionFigures struct {
	State string `json:"state"`
	// Tightened says the supervisor tightened the policy during the batch
	// (and the run reset it before the next budget).
	Tightened bool            `json:"tightened"`
	Estimate  json.RawMessage `json:"estimate,omitempty"`
	Basis     json.RawMessage `json:"basis,omitempty"`
	Override  json.RawMessage `json:"override,omitempty"`
	// Ignored counts the audits the supervisor passed (of another policy
	// version, or counted before); Overdue those it counted as escaped for
	// want of a verdict in time (an audit the oracle cannot decide, of a
	// document that should have been rejected, stays open).
	Ignored int `json:"ignored_reports,omitempty"`
	Overdue int `json:"overdue_audits,omitempty"`
}

// label is the supervisor's state, with the audits it counted for want
// of a verdict.
func (f *SupervisionFigures) label() string {
	if f == nil {
		return "—"
	}
	if f.Overdue > 0 {
		return fmt.Sprintf("%s, %d overdue", f.State, f.Overdue)
	}
	return f.State
}

// supervision reads the supervisor's state after a batch at budget b,
// and lifts a tightening so that what follows starts afresh.
func (s *seedRun) supervision(ctx context.Context, b float64) (*SupervisionFigures, error) {
	stats, err := s.approver.Stats(ctx, oversightbench.TaskType)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	sup := stats.Supervision
	fig := &SupervisionFigures{State: sup.State, Tightened: sup.State == api.StateTightened, Ignored: sup.IgnoredReports, Overdue: sup.Overdue}
	fig.Estimate, _ = json.Marshal(sup.Estimate)
	fig.Basis, _ = json.Marshal(sup.Basis)
	fig.Override, _ = json.Marshal(sup.Override)
	if sup.State == api.StateUnsupervised && !s.unsupervisedNoted {
		s.unsupervisedNoted = true
		s.note("no supervisor watches the applied certificate: the policy in force names no supervision")
	}
	if fig.Tightened {
		progress("seed %d: the supervisor tightened the policy at %s: %s", s.seed, pct(b), fig.Override)
		if _, err := s.approver.ResetPolicy(ctx, oversightbench.TaskType, "oversight benchmark: what follows starts afresh"); err != nil {
			return nil, fmt.Errorf("policy reset: %w", err)
		}
	}
	return fig, nil
}

// Recertification is a budget's second look: documents run in hotl under
// its first certificate, a certification on the held-out reviewed
// documents and the uniform sample of the period in hotl, and a new batch
// under the laxer of the two certificates.
type Recertification struct {
	// InHOTL counts the documents run in hotl at this budget before the
	// certification, the first batch's included; Period is what happened
	// to those run after the first batch.
	InHOTL int           `json:"in_hotl"`
	Period *BatchFigures `json:"period"`
	// PeriodSupervision is the supervisor's state after the period (a
	// tightening is lifted before the certification).
	PeriodSupervision *SupervisionFigures `json:"period_supervision,omitempty"`
	// Attempt is which attempt at the budget the certification was.
	Attempt int `json:"attempt,omitempty"`
	// Certificate is the new certificate, Refusal the reason there is
	// none; Test is the engine's test either way (the documents it took,
	// those it left out of the sample, the audits not due).
	Certificate *countersign.Certificate `json:"certificate,omitempty"`
	Refusal     string                   `json:"refusal,omitempty"`
	Test        *certify.Result          `json:"test,omitempty"`
	// Laxer says the new certificate's threshold is below the first's;
	// Applied that it was put in force, as it is when laxer (the first,
	// which still holds, stays otherwise).
	Laxer         bool   `json:"laxer"`
	Applied       bool   `json:"applied"`
	PolicyVersion string `json:"policy_version,omitempty"`
	// Threshold is the threshold in force for Batch.
	Threshold   float64             `json:"threshold"`
	Batch       *BatchFigures       `json:"batch,omitempty"`
	Supervision *SupervisionFigures `json:"supervision,omitempty"`
}

// reviewsDue is how long after it opens a review or an audit is due: the
// bench's task type's review_due. A certification counts a reviewed or
// audited document only once its review is due (certify.Collect), so the
// run waits that long after the last review, or the period in hotl,
// before it certifies.
const reviewsDue = time.Minute

// waitDue waits until the reviews opened by since are due, and a little
// more.
func (s *seedRun) waitDue(ctx context.Context, since time.Time, what string) error {
	wait := time.Until(since.Add(reviewsDue + 5*time.Second))
	if wait <= 0 {
		return nil
	}
	progress("seed %d: waiting %s for the %s to be due", s.seed, wait.Round(time.Second), what)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}

// recertify is what an approver does once audits have accumulated under
// budget i's certificate: run cfg.Recertify more documents in hotl, wait
// until their audits are due, certify again (one more attempt at the
// budget, on the held-out reviewed documents and the uniform sample of
// the periods in hotl), put the new certificate in force when its
// threshold is laxer, and measure a new batch of cfg.Heldout documents.
func (s *seedRun) recertify(ctx context.Context, i int, first *countersign.Certificate) error {
	b := s.cfg.Budgets[i]
	br := &s.out.Budgets[i]
	docs, err := s.batch(ctx, fmt.Sprintf("in hotl at %s before certifying again", pct(b)), s.notices(heldoutBase*(i+11), s.cfg.Recertify))
	if err != nil {
		return err
	}
	rc := &Recertification{InHOTL: br.Batch.Documents + len(docs), Period: batchFigures(docs, b, countersign.ModeHOTL), Threshold: first.Threshold}
	br.Recertification = rc
	if rc.PeriodSupervision, err = s.supervision(ctx, b); err != nil {
		return err
	}
	if err := s.waitDue(ctx, time.Now(), "audits"); err != nil {
		return err
	}
	resp, err := s.certify(ctx, b)
	if reason, ok := refused(err); ok {
		rc.Refusal, rc.Test = reason, refusalTest(err)
		progress("seed %d: no new certificate at %s after %d documents in hotl: %s", s.seed, pct(b), rc.InHOTL, reason)
	} else if err != nil {
		return fmt.Errorf("certify again at %s: %w", pct(b), err)
	} else {
		rc.Certificate, rc.Test = resp.Certificate, resp.Test
		c := resp.Certificate
		progress("seed %d: certified %s again after %d documents in hotl: threshold %.4f (in force %.4f), bound %.4f (%d wrong of %d accepted)", s.seed, pct(b), rc.InHOTL, c.Threshold, first.Threshold, c.Bound, c.Wrong, c.Accepted)
		if rc.Laxer = c.Threshold < first.Threshold; rc.Laxer {
			if rc.PolicyVersion, err = s.apply(ctx, i, c); err != nil {
				return err
			}
			if rc.Applied = rc.PolicyVersion != ""; rc.Applied {
				rc.Threshold = c.Threshold
			}
		}
	}
	if t := rc.Test; t != nil {
		rc.Attempt = t.Attempt
		if t.PendingAudits > 0 || t.NoVerdict > 0 {
			s.note("certifying again at %s left out %d audits not due yet and counted %d documents without a verdict as wrong", pct(b), t.PendingAudits, t.NoVerdict)
		}
	}
	docs, err = s.batch(ctx, fmt.Sprintf("held-out at %s after certifying again (hotl, threshold %.4f)", pct(b), rc.Threshold), s.notices(heldoutBase*(i+21), s.cfg.Heldout))
	if err != nil {
		return err
	}
	rc.Batch = batchFigures(docs, b, countersign.ModeHOTL)
	rc.Supervision, err = s.supervision(ctx, b)
	return err
}

// refusalTest is the test a refused certification answered with; nil
// when the answer holds none.
func refusalTest(err error) *certify.Result {
	var e *apiclient.Error
	if !errors.As(err, &e) {
		return nil
	}
	var body api.CertifyRefusal
	if json.Unmarshal(e.Body, &body) != nil {
		return nil
	}
	return body.Test
}

// certify asks for a certificate at budget b, at the level and horizon
// configured.
func (s *seedRun) certify(ctx context.Context, b float64) (*wire.CertifyResponse, error) {
	level := s.cfg.Level
	return s.approver.CertifyWith(ctx, wire.CertifyRequest{TaskType: oversightbench.TaskType, ErrorBudget: b, Level: &level, Horizon: s.cfg.Horizon})
}
