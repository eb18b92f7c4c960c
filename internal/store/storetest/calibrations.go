package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

func newCalibration(taskType, version string, created time.Time) *countersign.Calibration {
	return &countersign.Calibration{
		TaskType: taskType,
		Version:  version,
		Fields: map[string]countersign.Curve{
			"party_a": {X: []float64{0.1, 0.30000000000000004, 0.9}, Y: []float64{1e-7, 0.5, 0.97}},
		},
		Pooled:    countersign.Curve{X: []float64{0, 1}, Y: []float64{0.2, 0.8}},
		CreatedAt: created,
		CreatedBy: "calibrate",
		Active:    true,
		Report: countersign.CalibrationReport{
			Documents:        42,
			TaskTypeVersions: []string{"abc123"},
			Fields:           []countersign.FieldReliability{{Field: "party_a", Samples: 42, Accuracy: 0.9, ECEBefore: 0.12, ECEAfter: 0.03, Own: true}},
			Pooled:           countersign.FieldReliability{Field: "*", Samples: 42, Accuracy: 0.9, ECEBefore: 0.1, ECEAfter: 0.04},
		},
	}
}

func testCalibrations(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	if _, err := s.LatestCalibration(ctx, "contract-review"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("LatestCalibration before any = %v, want not found", err)
	}
	latest := func(taskType string) *countersign.Calibration {
		t.Helper()
		c, err := s.LatestCalibration(ctx, taskType)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	put := func(c *countersign.Calibration) {
		t.Helper()
		if err := s.PutCalibration(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	v1 := newCalibration("contract-review", "v1", t0.Add(500*time.Nanosecond))
	put(v1)
	want := *v1
	want.CreatedAt = t0 // kept to the microsecond, as every stored time
	if got := latest("contract-review"); !reflect.DeepEqual(got, &want) {
		t.Fatalf("LatestCalibration = %+v, want %+v", got, &want)
	}

	// Storing a known version again changes nothing, even with other content.
	again := newCalibration("contract-review", "v1", t0.Add(24*time.Hour))
	again.CreatedBy = "mallory"
	put(again)
	if got := latest("contract-review"); got.CreatedBy != "calibrate" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("storing v1 again replaced it: %+v", got)
	}

	// The newest by creation time wins; of two created at the same time, the
	// one stored last. Storing an older one later does not make it the latest.
	put(newCalibration("contract-review", "v2", t0.Add(time.Hour)))
	put(newCalibration("contract-review", "v3", t0.Add(time.Hour)))
	put(newCalibration("contract-review", "v0", t0.Add(-time.Hour)))
	if got := latest("contract-review"); got.Version != "v3" {
		t.Fatalf("latest calibration = %s, want v3", got.Version)
	}

	// Task types keep their own calibrations, even under the same version.
	put(newCalibration("pii-extraction", "v1", t0.Add(48*time.Hour)))
	if got := latest("pii-extraction"); got.TaskType != "pii-extraction" || got.Version != "v1" {
		t.Fatalf("latest pii-extraction calibration = %s@%s", got.TaskType, got.Version)
	}
	if got := latest("contract-review"); got.Version != "v3" {
		t.Fatalf("another task type's calibration changed the latest: %s", got.Version)
	}
	if _, err := s.LatestCalibration(ctx, "nope"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("LatestCalibration(unknown) = %v, want not found", err)
	}
}

// newModel is a calibration with a learned model, as calibrate fits them.
func newModel(taskType, version string, created time.Time, active bool) *countersign.Calibration {
	auc := 0.8125
	c := &countersign.Calibration{
		TaskType:  taskType,
		Version:   version,
		CreatedAt: created,
		CreatedBy: "calibrate",
		Model: &countersign.ConfidenceModel{
			Features: []string{"grounding", "logit:token_prob", "absent:token_prob"},
			Fields:   map[string][]float64{"party_a": {0.5, 1.25, 0.75, -0.3333333333333333}},
			Pooled:   []float64{0.25, 1, 0.5, -0.125},
			Document: countersign.Platt{A: 0.9, B: 0.1},
			Floor:    1.0 / 152,
		},
		Seed:           -7243,
		Holdout:        0.5,
		TrainedThrough: created,
		Active:         active,
		Report: countersign.CalibrationReport{
			Documents: 150, HeldOut: 148, TaskTypeVersions: []string{"abc123"},
			Fields:   []countersign.FieldReliability{{Field: "party_a", Samples: 150, Accuracy: 0.9, ECEBefore: 0.12, ECEAfter: 0.03, Brier: 0.07, AUC: &auc, Own: true}},
			Pooled:   countersign.FieldReliability{Field: "*", Samples: 150, Accuracy: 0.9, ECEBefore: 0.1, ECEAfter: 0.04, Brier: 0.07, AUC: &auc},
			Signals:  []countersign.SignalDiscrimination{{Signal: "grounding", Present: 150, AUC: &auc}, {Signal: "judge"}},
			Document: &countersign.DocumentReliability{Documents: 150, Accuracy: 0.8, ECEBefore: 0.2, ECEAfter: 0.05, BrierBefore: 0.2, BrierAfter: 0.1, AUCBefore: 0.6, AUCAfter: 0.85, BaselineBrier: 0.2},
		},
	}
	if !active {
		c.Inactive = "not better out of sample than the active calibration"
	}
	return c
}

// testActiveCalibration checks that routing's calibration is the newest one
// stored active, that inactive ones are kept (and are the latest), and that
// a calibration stored by a release before calibrations could be inactive
// counts as active.
func testActiveCalibration(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.New(t)
	active := func(taskType string) *countersign.Calibration {
		t.Helper()
		c, err := s.ActiveCalibration(ctx, taskType)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	put := func(c *countersign.Calibration) {
		t.Helper()
		if err := s.PutCalibration(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ActiveCalibration(ctx, "contract-review"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("ActiveCalibration before any = %v, want not found", err)
	}
	put(newModel("contract-review", "m0", t0, false))
	if _, err := s.ActiveCalibration(ctx, "contract-review"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("ActiveCalibration with only an inactive one = %v, want not found", err)
	}

	m1 := newModel("contract-review", "m1", t0.Add(time.Hour), true)
	put(m1)
	put(newModel("contract-review", "m2", t0.Add(2*time.Hour), false))
	if got := active("contract-review"); !reflect.DeepEqual(got, m1) {
		t.Fatalf("ActiveCalibration = %+v, want %+v", got, m1)
	}
	latest, err := s.LatestCalibration(ctx, "contract-review")
	if err != nil || latest.Version != "m2" || latest.Active || latest.Inactive == "" {
		t.Fatalf("LatestCalibration = %+v, %v: want the inactive m2 with its reason", latest, err)
	}
	put(newModel("contract-review", "m3", t0.Add(3*time.Hour), true))
	put(newModel("pii-extraction", "m4", t0.Add(4*time.Hour), true))
	if got := active("contract-review"); got.Version != "m3" || !got.Active {
		t.Fatalf("active calibration = %s (active %v), want m3", got.Version, got.Active)
	}

	// As the previous release stored it: no active column, none in the JSON.
	h.Exec(t, s, `INSERT INTO calibrations (task_type, version, created_at, created_by, calibration)
		VALUES ('claims', 'old', '2026-01-01T00:00:00.000000Z', 'calibrate',
		'{"task_type":"claims","version":"old","fields":{},"pooled":{"x":[0,1],"y":[0.1,0.9]},"created_at":"2026-01-01T00:00:00Z","created_by":"calibrate","report":{"documents":40,"task_type_versions":null,"fields":null,"pooled":{"field":"","samples":0,"accuracy":0,"ece_before":0,"ece_after":0,"own":false}}}')`)
	if got := active("claims"); got.Version != "old" || !got.Active || got.Model != nil || got.Curve("x").Apply(0.5) != 0.5 {
		t.Fatalf("a calibration of the previous release = %+v, want it active with its curve", got)
	}
}
