package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
)

// reviewedContracts stores n contracts a person reviewed, whose drafts
// follow a known relation: a field is right with probability
// σ(−1 + 1.5·logit(token_prob)), so the model's token probability (high for
// most values, wrong ones too) overstates it; agreement says nothing. The
// raw score is the mean of the signals and the document's uncalibrated
// confidence its weakest required field.
func reviewedContracts(t *testing.T, s *server, n int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	fields := []string{"effective_date", "governing_law", "party_a", "party_b"}
	for i := range n {
		d := &countersign.Document{
			ID: fmt.Sprintf("doc%03d", i), TaskType: "contract-review", TaskTypeVersion: "v1", Content: "x", ContentSHA256: "x",
			Status: countersign.StatusAccepted, SubmittedBy: "sam", CreatedAt: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC),
		}
		if _, _, err := s.store.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		draft := &countersign.Draft{Fields: countersign.Fields{}}
		conf := &countersign.Confidence{Fields: map[string]countersign.FieldScore{}}
		final := &countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove}
		for _, name := range fields {
			tp := 1 - 0.6*math.Pow(rng.Float64(), 2)
			agreement := float64(3+rng.IntN(3)) / 5
			signals := map[string]float64{"schema": 1, "grounding": 1, "token_prob": tp, "agreement": agreement}
			raw := math.Round((2+tp+agreement)/4*1e4) / 1e4
			draft.Fields[name] = "value"
			conf.Fields[name] = countersign.FieldScore{Score: raw, Raw: raw, Signals: signals, Required: true}
			change := countersign.ChangeUnchanged
			if rng.Float64() > countersign.Sigmoid(-1+1.5*countersign.Logit(tp)) {
				change, final.Action = countersign.ChangeCorrected, countersign.ActionCorrect
			}
			final.Diff = append(final.Diff, countersign.FieldChange{Field: name, Change: change})
		}
		conf.Overall, conf.Weakest = 1, ""
		for _, name := range fields {
			if fs := conf.Fields[name]; fs.Score < conf.Overall {
				conf.Overall, conf.Weakest = fs.Score, name
			}
		}
		status := countersign.StatusAccepted
		if err := s.store.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: draft, Confidence: conf, Final: final}); err != nil {
			t.Fatal(err)
		}
	}
}

func calibrate(t *testing.T, s *server, body string) (int, *countersign.Calibration, map[string]any) {
	t.Helper()
	got := s.do("POST", "/v1/calibrations", s.tokens[countersign.RoleApprover], body)
	raw, _ := json.Marshal(got.body)
	var cal countersign.Calibration
	if err := json.Unmarshal(raw, &cal); err != nil {
		t.Fatal(err)
	}
	return got.status, &cal, got.body
}

