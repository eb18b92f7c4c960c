package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// TestCalibrateFromOutcomes seeds 60 reviewed contracts whose raw scores
// overstate their correctness and fits a calibration through the API.
func TestCalibrateFromOutcomes(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		raw := 0.5 + 0.5*float64(i)/60
		change := countersign.ChangeUnchanged
		if rng.Float64() > raw*raw { // truly right with probability raw²
			change = countersign.ChangeCorrected
		}
		d := &countersign.Document{
			ID: fmt.Sprintf("doc%02d", i), TaskType: "contract-review", TaskTypeVersion: "v1", Content: "x", ContentSHA256: "x",
			Status: countersign.StatusAccepted, SubmittedBy: "sam", CreatedAt: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC),
		}
		if _, _, err := s.store.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		status := countersign.StatusAccepted
		err := s.store.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{
			Status:     &status,
			Draft:      &countersign.Draft{Fields: countersign.Fields{"party_a": "Acme"}},
			Confidence: &countersign.Confidence{Overall: raw, Fields: map[string]countersign.FieldScore{"party_a": {Score: raw, Raw: raw, Required: true}}},
			Final: &countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect,
				Diff: []countersign.FieldChange{{Field: "party_a", Change: change}}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got := s.do("POST", "/v1/calibrations", s.tokens[countersign.RoleApprover], `{"task_type":"contract-review"}`)
	if got.status != 201 {
		t.Fatalf("calibrate: %d %s", got.status, got.body)
	}
	raw, _ := json.Marshal(got.body)
	var cal countersign.Calibration
	if err := json.Unmarshal(raw, &cal); err != nil {
		t.Fatal(err)
	}
	rep := cal.Report
	if cal.Version == "" || cal.CreatedBy != "user-approver" || rep.Documents != 60 || len(rep.Fields) != 1 || !rep.Fields[0].Own {
		t.Fatalf("calibration %+v", cal)
	}
	if f := rep.Fields[0]; f.ECEAfter >= f.ECEBefore {
		t.Errorf("ECE after %v is not below before %v for scores that overstate", f.ECEAfter, f.ECEBefore)
	}
	latest := s.do("GET", "/v1/calibrations/contract-review", s.tokens[countersign.RoleAuditor], "")
	if latest.status != 200 || latest.body["version"] != cal.Version {
		t.Fatalf("latest: %d %s", latest.status, latest.body)
	}
	found := false
	err := s.store.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		found = found || (e.Type == countersign.EventCalibrationFitted && e.Actor == "user-approver")
		return nil
	})
	if err != nil || !found {
		t.Errorf("no calibration.fitted event by the approver (%v)", err)
	}
}
