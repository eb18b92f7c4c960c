package tasktype_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/tasktype"
)

const valid = `
name: invoices
title: Invoices
guideline: Extract the invoice number.
fields:
  type: object
  required: [number]
  properties:
    number: {type: string}
    total: {type: number}
rules:
  number:
    - pattern: 'Invoice (?P<value>\d+)'
policy:
  mode: hotl
  auto_accept_threshold: 0.8
  review_due: 4h
`

func TestParseValid(t *testing.T) {
	tt, err := tasktype.Parse([]byte(valid), "invoices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if tt.Name != "invoices" || tt.Policy.Mode != countersign.ModeHOTL || tt.Policy.AutoAcceptThreshold != 0.8 || tt.Policy.ReviewDue.Hours() != 4 {
		t.Fatalf("parsed = %+v", tt)
	}
	if strings.Join(tt.FieldOrder, ",") != "number,total" || strings.Join(tt.Required, ",") != "number" {
		t.Fatalf("field order %v, required %v", tt.FieldOrder, tt.Required)
	}
	if tt.Extractor.Kind != countersign.ExtractorRules || tt.Weights[countersign.SignalGrounding] != 1 {
		t.Fatalf("defaults: extractor %q, weights %v", tt.Extractor.Kind, tt.Weights)
	}
	if len(tt.Version) != 12 || len(tt.Policy.Version) != 12 {
		t.Fatalf("versions %q %q", tt.Version, tt.Policy.Version)
	}
}

func TestVersionsFollowContent(t *testing.T) {
	a, _ := tasktype.Parse([]byte(valid), "a")
	b, _ := tasktype.Parse([]byte(valid+"\n# a comment\n"), "b")
	c, _ := tasktype.Parse([]byte(strings.Replace(valid, "0.8", "0.85", 1)), "c")
	if a.Version == b.Version {
		t.Fatal("a changed file kept its version")
	}
	if a.Policy.Version != b.Policy.Version {
		t.Fatal("a comment changed the policy version")
	}
	if a.Policy.Version == c.Policy.Version {
		t.Fatal("a new threshold kept the policy version")
	}
}

func TestParseNamesEveryProblem(t *testing.T) {
	bad := `
name: Bad Name
fields:
  type: object
  required: [number, missing]
  properties:
    number: {type: strin}
rules:
  number:
    - pattern: '(unclosed'
    - pattern: 'x(\d+)'
    - pattern: 'y'
      transform: roman
  colour:
    - pattern: 'z'
scoring:
  weights: {vibes: 2, schema: -1}
policy:
  mode: yolo
  auto_accept_threshold: 1.5
  review_due: tomorrow
`
	_, err := tasktype.Parse([]byte(bad), "bad.yaml")
	if err == nil {
		t.Fatal("a broken task type was accepted")
	}
	want := []string{
		`bad.yaml: name: must be lowercase letters, digits and dashes (got "Bad Name")`,
		"bad.yaml: fields: schema",
		"bad.yaml: rules.colour: is not a field of this task type",
		"bad.yaml: scoring.weights.vibes: unknown signal",
		"bad.yaml: scoring.weights.schema: must not be negative",
		`bad.yaml: policy.mode: unknown mode "yolo"`,
		"bad.yaml: policy.auto_accept_threshold: must be between 0 and 1 (got 1.5)",
		`bad.yaml: policy.review_due: must be a positive duration such as 4h or 30m (got "tomorrow")`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%v", w, err)
		}
	}
}

func TestParseRuleProblems(t *testing.T) {
	src := strings.Replace(valid, `    - pattern: 'Invoice (?P<value>\d+)'`, `    - pattern: '(unclosed'
    - pattern: 'x(\d+)'
    - pattern: 'y'
      transform: roman
    - pattern: 'z'
      value: true
      transform: lower`, 1)
	_, err := tasktype.Parse([]byte(src), "rules.yaml")
	for _, w := range []string{
		"rules.yaml: rules.number[0].pattern: error parsing regexp: missing closing )",
		"rules.yaml: rules.number[1].pattern: has groups but none named value",
		`rules.yaml: rules.number[2].transform: unknown transform "roman"`,
		"rules.yaml: rules.number[3]: has both a value and a transform",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%v", w, err)
		}
	}
}

func TestParseRefusesUnknownKeysAndMissingParts(t *testing.T) {
	_, err := tasktype.Parse([]byte(valid+"polcy: {}\n"), "typo.yaml")
	if err == nil || !strings.Contains(err.Error(), "typo.yaml") || !strings.Contains(err.Error(), "field polcy not found") {
		t.Fatalf("unknown key: %v", err)
	}
	_, err = tasktype.Parse([]byte("name: x\npolicy: {mode: hotl}\n"), "min.yaml")
	for _, w := range []string{"min.yaml: fields: is missing", "min.yaml: policy.auto_accept_threshold: is required in hotl mode"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%v", w, err)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(path, content string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("invoices/tasktype.yaml", valid)
	write("invoices/samples/a.txt", "Invoice 12")
	write("deep/er/ignored.yaml", "not: [a task type")
	reg, err := tasktype.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(reg.Names(), ",") != "invoices" {
		t.Fatalf("names = %v", reg.Names())
	}
	if _, err := reg.Get("receipts"); !errors.Is(err, countersign.ErrNotFound) || !strings.Contains(err.Error(), "known: invoices") {
		t.Fatalf("Get(unknown) = %v", err)
	}

	write("dup.yaml", valid)
	if _, err := tasktype.LoadDir(dir); err == nil || !strings.Contains(err.Error(), `name: "invoices" is already declared`) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := tasktype.LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing folder loaded")
	}
}

