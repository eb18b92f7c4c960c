package llm_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/expr"
	"github.com/countersign/countersign/internal/jsonptr"
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
		metadata := mapped(t, tt, content)
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
			if hit, err := p.Eval(expr.Vars{Fields: draft.Fields, Metadata: metadata, Confidence: conf.Overall}); err != nil || hit {
				t.Errorf("%s: risk rule %q matched (%v)", name, r.Name, err)
			}
		}
		if !strings.Contains(doc.Content, draft.Evidence["label"].Quote) {
			t.Errorf("%s: evidence %q is not in the alert", name, draft.Evidence["label"].Quote)
		}
	}
}

// mapped is the metadata intake gives an alert: each value input.map points
// at, as text.
func mapped(t *testing.T, tt *countersign.TaskType, content []byte) map[string]string {
	t.Helper()
	doc, err := jsonptr.Decode(content)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for key, pointer := range tt.Input.Map {
		if v, ok := jsonptr.Resolve(doc, pointer); ok && v != nil {
			out[key] = jsonptr.Text(v)
		}
	}
	return out
}

// TestSOCExampleRulesHoldClosuresToTheirFields: the rules read the alert's
// text, where an attacker's alert can name the scanner's address anywhere.
// A credential-stuffing alert from outside with the scanner's address put
// in another field is drafted as the scanner's false positive, but the
// example's risk rules send it to an analyst: the source address the
// closure rests on is not the scanner's, and the SIEM rated it high.
func TestSOCExampleRulesHoldClosuresToTheirFields(t *testing.T) {
	reg, err := tasktype.LoadDir(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	tt, err := reg.Get("soc-alert-triage")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "soc-alert-triage", "samples", "credential-stuffing.json"))
	if err != nil {
		t.Fatal(err)
	}
	var alert map[string]any
	if err := json.Unmarshal(raw, &alert); err != nil {
		t.Fatal(err)
	}
	alert["dst_endpoint"] = map[string]any{"ip": "10.20.0.5"}
	content, _ := json.Marshal(alert)
	draft, err := llm.NewRules().Extract(context.Background(), tt, &countersign.Document{ID: "x", Content: string(content)})
	if err != nil {
		t.Fatal(err)
	}
	if draft.Fields["label"] != "false_positive" {
		t.Fatalf("draft = %v: the attack this guards against is a scanner's label drawn from another field", draft.Fields)
	}
	hits := map[string]bool{}
	for _, r := range tt.Policy.RiskRules {
		p, err := expr.Compile(r.When)
		if err != nil {
			t.Fatal(err)
		}
		hit, err := p.Eval(expr.Vars{Fields: draft.Fields, Metadata: mapped(t, tt, content), Confidence: 1})
		hits[r.Name] = hit || err != nil
	}
	if !hits["scanner closure not from the scanner"] || !hits["rated high by the SIEM"] {
		t.Fatalf("risk rules matched %v: the closure must go to an analyst", hits)
	}
}
