package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// TestCalibratePrintsWhatItLearned runs calibrate twice with one seed on
// 200 reviewed contracts: the same figures both times; the first becomes
// active, the second, no better than the first, is stored inactive and
// says why, with exit status 0.
func TestCalibratePrintsWhatItLearned(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.Router(api.Services{Store: store, Dispatch: &dispatch.Dispatcher{Store: store, TaskTypes: types, Resolver: tasktype.NewResolver(types, store)}}))
	defer ts.Close()
	approver, _, err := auth.Issue(ctx, store, "test", countersign.ChannelCLI, "ada", countersign.RoleApprover, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		d := &countersign.Document{ID: fmt.Sprintf("d%03d", i), TaskType: "contract-review", TaskTypeVersion: "v1", Content: "x", ContentSHA256: "x",
			Status: countersign.StatusAccepted, SubmittedBy: "sam", CreatedAt: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)}
		if _, _, err := store.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		draft := &countersign.Draft{Fields: countersign.Fields{}}
		conf := &countersign.Confidence{Fields: map[string]countersign.FieldScore{}}
		final := &countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect}
		for _, name := range []string{"party_a", "party_b", "effective_date", "governing_law"} {
			tp := 0.7 + 0.3*rng.Float64()
			signals := map[string]float64{"schema": 1, "grounding": 1, "token_prob": tp}
			draft.Fields[name] = "v"
			conf.Fields[name] = countersign.FieldScore{Score: tp, Raw: tp, Signals: signals, Required: true}
			change := countersign.ChangeUnchanged
			if rng.Float64() > tp*tp*tp {
				change = countersign.ChangeCorrected
			}
			final.Diff = append(final.Diff, countersign.FieldChange{Field: name, Change: change})
		}
		status := countersign.StatusAccepted
		if err := store.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: draft, Confidence: conf, Final: final}); err != nil {
			t.Fatal(err)
		}
	}

	args := []string{"calibrate", "--type", "contract-review", "--seed", "17", "--server", ts.URL, "--token", approver}
	first, err := run(t, args...)
	if err != nil {
		t.Fatalf("calibrate: %v\n%s", err, first)
	}
	t.Logf("\n%s", first)
	for _, want := range []string{"seed 17, holdout 0.50", "active: routing of new documents uses it", "token_prob", "(all fields)", "this calibration, out of sample"} {
		if !strings.Contains(first, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	second, err := run(t, args...)
	if err != nil {
		t.Fatalf("calibrate again: %v\n%s", err, second)
	}
	if !strings.Contains(second, "NOT ACTIVE: stored, but routing keeps the calibration it had: out of sample its document Brier score") {
		t.Errorf("second calibration:\n%s", second)
	}
	// The figures, from the signals' table to the documents', are the same.
	figures := func(out string) string {
		out = out[strings.Index(out, "Signals, each alone"):]
		end := strings.Index(out, "this calibration, out of sample")
		return out[:end+strings.Index(out[end:], "\n")]
	}
	if figures(first) != figures(second) {
		t.Errorf("the same seed printed\n%s\nthen\n%s", figures(first), figures(second))
	}

	out, err := run(t, append(args, "--json")...)
	var cal countersign.Calibration
	if err != nil || json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &cal) != nil || cal.Active || !strings.HasPrefix(cal.Inactive, "out of sample") || cal.Seed != 17 {
		t.Errorf("calibrate --json: %v\n%s", err, out)
	}
}