func TestShippedExamplesLoad(t *testing.T) {
	reg, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	contract, err := reg.Get("contract-review")
	if err != nil || contract.Policy.Mode != countersign.ModeHITL {
		t.Fatalf("contract-review = %+v, %v", contract, err)
	}
	pii, err := reg.Get("pii-extraction")
	if err != nil || pii.Policy.Mode != countersign.ModeHOTL {
		t.Fatalf("pii-extraction = %+v, %v", pii, err)
	}
	for _, name := range []string{"soc-alert-triage", "soc-webhook-triage"} {
		soc, err := reg.Get(name)
		if err != nil || soc.Policy.Mode != countersign.ModeHOTL || soc.Verdict == nil || !soc.Input.JSON() || soc.Input.Map["rule_name"] == "" {
			t.Fatalf("%s = %+v, %v", name, soc, err)
		}
	}
	onDisk, err := tasktype.LoadDir(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range reg.All() {
		other, err := onDisk.Get(tt.Name)
		if err != nil || other.Version != tt.Version {
			t.Fatalf("embedded %s differs from examples/ on disk", tt.Name)
		}
	}
}

func TestSupervisionPolicy(t *testing.T) {
	base := "name: x\nfields:\n  type: object\n  properties: {a: {type: string}}\n"
	good, err := tasktype.Parse([]byte(base+"policy:\n  mode: hotl\n  auto_accept_threshold: 0.9\n  audit_sample_rate: 0.1\n  veto_window: 2h\n  supervision: {error_budget: 0.02}\n"), "good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := good.Policy.Supervision
	if s == nil || s.ErrorBudget != 0.02 || s.Level != 0.95 || s.Bound != countersign.BoundConfidenceSequence || s.OnBreach != countersign.BreachRaiseThreshold || good.Policy.VetoWindow.Hours() != 2 {
		t.Fatalf("policy = %+v, supervision %+v", good.Policy, s)
	}
	_, err = tasktype.Parse([]byte(base+"policy:\n  mode: hotl\n  auto_accept_threshold: 0.9\n  veto_window: soon\n  supervision: {error_budget: 1.5, level: 0.3, bound: bayes, on_breach: panic, min_audits: -1}\n"), "bad.yaml")
	for _, want := range []string{
		`bad.yaml: policy.veto_window: must be a positive duration`,
		`bad.yaml: policy.supervision.error_budget: must be between 0 and 1`,
		`bad.yaml: policy.supervision.level: must be a confidence level`,
		`bad.yaml: policy.supervision.bound: unknown bound "bayes"`,
		`bad.yaml: policy.supervision.on_breach: unknown action "panic"`,
		`bad.yaml: policy.supervision.min_audits: must not be negative`,
		`bad.yaml: policy.supervision: needs audits to judge from`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
	_, err = tasktype.Parse([]byte(base+"policy:\n  mode: hitl\n  veto_window: 1h\n  supervision: {error_budget: 0.1}\n"), "hitl.yaml")
	for _, want := range []string{"policy.veto_window: applies to auto-accepted documents", "policy.supervision: supervises auto-acceptance, so only in hotl mode"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
}

func TestGoldItems(t *testing.T) {
	base := "name: x\nfields:\n  type: object\n  properties: {party: {type: string}, amount: {type: integer}}\n  required: [party]\npolicy:\n  mode: hitl\n"
	good, err := tasktype.Parse([]byte(base+`gold:
  rate: 0.05
  items:
    - id: acme
      content: "Acme Corp owes 12."
      answer: {party: Acme Corp, amount: 12}
    - id: spam
      content: "Buy now"
      reject: true
`), "good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if good.Policy.GoldRate != 0.05 || len(good.Gold) != 2 {
		t.Fatalf("gold rate %v, items %+v", good.Policy.GoldRate, good.Gold)
	}
	// YAML's integer arrives as a JSON number, as decided fields do.
	if a := good.Gold[0].Answer; a["party"] != "Acme Corp" || a["amount"] != float64(12) || !good.Gold[1].Reject || good.Gold[1].Answer != nil {
		t.Fatalf("items = %+v", good.Gold)
	}
	plain, err := tasktype.Parse([]byte(base), "plain.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if plain.Policy.Version == good.Policy.Version {
		t.Error("the gold rate is part of the policy, so its version must differ")
	}

	_, err = tasktype.Parse([]byte(base+`gold:
  rate: 1.5
  items:
    - id: Bad ID
      content: " "
      answer: {amount: "twelve"}
    - id: dup
      content: a
      answer: {party: A}
      reject: true
    - id: dup
      content: b
`), "bad.yaml")
	for _, want := range []string{
		`bad.yaml: gold.rate: must be above 0 and at most 1 (got 1.5)`,
		`bad.yaml: gold.items[0].id: must be lowercase letters`,
		`bad.yaml: gold.items[0].content: is empty`,
		`bad.yaml: gold.items[0].answer: does not fit the fields schema`,
		`bad.yaml: gold.items[1]: gives both an answer and reject`,
		`bad.yaml: gold.items[2].id: "dup" is used by an earlier item`,
		`bad.yaml: gold.items[2].answer: is missing`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
	if _, err := tasktype.Parse([]byte(base+"gold:\n  rate: .nan\n  items: [{id: a, content: x, reject: true}]\n"), "nan.yaml"); err == nil || !strings.Contains(err.Error(), "gold.rate: must be above 0 and at most 1") {
		t.Errorf("a NaN gold rate: %v", err)
	}
	_, err = tasktype.Parse([]byte(base+"gold: {items: []}\n"), "empty.yaml")
	for _, want := range []string{"gold.rate: is required", "gold.items: is empty"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
}

func TestReviewGroups(t *testing.T) {
	base := "name: x\nfields:\n  type: object\n  properties: {a: {type: string}}\npolicy:\n  mode: hitl\n"
	good, err := tasktype.Parse([]byte(base+"review_groups: [contracts, legal-eu]\n"), "good.yaml")
	if err != nil || strings.Join(good.ReviewGroups, ",") != "contracts,legal-eu" {
		t.Fatalf("review groups = %v, %v", good, err)
	}
	if _, err := tasktype.Parse([]byte(base+"review_groups: [\"a,b\", \" \"]\n"), "bad.yaml"); err == nil || !strings.Contains(err.Error(), `bad.yaml: review_groups: group name "a,b"`) {
		t.Fatalf("bad review groups: %v", err)
	}
}

func TestAssignment(t *testing.T) {
	base := "name: x\nfields:\n  type: object\n  properties: {a: {type: string}}\npolicy:\n  mode: hitl\n"
	good, err := tasktype.Parse([]byte(base+"assignment:\n  strategy: round_robin\n  to: [rita, group:contracts]\n"), "good.yaml")
	if err != nil || good.Assignment == nil || good.Assignment.Strategy != countersign.AssignRoundRobin || strings.Join(good.Assignment.To, ",") != "rita,group:contracts" {
		t.Fatalf("round robin = %+v, %v", good.Assignment, err)
	}
	rule, err := tasktype.Parse([]byte(base+"assignment:\n  strategy: rule\n  rules:\n    - when: 'fields.a == \"big\"'\n      to: [sam]\n  to: [rita]\n"), "rule.yaml")
	if err != nil || len(rule.Assignment.Rules) != 1 || rule.Assignment.Rules[0].To[0] != "sam" {
		t.Fatalf("rule = %+v, %v", rule.Assignment, err)
	}
	none, err := tasktype.Parse([]byte(base), "none.yaml")
	if err != nil || none.Assignment != nil {
		t.Fatalf("no assignment = %+v, %v", none.Assignment, err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"assignment:\n  strategy: lottery\n  to: [rita]\n", `bad.yaml: assignment.strategy: unknown strategy "lottery" (known: round_robin, least_loaded, rule)`},
		{"assignment:\n  to: [rita]\n", "bad.yaml: assignment.strategy: is missing"},
		{"assignment:\n  strategy: least_loaded\n", "bad.yaml: assignment.to: is empty"},
		{"assignment:\n  strategy: round_robin\n  to: [rita, rita]\n", `bad.yaml: assignment.to: names "rita" twice`},
		{"assignment:\n  strategy: round_robin\n  to: [\"group:a,b\"]\n", `bad.yaml: assignment.to: group name "a,b"`},
		{"assignment:\n  strategy: rule\n  to: [rita]\n", "bad.yaml: assignment.rules: is empty"},
		{"assignment:\n  strategy: rule\n  rules:\n    - when: 'fields.a +'\n      to: [sam]\n", "bad.yaml: assignment.rules[0].when: "},
		{"assignment:\n  strategy: rule\n  rules:\n    - when: 'fields.a == \"x\"'\n", "bad.yaml: assignment.rules[0].to: is empty"},
		{"assignment:\n  strategy: round_robin\n  to: [rita]\n  rules:\n    - when: 'true'\n      to: [sam]\n", "bad.yaml: assignment.rules: only the rule strategy has rules"},
	} {
		if _, err := tasktype.Parse([]byte(base+c.yaml), "bad.yaml"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.yaml, err, c.want)
		}
	}
}
