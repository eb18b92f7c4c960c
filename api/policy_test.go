package api_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/dispatch"
)

// reviewed stores a finished contract-review document whose every required
// field scored confidence, decided by rita: approved unchanged when right,
// corrected otherwise.
func (s *server) reviewed(i int, confidence float64, right bool) {
	s.t.Helper()
	s.reviewedAs("contract-review", fmt.Sprintf("doc-%03d", i), i, confidence, right)
}

// reviewedAs is reviewed for a document of taskType with the given ID.
func (s *server) reviewedAs(taskType, id string, i int, confidence float64, right bool) {
	s.t.Helper()
	ctx := context.Background()
	tt, err := s.types.Get(taskType)
	if err != nil {
		s.t.Fatal(err)
	}
	fields := countersign.Fields{}
	scores := map[string]countersign.FieldScore{}
	for _, name := range tt.Required {
		fields[name] = "value"
		scores[name] = countersign.FieldScore{Score: confidence, Raw: confidence, Required: true}
	}
	final := &countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove, Fields: fields}
	if !right {
		final.Action, final.Diff = countersign.ActionCorrect, []countersign.FieldChange{{Field: tt.Required[0], Change: countersign.ChangeCorrected}}
	}
	doc := &countersign.Document{
		ID: id, TaskType: tt.Name, TaskTypeVersion: tt.Version, Content: "x", ContentSHA256: "x",
		Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: time.Date(2026, 2, 1, 0, i, 0, 0, time.UTC),
	}
	if _, _, err := s.store.CreateDocument(ctx, doc); err != nil {
		s.t.Fatal(err)
	}
	status := countersign.StatusAccepted
	if err := s.store.UpdateDocument(ctx, doc.ID, countersign.DocumentUpdate{Status: &status, Draft: &countersign.Draft{Fields: fields},
		Confidence: &countersign.Confidence{Overall: confidence, Fields: scores}, Final: final}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *server) events(eventType string) []countersign.AuditEvent {
	s.t.Helper()
	var out []countersign.AuditEvent
	if err := s.store.ScanAudit(context.Background(), 0, func(e countersign.AuditEvent) error {
		if e.Type == eventType {
			out = append(out, e)
		}
		return nil
	}); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func number(t *testing.T, v any) float64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v is not a number", v)
	}
	return f
}