// TestCalibrateFromOutcomes learns a calibration from 300 reviewed
// contracts in the real store through the API, and checks that the
// document confidence it gives ranks the documents better than the weakest
// field's raw score did, that the same seed gives the same figures, and
// that a calibration no better than the active one is stored inactive with
// the reason while routing keeps the active one.
func TestCalibrateFromOutcomes(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	reviewedContracts(t, s, 300)

	status, cal, body := calibrate(t, s, `{"task_type":"contract-review","seed":11}`)
	if status != 201 {
		t.Fatalf("calibrate: %d %v", status, body)
	}
	rep, doc := cal.Report, cal.Report.Document
	if cal.Version == "" || cal.CreatedBy != "user-approver" || cal.Model == nil || cal.Seed != 11 || cal.Holdout != 0.5 ||
		rep.Documents+rep.HeldOut != 300 || len(rep.Fields) != 4 || doc == nil {
		t.Fatalf("calibration %+v", cal)
	}
	t.Logf("%d documents (%d held out): document AUC %.3f → %.3f, ECE %.3f → %.3f, Brier %.4f → %.4f",
		rep.Documents, rep.HeldOut, doc.AUCBefore, doc.AUCAfter, doc.ECEBefore, doc.ECEAfter, doc.BrierBefore, doc.BrierAfter)
	if doc.AUCAfter <= doc.AUCBefore || doc.ECEAfter >= doc.ECEBefore || doc.BrierAfter >= doc.BrierBefore {
		t.Errorf("document figures %+v: the calibration should rank and calibrate better than the weakest raw field", doc)
	}
	if !cal.Active || cal.Inactive != "" {
		t.Errorf("active %v (%q): with none active, it beats the uncalibrated confidence", cal.Active, cal.Inactive)
	}
	if body["active"] != true {
		t.Errorf("answer's active = %v", body["active"])
	}
	active, err := calibration.Active(ctx, s.store, "contract-review")
	if err != nil || active.Version != cal.Version {
		t.Fatalf("active calibration %v, %v; want %s", active, err, cal.Version)
	}

	// The same seed again: the same model and figures, compared now with
	// the active calibration on all the documents (it trained on every one,
	// so none is out of sample for both), where it is no better: it is
	// stored inactive and says why.
	status, again, body := calibrate(t, s, `{"task_type":"contract-review","seed":11}`)
	if status != 201 {
		t.Fatalf("calibrate again: %d %v", status, body)
	}
	compared := *again.Report.Document
	again.Report.Document.Baseline, again.Report.Document.BaselineBrier = doc.Baseline, doc.BaselineBrier
	again.Report.Document.Compared, again.Report.Document.ComparedBrier = doc.Compared, doc.ComparedBrier
	first, _ := json.Marshal([]any{cal.Model, rep.Fields, rep.Pooled, rep.Signals, doc})
	second, _ := json.Marshal([]any{again.Model, again.Report.Fields, again.Report.Pooled, again.Report.Signals, again.Report.Document})
	if string(first) != string(second) {
		t.Errorf("the same seed gave other figures:\n%s\n%s", first, second)
	}
	if again.Active || !strings.Contains(again.Inactive, "active calibration "+cal.Version) || body["inactive"] != again.Inactive ||
		compared.Compared != compared.Documents || compared.Baseline != cal.Version {
		t.Errorf("second calibration: active %v, reason %q", again.Active, again.Inactive)
	}
	if active, err := calibration.Active(ctx, s.store, "contract-review"); err != nil || active.Version != cal.Version {
		t.Errorf("routing's calibration is now %v (%v), want still %s", active, err, cal.Version)
	}
	latest := s.do("GET", "/v1/calibrations/contract-review", s.tokens[countersign.RoleAuditor], "")
	if latest.status != 200 || latest.body["version"] != again.Version || latest.body["active"] != false {
		t.Fatalf("latest: %d %v", latest.status, latest.body)
	}

	var events []map[string]any
	err = s.store.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		if e.Type == countersign.EventCalibrationFitted && e.Actor == "user-approver" {
			var data map[string]any
			if err := json.Unmarshal(e.Data, &data); err != nil {
				return err
			}
			events = append(events, data)
		}
		return nil
	})
	if err != nil || len(events) != 2 || events[0]["active"] != true || events[1]["active"] != false || events[1]["inactive"] != again.Inactive || events[0]["seed"] != 11.0 {
		t.Errorf("calibration.fitted events %v (%v)", events, err)
	}

	// Without a seed, a random one, recorded; a holdout out of range is refused.
	if status, cal, _ := calibrate(t, s, `{"task_type":"contract-review","holdout":0.3}`); status != 201 || cal.Seed == 0 || cal.Holdout != 0.3 {
		t.Errorf("random seed: %d, seed %d, holdout %v", status, cal.Seed, cal.Holdout)
	}
	if status, _, body := calibrate(t, s, `{"task_type":"contract-review","holdout":0.95}`); status != 422 || !strings.Contains(fmt.Sprint(body), "holdout must be a share") {
		t.Errorf("holdout 0.95: %d %v", status, body)
	}
}
