package llm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/expr"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/scoring"
	"github.com/countersign/countersign/internal/tasktype"
)

// TestSOCExampleRules: without a model, the soc-alert-triage example's
// rules recognise the scanner's alerts (false positives) and the IT team's
// signed scripts (benign true positives) with a confidence that closes
// them on their own, and draft no label for any other alert, which then
// goes to an analyst; no risk rule matches what the rules draft.
func TestSOCExampleRules(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "soc-alert-triage")
	reg, err := tasktype.LoadDir(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	tt, err := reg.Get("soc-alert-triage")
	if err != nil {
		t.Fatal(err)
	}
	sch, err := schema.Compile(tt.Schema)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"vuln-scanner-port-scan.json":  "false_positive",
		"vuln-scanner-smb-logins.json": "false_positive",
		"benign-admin-script.json":     "benign_true_positive",
		"admin-script-inventory.json":  "benign_true_positive",
	}
	samples, err := filepath.Glob(filepath.Join(dir, "samples", "*.json"))
	if err != nil || len(samples) < 12 {
		t.Fatalf("%d samples, want at least 12 (%v)", len(samples), err)
	}
	for _, path := range samples {
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		doc := &countersign.Document{ID: name, Content: string(content)}
		draft, err := llm.NewRules().Extract(context.Background(), tt, doc)
		if err != nil {
			t.Fatal(err)
		}
		conf := scoring.Score(scoring.Input{TaskType: tt, Schema: sch, Draft: draft, Content: doc.Content})
		label, ok := want[name]
		if !ok {
			if _, drafted := draft.Fields["label"]; drafted || conf.Overall >= tt.Policy.AutoAcceptThreshold {
				t.Errorf("%s: drafted %v at %v, want no label for an analyst", name, draft.Fields, conf.Overall)
			}
			continue
		}
		if draft.Fields["label"] != label || conf.Overall < tt.Policy.AutoAcceptThreshold {
			t.Errorf("%s: drafted %v at confidence %v (%v), want %s at %v or more", name, draft.Fields, conf.Overall, conf.Fields, label, tt.Policy.AutoAcceptThreshold)
		}
		for _, r := range tt.Policy.RiskRules {
			p, err := expr.Compile(r.When)
			if err != nil {
				t.Fatal(err)
			}
			if hit, err := p.Eval(expr.Vars{Fields: draft.Fields, Confidence: conf.Overall}); err != nil || hit {
				t.Errorf("%s: risk rule %q matched (%v)", name, r.Name, err)
			}
		}
		if !strings.Contains(doc.Content, draft.Evidence["label"].Quote) {
			t.Errorf("%s: evidence %q is not in the alert", name, draft.Evidence["label"].Quote)
		}
	}
}