// TestCertifyApplySet: certify on 80 right documents (confidence 0.990 down
// to 0.911) and 5 wrong ones at 0.5, at 5% and 95%: the sequence starts at
// 61 accepted (0.930) with 0.045 of the 0.05, passes down to 0 of 80 at
// 0.911 and stops at 5 of 85 at 0.5 (its second start, at 146 accepted, is
// never reached); the certificate is stored, listed and recorded. A 0.1% budget is
// refused with the count needed. The certificate is applied, the audit rate
// and the threshold then set by hand; each is a version, recorded, and the
// policy new documents start under follows them.
func TestCertifyApplySet(t *testing.T) {
	s := newServer(t, 0)
	approver, auditor := s.tokens[countersign.RoleApprover], s.tokens[countersign.RoleAuditor]
	lowest := 0.0
	for i := range 80 {
		lowest = 0.99 - float64(i)/1000
		s.reviewed(i, lowest, true)
	}
	for i := 80; i < 85; i++ {
		s.reviewed(i, 0.5, false)
	}

	got := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05}`)
	if got.status != http.StatusCreated {
		t.Fatalf("certify: %d %v", got.status, got.body)
	}
	cert, _ := got.body["certificate"].(map[string]any)
	if cert["id"] != "contract-review/c1" || number(t, cert["threshold"]) != lowest || number(t, cert["accepted"]) != 80 || number(t, cert["wrong"]) != 0 ||
		number(t, cert["documents"]) != 85 || number(t, cert["tested"]) != 17 || cert["created_by"] != "user-approver" ||
		number(t, cert["attempt"]) != 1 || number(t, cert["tested_at"]) != 0.96 {
		t.Fatalf("certificate %v, want contract-review/c1 at %v with 0 of 80, 85 documents, 17 tested, attempt 1 at 96%%", cert, lowest)
	}
	// The first attempt runs at 0.8 of the 5%: the sequence starts at 65
	// accepted documents (0.95^65 <= 0.9·0.04), 65 to 80 pass and 85 with 5
	// wrong fails. Clopper-Pearson for 0 of 80 at 96%: 1 - 0.04^(1/80).
	if b := number(t, cert["bound"]); math.Abs(b-(1-math.Pow(0.04, 1.0/80))) > 1e-12 || math.Abs(number(t, cert["review_share"])-5.0/85) > 1e-15 {
		t.Errorf("bound %v, review share %v; want 0.039437 and 5/85", b, cert["review_share"])
	}
	test, _ := got.body["test"].(map[string]any)
	if stopped, _ := test["stopped"].(map[string]any); number(t, stopped["threshold"]) != 0.5 || number(t, stopped["wrong"]) != 5 {
		t.Errorf("stopped at %v, want 0.5 with 5 wrong", stopped)
	}
	if e := s.events(countersign.EventPolicyCertified); len(e) != 1 || e[0].Actor != "user-approver" || !strings.Contains(string(e[0].Data), `"id":"contract-review/c1"`) {
		t.Fatalf("policy.certified events %+v", e)
	}
	list := s.do("GET", "/v1/policy/certificates?task_type=contract-review", auditor, "")
	if certs, _ := list.body["certificates"].([]any); list.status != http.StatusOK || len(certs) != 1 {
		t.Fatalf("certificates as auditor: %d %v", list.status, list.body)
	}

	refused := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.001,"level":0.9}`)
	if refused.status != http.StatusUnprocessableEntity || refused.code() != "invalid" || !strings.Contains(refused.message(), "review more documents the calibration did not train on (at least 4709 accepted ones are needed by attempt 2, which runs stricter)") || refused.body["test"] == nil {
		t.Fatalf("certify at 0.1%%: %d %v", refused.status, refused.body)
	}
	// The first attempt at 0.1% runs at 0.8 of the 10%: 0.999^2630 <=
	// 0.9·0.08, 2630 clean accepted documents. More documents are for the
	// second attempt, at 0.1 of the 10%: 0.999^4709 <= 0.9·0.01. The 80
	// clean ones end where a wrong one enters: with it, 1 of 81 is over
	// 0.1%, so no count of documents going like these is projected (needed
	// -1), and the message says the few there are say little yet.
	if test, _ := refused.body["test"].(map[string]any); number(t, test["min_accepted"]) != 2630 || number(t, test["next_min_accepted"]) != 4709 ||
		number(t, test["needed"]) != -1 || number(t, test["attempt"]) != 1 {
		t.Errorf("refusal %v, want 2630 clean accepted documents needed now, 4709 at the next attempt, no projection", test)
	}
	// A second attempt at 5% on the same documents runs at 0.1 of the 5%
	// (99.5%): a clean record then needs 106 accepted documents
	// (0.95^106 <= 0.9·0.005), more than the 80 there are, so what the
	// first attempt certified, the second refuses; trying until a test
	// passes does not beat the level.
	again := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05}`)
	if test, _ := again.body["test"].(map[string]any); again.status != http.StatusUnprocessableEntity || number(t, test["attempt"]) != 2 ||
		number(t, test["tested_at"]) != 0.995 || number(t, test["min_accepted"]) != 106 || !strings.Contains(again.message(), "(attempt 2 at this budget, so tested at 99.5%") {
		t.Fatalf("second attempt at 5%%: %d %v", again.status, again.body)
	}
	if e := s.events(countersign.EventPolicyCertificationAttempted); len(e) != 3 || !strings.Contains(string(e[0].Data), `"budget":0.05`) || !strings.Contains(string(e[0].Data), `"documents":85`) {
		t.Fatalf("policy.certification_attempted events %+v, want 3 (5%%, 0.1%%, 5%%)", e)
	}
	for _, bad := range []string{`{"task_type":"contract-review","error_budget":0}`, `{"task_type":"contract-review","error_budget":0.01,"level":1}`} {
		if got := s.do("POST", "/v1/policy/certify", approver, bad); got.status != http.StatusUnprocessableEntity {
			t.Errorf("certify %s: %d %v, want 422", bad, got.status, got.body)
		}
	}
	// No budget at all is named as missing, not as a budget of 0.
	if got := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review"}`); got.status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(got.body), "error_budget is required") {
		t.Errorf("certify without a budget: %d %v, want 422 naming error_budget", got.status, got.body)
	}

	applied := s.do("POST", "/v1/policy/apply", approver, `{"task_type":"contract-review","certificate":"contract-review/c1"}`)
	if applied.status != http.StatusCreated {
		t.Fatalf("apply: %d %v", applied.status, applied.body)
	}
	policy, _ := applied.body["policy"].(map[string]any)
	version, _ := applied.body["policy_version"].(map[string]any)
	tt, _ := s.types.Get("contract-review")
	if policy["mode"] != "hotl" || number(t, policy["auto_accept_threshold"]) != lowest || policy["version"] != tt.Policy.Version+"+contract-review/v1" ||
		version["certificate"] != "contract-review/c1" || !strings.Contains(version["reason"].(string), "0 of 80") {
		t.Fatalf("applied: policy %v version %v", policy, version)
	}
	// contract-review's file audits nothing and names no supervision: what
	// the certificate promises is audited at the default rate and watched
	// at its budget and level.
	if sup, _ := policy["supervision"].(map[string]any); number(t, policy["audit_sample_rate"]) != api.DefaultAuditRate || sup == nil ||
		number(t, sup["error_budget"]) != 0.05 || number(t, sup["level"]) != 0.95 || sup["bound"] != countersign.BoundConfidenceSequence {
		t.Fatalf("applied policy audits %v with supervision %v; want the default rate and the certificate's budget and level", policy["audit_sample_rate"], policy["supervision"])
	}

	set := s.do("POST", "/v1/policy/set", approver, `{"task_type":"contract-review","audit_sample_rate":0.1,"reason":"audits"}`)
	version, _ = set.body["policy_version"].(map[string]any)
	policy, _ = set.body["policy"].(map[string]any)
	if set.status != http.StatusCreated || version["id"] != "contract-review/v2" || version["previous"] != "contract-review/v1" || version["certificate"] != "contract-review/c1" ||
		number(t, policy["auto_accept_threshold"]) != lowest || number(t, policy["audit_sample_rate"]) != 0.1 {
		t.Fatalf("set audit rate: %d %v", set.status, set.body)
	}
	set = s.do("POST", "/v1/policy/set", approver, `{"task_type":"contract-review","threshold":0.9995,"reason":"stricter for March"}`)
	version, _ = set.body["policy_version"].(map[string]any)
	if set.status != http.StatusCreated || version["id"] != "contract-review/v3" || version["certificate"] != nil || number(t, version["threshold"]) != 0.9995 || number(t, version["audit_sample_rate"]) != 0.1 {
		t.Fatalf("set threshold: %d %v", set.status, set.body)
	}
	inForce, err := dispatch.PolicyInForce(context.Background(), s.store, tt)
	if err != nil || inForce.Policy.Version != tt.Policy.Version+"+contract-review/v3" || inForce.Policy.AutoAcceptThreshold != 0.9995 || inForce.Policy.Mode != countersign.ModeHOTL {
		t.Fatalf("in force: %+v, %v", inForce, err)
	}
	if e := s.events(countersign.EventPolicyApplied); len(e) != 1 || e[0].ID != "policy/contract-review/v1" {
		t.Errorf("policy.applied events %+v", e)
	}
	if e := s.events(countersign.EventPolicySet); len(e) != 2 || !strings.Contains(string(e[1].Data), `"reason":"stricter for March"`) {
		t.Errorf("policy.set events %+v", e)
	}
	versions := s.do("GET", "/v1/policy/versions?task_type=contract-review", auditor, "")
	if list, _ := versions.body["versions"].([]any); versions.status != http.StatusOK || len(list) != 3 || list[0].(map[string]any)["id"] != "contract-review/v3" {
		t.Fatalf("versions: %d %v", versions.status, versions.body)
	}

	for body, want := range map[string]string{
		`{"task_type":"contract-review","reason":"x"}`:                                  "nothing to set",
		`{"task_type":"contract-review","threshold":1.5,"reason":"x"}`:                  "threshold must be",
		`{"task_type":"contract-review","mode":"auto","reason":"x"}`:                    "unknown mode",
		`{"task_type":"contract-review","mode":"hitl"}`:                                 "reason is required",
		`{"task_type":"contract-review","audit_sample_rate":-0.1,"reason":"x"}`:         "audit sample rate must be",
		`{"task_type":"contract-review","certificate":"contract-review/c1","reason":1}`: "",
	} {
		got := s.do("POST", "/v1/policy/set", approver, body)
		if want == "" {
			if got.status != http.StatusBadRequest {
				t.Errorf("set %s: %d, want 400", body, got.status)
			}
			continue
		}
		if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.message(), want) {
			t.Errorf("set %s: %d %q, want 422 saying %q", body, got.status, got.message(), want)
		}
	}

	// Routing now uses another calibration: the certificate speaks for the
	// uncalibrated confidence only.
	if err := s.store.PutCalibration(context.Background(), &countersign.Calibration{TaskType: "contract-review", Version: "cal-2", Active: true, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	stale := s.do("POST", "/v1/policy/apply", approver, `{"task_type":"contract-review","certificate":"contract-review/c1"}`)
	if stale.status != http.StatusConflict || !strings.Contains(stale.message(), "now uses calibration cal-2: certify again") {
		t.Fatalf("apply under another calibration: %d %q", stale.status, stale.message())
	}
	if got := s.do("POST", "/v1/policy/apply", approver, `{"task_type":"contract-review","certificate":"contract-review/c9"}`); got.status != http.StatusNotFound {
		t.Errorf("apply an unknown certificate: %d, want 404", got.status)
	}
}

// TestBatchCertificate: 400 right documents (confidence 0.999 down to
// 0.9591) and 10 wrong ones at 0.5, certified at 5% over each next 400
// accepted documents. Half the 5% risk covers the batch's chance: 400
// documents keep 20 wrong with probability 97.5% at a rate up to 3.27884%
// (BatchRate). The other half, at 0.8 of it for a first attempt (98%),
// certifies the rate within that: the sequence passes down to 0 of 400 and
// stops at 10 of 410. The certificate names its horizon and rate; a
// certificate of another horizon, or of the rate, at the same budget is the
// next attempt at it; applying it supervises the task type at that rate.
func TestBatchCertificate(t *testing.T) {
	s := newServer(t, 0)
	approver := s.tokens[countersign.RoleApprover]
	lowest := 0.0
	for i := range 400 {
		lowest = 0.999 - float64(i)/10000
		s.reviewed(i, lowest, true)
	}
	for i := 400; i < 410; i++ {
		s.reviewed(i, 0.5, false)
	}
	got := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05,"horizon":400}`)
	if got.status != http.StatusCreated {
		t.Fatalf("certify: %d %v", got.status, got.body)
	}
	cert, _ := got.body["certificate"].(map[string]any)
	if number(t, cert["horizon"]) != 400 || math.Abs(number(t, cert["rate_budget"])-0.032788425) > 2e-9 || number(t, cert["budget"]) != 0.05 ||
		number(t, cert["level"]) != 0.95 || number(t, cert["threshold"]) != lowest || number(t, cert["accepted"]) != 400 || number(t, cert["wrong"]) != 0 ||
		number(t, cert["attempt"]) != 1 || number(t, cert["tested_at"]) != 0.98 {
		t.Fatalf("certificate %v; want 5%% of each next 400 at 95%%, rate within 3.279%%, 0 of 400 at %v, tested at 98%%", cert, lowest)
	}
	// Clopper-Pearson for 0 of 400 at 98%: 1 - 0.02^(1/400).
	if b := number(t, cert["bound"]); math.Abs(b-(1-math.Pow(0.02, 1.0/400))) > 1e-12 {
		t.Errorf("bound %v, want %v", b, 1-math.Pow(0.02, 1.0/400))
	}
	if e := s.events(countersign.EventPolicyCertificationAttempted); len(e) != 1 || !strings.Contains(string(e[0].Data), `"horizon":400`) {
		t.Fatalf("policy.certification_attempted events %+v, want one naming the horizon", e)
	}
	// Another horizon, or none, at the same budget is the next attempt:
	// otherwise horizons of 400, 401, ... would each test nearly the same
	// rate at a fresh share of the level.
	other := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05,"horizon":401}`)
	if c, _ := other.body["certificate"].(map[string]any); other.status != http.StatusCreated || number(t, c["attempt"]) != 2 || number(t, c["horizon"]) != 401 {
		t.Fatalf("certify over 401 after 400: %d %v", other.status, other.body)
	}
	rate := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05}`)
	if c, _ := rate.body["certificate"].(map[string]any); rate.status != http.StatusCreated || number(t, c["attempt"]) != 3 || c["horizon"] != nil {
		t.Fatalf("certify the rate after two batches: %d %v", rate.status, rate.body)
	}
	// Another level is another count: attempts at 95% spent 95%'s share.
	stricter := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05,"horizon":400,"level":0.99}`)
	if test, _ := stricter.body["test"].(map[string]any); test == nil || number(t, test["attempt"]) != 1 {
		t.Fatalf("a first attempt at 99%% after three at 95%%: %d %v", stricter.status, stricter.body)
	}
	if bad := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05,"horizon":-5}`); bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.message(), "horizon must be") {
		t.Errorf("a negative horizon: %d %q", bad.status, bad.message())
	}
	for _, h := range []string{"1.5", "4e2", "9223372036854775808"} {
		bad := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05,"horizon":`+h+`}`)
		if bad.status != http.StatusBadRequest || !strings.Contains(bad.message(), `field "horizon" must be a whole number`) || !strings.Contains(bad.message(), "not "+h) {
			t.Errorf("horizon %s: %d %q", h, bad.status, bad.message())
		}
	}
	applied := s.do("POST", "/v1/policy/apply", approver, `{"task_type":"contract-review","certificate":"contract-review/c1"}`)
	policy, _ := applied.body["policy"].(map[string]any)
	version, _ := applied.body["policy_version"].(map[string]any)
	if sup, _ := policy["supervision"].(map[string]any); applied.status != http.StatusCreated || sup == nil || math.Abs(number(t, sup["error_budget"])-0.032788425) > 2e-9 ||
		!strings.Contains(version["reason"].(string), "at most 20 of each next 400 accepted documents (a budget of 0.05) are wrong") {
		t.Fatalf("applied: %d policy %v version %v; want supervision at the certified rate", applied.status, policy, version)
	}
	// pii-extraction is supervised at 5% by its file (Wilson bound): a
	// batch certificate keeps that supervision, at the stricter rate.
	for i := range 400 {
		s.reviewedAs("pii-extraction", fmt.Sprintf("pii-%03d", i), i, 0.999-float64(i)/10000, true)
	}
	if got := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"pii-extraction","error_budget":0.05,"horizon":400}`); got.status != http.StatusCreated {
		t.Fatalf("certify pii-extraction: %d %v", got.status, got.body)
	}
	applied = s.do("POST", "/v1/policy/apply", approver, `{"task_type":"pii-extraction","certificate":"pii-extraction/c1"}`)
	policy, _ = applied.body["policy"].(map[string]any)
	if sup, _ := policy["supervision"].(map[string]any); applied.status != http.StatusCreated || sup == nil || math.Abs(number(t, sup["error_budget"])-0.032788425) > 2e-9 ||
		sup["bound"] != "wilson" || number(t, sup["level"]) != 0.95 {
		t.Fatalf("applied to pii-extraction: %d supervision %v; want its own, at the certified rate", applied.status, policy["supervision"])
	}
}

// TestSetHotlNeedsThreshold: contract-review is hitl in its file, which
// sets no threshold: switching it to hotl by hand needs one.
func TestSetHotlNeedsThreshold(t *testing.T) {
	s := newServer(t, 0)
	approver := s.tokens[countersign.RoleApprover]
	got := s.do("POST", "/v1/policy/set", approver, `{"task_type":"contract-review","mode":"hotl","reason":"x"}`)
	if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.message(), "sets no threshold") {
		t.Fatalf("hotl without a threshold: %d %q", got.status, got.message())
	}
	got = s.do("POST", "/v1/policy/set", approver, `{"task_type":"contract-review","mode":"hotl","threshold":0.97,"reason":"x"}`)
	if got.status != http.StatusCreated {
		t.Fatalf("hotl with a threshold: %d %v", got.status, got.body)
	}
}

// TestCertifyWaitsForReviewsDue: 10 reviewed documents count, 20 more were
// decided but their reviews are not due yet. More of the evidence is still
// to come due than counts, so certify refuses without testing: no attempt
// is recorded, and the answer says when the last is due.
func TestCertifyWaitsForReviewsDue(t *testing.T) {
	s := newServer(t, 0)
	approver := s.tokens[countersign.RoleApprover]
	due := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	for i := range 30 {
		s.reviewed(i, 0.99-float64(i)/1000, true)
		if i >= 10 {
			id := fmt.Sprintf("doc-%03d", i)
			r := &countersign.Review{ID: countersign.ReviewID(id, 1), DocumentID: id, TaskType: "contract-review", Status: countersign.ReviewPending,
				CreatedAt: due.Add(-24 * time.Hour), DueAt: due, Confidence: 0.9}
			if err := s.store.OpenReview(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := s.do("POST", "/v1/policy/certify", approver, `{"task_type":"contract-review","error_budget":0.05}`)
	msg := fmt.Sprint(got.body)
	if got.status != http.StatusUnprocessableEntity || !strings.Contains(msg, "20 reviewed or audited documents are left out until their review or audit is due") ||
		!strings.Contains(msg, "more than the 10 that count now") || !strings.Contains(msg, "the last at "+due.Format(time.RFC3339)) || !strings.Contains(msg, "not counted as an attempt") {
		t.Fatalf("certify with most reviews not due: %d %v", got.status, got.body)
	}
	if e := s.events(countersign.EventPolicyCertificationAttempted); len(e) != 0 {
		t.Errorf("%d certification attempts recorded, want none", len(e))
	}
}
