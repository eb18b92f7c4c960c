// Package tasktype reads task types from YAML files, checks them, and gives
// each its version: the hash of its source. Errors name the file and the
// field that is wrong.
package tasktype

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/expr"
	"github.com/countersign/countersign/internal/schema"
)

// file is a task type as written in YAML.
type file struct {
	Name        string                `yaml:"name"`
	Title       string                `yaml:"title"`
	Description string                `yaml:"description"`
	Guideline   string                `yaml:"guideline"`
	Fields      yaml.Node             `yaml:"fields"`
	Verdict     *verdictFile          `yaml:"verdict"`
	Comparison  *comparisonFile       `yaml:"comparison"`
	Input       *inputFile            `yaml:"input"`
	Extractor   string                `yaml:"extractor"`
	Model       modelFile             `yaml:"model"`
	Prompt      promptFile            `yaml:"prompt"`
	Rules       map[string][]ruleFile `yaml:"rules"`
	Constraints []constraintFile      `yaml:"constraints"`
	Scoring     struct {
		Weights map[string]float64 `yaml:"weights"`
	} `yaml:"scoring"`
	Policy       policyFile      `yaml:"policy"`
	ReviewGroups []string        `yaml:"review_groups"`
	Assignment   *assignmentFile `yaml:"assignment"`
	Gold         *goldFile       `yaml:"gold"`
}

type assignmentFile struct {
	Strategy countersign.AssignStrategy `yaml:"strategy"`
	To       []string                   `yaml:"to"`
	Rules    []assignRuleFile           `yaml:"rules"`
}

type assignRuleFile struct {
	When string   `yaml:"when"`
	To   []string `yaml:"to"`
}

type goldFile struct {
	Rate  *float64       `yaml:"rate"`
	Items []goldItemFile `yaml:"items"`
}

type goldItemFile struct {
	ID      string         `yaml:"id"`
	Content string         `yaml:"content"`
	Answer  map[string]any `yaml:"answer"`
	Reject  bool           `yaml:"reject"`
}

type modelFile struct {
	BaseURL          string   `yaml:"base_url"`
	Name             string   `yaml:"name"`
	APIKeyEnv        string   `yaml:"api_key_env"`
	Temperature      *float64 `yaml:"temperature"`
	Seed             *int     `yaml:"seed"`
	Samples          int      `yaml:"samples"`
	MaxContextTokens int      `yaml:"max_context_tokens"`
	MaxOutputTokens  int      `yaml:"max_output_tokens"`
	Judge            bool     `yaml:"judge"`
	JudgeModel       string   `yaml:"judge_model"`
	JudgeBaseURL     string   `yaml:"judge_base_url"`
	JudgeAPIKeyEnv   string   `yaml:"judge_api_key_env"`
}

type promptFile struct {
	System string `yaml:"system"`
	User   string `yaml:"user"`
}

type constraintFile struct {
	Name    string   `yaml:"name"`
	Rule    string   `yaml:"rule"`
	Fields  []string `yaml:"fields"`
	Message string   `yaml:"message"`
}

type policyRuleFile struct {
	Name        string `yaml:"name"`
	When        string `yaml:"when"`
	Description string `yaml:"description"`
}

type ruleFile struct {
	Pattern   string `yaml:"pattern"`
	Transform string `yaml:"transform"`
	Value     any    `yaml:"value"`
}

type policyFile struct {
	Mode                countersign.Mode `yaml:"mode"`
	AutoAcceptThreshold *float64         `yaml:"auto_accept_threshold"`
	ReviewDue           string           `yaml:"review_due"`
	AuditSampleRate     *float64         `yaml:"audit_sample_rate"`
	RiskRules           []policyRuleFile `yaml:"risk_rules"`
	RejectRules         []policyRuleFile `yaml:"reject_rules"`
	VetoWindow          string           `yaml:"veto_window"`
	Supervision         *supervisionFile `yaml:"supervision"`
	ApprovalsRequired   yaml.Node        `yaml:"approvals_required"`
	Adjudicator         countersign.Role `yaml:"adjudicator"`
	BlindReview         bool             `yaml:"blind_review"`
	SLA                 *slaFile         `yaml:"sla"`
	Notify              *audienceFile    `yaml:"notify"`
}

type slaFile struct {
	RemindAfter   string        `yaml:"remind_after"`
	EscalateAfter string        `yaml:"escalate_after"`
	EscalateTo    *audienceFile `yaml:"escalate_to"`
	TimeoutAfter  string        `yaml:"timeout_after"`
	TimeoutAction string        `yaml:"timeout_action"`
}

type audienceFile struct {
	Channel string   `yaml:"channel"`
	Groups  []string `yaml:"groups"`
}

type supervisionFile struct {
	ErrorBudget *float64 `yaml:"error_budget"`
	Level       *float64 `yaml:"level"`
	Bound       string   `yaml:"bound"`
	MinAudits   int      `yaml:"min_audits"`
	OnBreach    string   `yaml:"on_breach"`
}

// DefaultSupervisionLevel is the confidence level of the escaped-error bound
// when the policy does not say.
const DefaultSupervisionLevel = 0.95

// DefaultReviewDue is how long a review may wait when the policy does not say.
const DefaultReviewDue = 24 * time.Hour

// DefaultWeights weigh the confidence signals the task type does not weigh
// itself: all alike, but for ambiguity, alternatives, context, quote_match
// and omission, which are recorded and learned from by calibration but take
// no part in the uncalibrated weighted mean unless the task type weighs
// them: each is 1 (or 0, context) for most values, so averaging them in
// would move every uncalibrated score, the confident errors' with the rest.
// label_prob weighs like token_prob: for a label it is the model's
// probability that matters (a verdict's confidence comes from it), and it
// exists only for fields whose values are a closed set of labels.
// ocr_confidence weighs 0 too: Tesseract's word confidence is low on
// clean dates and identifiers (a crisp "2025-03-05" reads at 0.31), so
// averaged in it would send every scanned date to a person whatever was
// read; calibration learns what it is worth, and its reason shows the
// reviewer the unsure word.
// verdict_prob weighs 0 too: the judge writes its ranking after its
// scores and reasons (the answer's schema orders them so), so the label it
// writes first mostly follows the scores already written, and its
// probability is near 1 unless the top scores tie; averaged in, it would
// raise every uncalibrated comparison's score and dilute position (six
// candidates with 4 of 15 pairs flipped: 0.867 to a person, 0.911
// accepted at 0.9). Calibration learns what it is worth, its reason shows
// the reviewer the order that was unsure, and a task type may weigh it
// (scoring.weights.verdict_prob).
// A signal a draft does not have (token probability for a rules draft, say)
// takes no part in its scores.
var DefaultWeights = map[string]float64{
	countersign.SignalSchema:        1,
	countersign.SignalConstraints:   1,
	countersign.SignalGrounding:     1,
	countersign.SignalTokenProb:     1,
	countersign.SignalAgreement:     1,
	countersign.SignalRules:         1,
	countersign.SignalJudge:         1,
	countersign.SignalAmbiguity:     0,
	countersign.SignalAlternatives:  0,
	countersign.SignalLabelProb:     1,
	countersign.SignalContext:       0,
	countersign.SignalQuoteMatch:    0,
	countersign.SignalOmission:      0,
	countersign.SignalWords:         0,
	countersign.SignalPosition:      1,
	countersign.SignalOCRConfidence: 0,
	countersign.SignalVerdictProb:   0,
}

// Limits of the model settings.
const (
	MaxSamples     = 10
	maxTemperature = 2
)

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Parse reads and checks one task type. origin names the source in errors
// (usually its path). Every problem found is reported, each as
// "origin: field: what is wrong".
func Parse(source []byte, origin string) (*countersign.TaskType, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(source))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	p := &problems{origin: origin}
	tt := &countersign.TaskType{
		Name:        f.Name,
		Title:       f.Title,
		Description: f.Description,
		Guideline:   f.Guideline,
		Version:     shortHash(source),
		Extractor:   countersign.ExtractorSpec{Kind: f.Extractor},
		Source:      source,
	}
	if !namePattern.MatchString(f.Name) {
		p.add("name", "must be lowercase letters, digits and dashes (got %q)", f.Name)
	}
	if tt.Title == "" {
		tt.Title = tt.Name
	}
	if tt.Extractor.Kind == "" {
		tt.Extractor.Kind = countersign.ExtractorRules
	}
	switch tt.Extractor.Kind {
	case countersign.ExtractorRules, countersign.ExtractorOpenAI, countersign.ExtractorAuto:
	default:
		p.add("extractor", "unknown extractor %q (known: %s, %s, %s)", tt.Extractor.Kind, countersign.ExtractorRules, countersign.ExtractorOpenAI, countersign.ExtractorAuto)
	}
	fields := &f.Fields
	if f.Verdict != nil {
		fields = parseVerdict(f.Verdict, fields, tt, p)
	}
	if f.Comparison != nil {
		if f.Verdict != nil {
			p.add("comparison", "and verdict both declare the fields: a task type has one of them")
		} else {
			fields = parseComparison(f.Comparison, fields, &f.Input, tt, p)
		}
	}
	tt.Input = parseInput(f.Input, p)
	properties := map[string]bool{}
	if fields != nil {
		properties = parseFields(fields, tt, p)
	}
	tt.Rules = parseRules(f.Rules, properties, p)
	tt.Model = parseModel(f.Model, p)
	tt.Prompt = parsePrompt(f.Prompt, tt, p)
	tt.Constraints = parseConstraints(f.Constraints, properties, p)
	tt.Weights = parseWeights(f.Scoring.Weights, p)
	if err := countersign.CheckGroups(f.ReviewGroups); err != nil {
		p.add("review_groups", "%v", err)
	}
	tt.ReviewGroups = f.ReviewGroups
	tt.Assignment = parseAssignment(f.Assignment, p)
	var goldRate float64
	tt.Gold, goldRate = parseGold(f.Gold, tt, p)
	tt.Policy = parsePolicy(f.Policy, goldRate, p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return tt, nil
}

// parseFields checks the fields schema and records its property order and
// required fields. It returns the set of property names.
func parseFields(node *yaml.Node, tt *countersign.TaskType, p *problems) map[string]bool {
	properties := map[string]bool{}
	if node.Kind == 0 {
		p.add("fields", "is missing: give the JSON Schema of the output object")
		return properties
	}
	var doc map[string]any
	if err := node.Decode(&doc); err != nil {
		p.add("fields", "%v", err)
		return properties
	}
	if doc["type"] != "object" {
		p.add("fields.type", "must be object")
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		p.add("fields", "cannot be written as JSON: %v", err)
		return properties
	}
	if _, err := schema.Compile(raw); err != nil {
		p.add("fields", "%v", err)
		return properties
	}
	tt.Schema = raw
	tt.FieldOrder = propertyOrder(node)
	for _, name := range tt.FieldOrder {
		properties[name] = true
	}
	if len(tt.FieldOrder) == 0 {
		p.add("fields.properties", "must declare at least one field")
	}
	if required, ok := doc["required"].([]any); ok {
		for _, r := range required {
			name, _ := r.(string)
			if !properties[name] {
				p.add("fields.required", "names %q, which is not in fields.properties", r)
				continue
			}
			tt.Required = append(tt.Required, name)
		}
	}
	return properties
}

// propertyOrder returns the keys of fields.properties in file order.
func propertyOrder(fields *yaml.Node) []string {
	props := mappingValue(fields, "properties")
	if props == nil || props.Kind != yaml.MappingNode {
		return nil
	}
	var names []string
	for i := 0; i+1 < len(props.Content); i += 2 {
		names = append(names, props.Content[i].Value)
	}
	return names
}

func mappingValue(node *yaml.Node, key string) *yaml.Node {
	if node.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1]
		}
	}
	return nil
}

func parseRules(in map[string][]ruleFile, properties map[string]bool, p *problems) map[string][]countersign.Rule {
	out := make(map[string][]countersign.Rule, len(in))
	for _, field := range slices.Sorted(maps.Keys(in)) {
		rules := in[field]
		if !properties[field] {
			p.add("rules."+field, "is not a field of this task type")
			continue
		}
		for i, r := range rules {
			at := fmt.Sprintf("rules.%s[%d]", field, i)
			re, err := regexp.Compile(r.Pattern)
			switch {
			case r.Pattern == "":
				p.add(at+".pattern", "is missing")
			case err != nil:
				p.add(at+".pattern", "%v", err)
			case re.SubexpIndex("value") < 0 && r.Value == nil && re.NumSubexp() > 0:
				p.add(at+".pattern", "has groups but none named value: name the group that holds the value (?P<value>...)")
			case r.Value != nil && r.Transform != "":
				p.add(at, "has both a value and a transform; a rule with a constant value does not transform")
			}
			if !KnownTransform(r.Transform) {
				p.add(at+".transform", "unknown transform %q (known: %s)", r.Transform, transformNames())
			}
			out[field] = append(out[field], countersign.Rule{Pattern: r.Pattern, Transform: r.Transform, Value: r.Value})
		}
	}
	return out
}

func parseModel(in modelFile, p *problems) countersign.ModelSpec {
	out := countersign.ModelSpec{
		BaseURL:          in.BaseURL,
		Name:             in.Name,
		APIKeyEnv:        in.APIKeyEnv,
		Temperature:      in.Temperature,
		Seed:             in.Seed,
		Samples:          in.Samples,
		MaxContextTokens: in.MaxContextTokens,
		MaxOutputTokens:  in.MaxOutputTokens,
		Judge:            in.Judge,
		JudgeModel:       in.JudgeModel,
		JudgeBaseURL:     in.JudgeBaseURL,
		JudgeAPIKeyEnv:   in.JudgeAPIKeyEnv,
	}
	checkEndpoint("model.base_url", in.BaseURL, p)
	checkKeyEnv("model.api_key_env", in.APIKeyEnv, p)
	checkEndpoint("model.judge_base_url", in.JudgeBaseURL, p)
	checkKeyEnv("model.judge_api_key_env", in.JudgeAPIKeyEnv, p)
	for _, judge := range []struct {
		key string
		set bool
	}{{"model.judge_model", in.JudgeModel != ""}, {"model.judge_base_url", in.JudgeBaseURL != ""}, {"model.judge_api_key_env", in.JudgeAPIKeyEnv != ""}} {
		if judge.set && !in.Judge {
			p.add(judge.key, "configures the judge, which is off: set model.judge: true, or remove it")
		}
	}
	if in.JudgeBaseURL != "" && in.JudgeModel == "" {
		p.add("model.judge_model", "is required with model.judge_base_url: name the model that judges there")
	}
	if t := in.Temperature; t != nil && (*t < 0 || *t > maxTemperature) {
		p.add("model.temperature", "must be between 0 and %d (got %v)", maxTemperature, *t)
	}
	if in.Samples < 0 || in.Samples > MaxSamples {
		p.add("model.samples", "must be between 1 and %d (got %d)", MaxSamples, in.Samples)
	}
	if t := in.Temperature; t != nil && *t == 0 && in.Samples > 1 {
		p.add("model.samples", "%d samples at temperature 0 agree by construction: raise model.temperature or draw one sample", in.Samples)
	}
	if in.MaxContextTokens < 0 {
		p.add("model.max_context_tokens", "must not be negative")
	}
	if in.MaxOutputTokens < 0 {
		p.add("model.max_output_tokens", "must not be negative")
	}
	return out
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkEndpoint checks a model endpoint's base URL, when one is set.
func checkEndpoint(key, baseURL string, p *problems) {
	if baseURL == "" {
		return
	}
	if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(key, "must be an http or https URL such as https://api.openai.com/v1 (got %q)", baseURL)
	}
}

// checkKeyEnv checks that a key setting names a variable, not the key.
func checkKeyEnv(key, name string, p *problems) {
	if name != "" && !envName.MatchString(name) {
		p.add(key, "must name an environment variable, not hold the key (got %d characters)", len(name))
	}
}

func parseConstraints(in []constraintFile, properties map[string]bool, p *problems) []countersign.Constraint {
	var out []countersign.Constraint
	names := map[string]bool{}
	for i, c := range in {
		at := fmt.Sprintf("constraints[%d]", i)
		switch {
		case c.Name == "":
			p.add(at+".name", "is missing")
		case names[c.Name]:
			p.add(at+".name", "%q is used twice", c.Name)
		}
		names[c.Name] = true
		if _, err := expr.Compile(c.Rule); err != nil {
			p.add(at+".rule", "%v", err)
		}
		if len(c.Fields) == 0 {
			p.add(at+".fields", "must name the fields the constraint is about")
		}
		for _, field := range c.Fields {
			if !properties[field] {
				p.add(at+".fields", "names %q, which is not in fields.properties", field)
			}
		}
		out = append(out, countersign.Constraint{Name: c.Name, Rule: c.Rule, Fields: c.Fields, Message: c.Message})
	}
	return out
}

func parseWeights(in map[string]float64, p *problems) map[string]float64 {
	out := maps.Clone(DefaultWeights)
	for _, signal := range slices.Sorted(maps.Keys(in)) {
		w := in[signal]
		if _, known := DefaultWeights[signal]; !known {
			p.add("scoring.weights."+signal, "unknown signal (known: %s)", strings.Join(countersign.Signals, ", "))
		}
		if w < 0 {
			p.add("scoring.weights."+signal, "must not be negative")
		}
		out[signal] = w
	}
	var total float64
	for _, w := range out {
		total += w
	}
	if total <= 0 {
		p.add("scoring.weights", "at least one weight must be positive")
	}
	return out
}

func parsePolicyRules(in []policyRuleFile, at string, p *problems) []countersign.PolicyRule {
	var out []countersign.PolicyRule
	names := map[string]bool{}
	for i, r := range in {
		field := fmt.Sprintf("%s[%d]", at, i)
		switch {
		case r.Name == "":
			p.add(field+".name", "is missing")
		case names[r.Name]:
			p.add(field+".name", "%q is used twice", r.Name)
		}
		names[r.Name] = true
		if _, err := expr.Compile(r.When); err != nil {
			p.add(field+".when", "%v", err)
		}
		out = append(out, countersign.PolicyRule{Name: r.Name, When: r.When, Description: strings.TrimSpace(r.Description)})
	}
	return out
}

// parseAssignment checks the assignment: a known strategy, people to
// assign to, and, for the rule strategy, rules that compile.
func parseAssignment(in *assignmentFile, p *problems) *countersign.Assignment {
	if in == nil {
		return nil
	}
	out := &countersign.Assignment{Strategy: in.Strategy, To: in.To}
	checkAssignees(in.To, "assignment.to", p)
	switch in.Strategy {
	case countersign.AssignRoundRobin, countersign.AssignLeastLoaded:
		if len(in.To) == 0 {
			p.add("assignment.to", "is empty: list the users (rita) and groups (group:contracts) to assign %s reviews to", in.Strategy)
		}
		if len(in.Rules) > 0 {
			p.add("assignment.rules", "only the rule strategy has rules (strategy is %s)", in.Strategy)
		}
	case countersign.AssignRule:
		if len(in.Rules) == 0 {
			p.add("assignment.rules", "is empty: the rule strategy needs rules ({when: <CEL>, to: [...]})")
		}
		for i, r := range in.Rules {
			field := fmt.Sprintf("assignment.rules[%d]", i)
			if _, err := expr.Compile(r.When); err != nil {
				p.add(field+".when", "%v", err)
			}
			if len(r.To) == 0 {
				p.add(field+".to", "is empty: list the users and groups the rule assigns to")
			}
			checkAssignees(r.To, field+".to", p)
			out.Rules = append(out.Rules, countersign.AssignRuleSpec{When: r.When, To: r.To})
		}
	case "":
		p.add("assignment.strategy", "is missing: %s", strategyList())
	default:
		p.add("assignment.strategy", "unknown strategy %q (known: %s)", in.Strategy, strategyList())
	}
	return out
}

func strategyList() string {
	names := make([]string, len(countersign.AssignStrategies))
	for i, s := range countersign.AssignStrategies {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// checkAssignees refuses an empty name, a name twice, and a bad group
// name in an assignment's list.
func checkAssignees(to []string, field string, p *problems) {
	seen := map[string]bool{}
	for _, name := range to {
		switch group, isGroup := strings.CutPrefix(name, countersign.GroupPrefix); {
		case strings.TrimSpace(name) == "":
			p.add(field, "has an empty name")
		case seen[name]:
			p.add(field, "names %q twice", name)
		case isGroup:
			if err := countersign.CheckGroups([]string{group}); err != nil {
				p.add(field, "%v", err)
			}
		}
		seen[name] = true
	}
}

func parsePolicy(in policyFile, goldRate float64, p *problems) countersign.Policy {
	out := countersign.Policy{Mode: in.Mode, ReviewDue: DefaultReviewDue, GoldRate: goldRate}
	switch in.Mode {
	case countersign.ModeHITL, countersign.ModeHOTL:
	case "":
		p.add("policy.mode", "is missing: hitl (every document to a person) or hotl (confident drafts accepted)")
	default:
		p.add("policy.mode", "unknown mode %q (known: hitl, hotl)", in.Mode)
	}
	switch {
	case in.AutoAcceptThreshold != nil:
		out.AutoAcceptThreshold = *in.AutoAcceptThreshold
		if out.AutoAcceptThreshold < 0 || out.AutoAcceptThreshold > 1 {
			p.add("policy.auto_accept_threshold", "must be between 0 and 1 (got %v)", out.AutoAcceptThreshold)
		}
	case in.Mode == countersign.ModeHOTL:
		p.add("policy.auto_accept_threshold", "is required in hotl mode")
	}
	if in.ReviewDue != "" {
		d, err := time.ParseDuration(in.ReviewDue)
		if err != nil || d <= 0 {
			p.add("policy.review_due", "must be a positive duration such as 4h or 30m (got %q)", in.ReviewDue)
		}
		out.ReviewDue = d
	}
	if r := in.AuditSampleRate; r != nil {
		out.AuditSampleRate = *r
		if *r < 0 || *r > 1 {
			p.add("policy.audit_sample_rate", "must be between 0 and 1 (got %v)", *r)
		}
	}
	out.RiskRules = parsePolicyRules(in.RiskRules, "policy.risk_rules", p)
	out.RejectRules = parsePolicyRules(in.RejectRules, "policy.reject_rules", p)
	if in.VetoWindow != "" {
		d, err := time.ParseDuration(in.VetoWindow)
		switch {
		case err != nil || d <= 0:
			p.add("policy.veto_window", "must be a positive duration such as 2h or 30m (got %q)", in.VetoWindow)
		case in.Mode != countersign.ModeHOTL:
			p.add("policy.veto_window", "applies to auto-accepted documents, so only in hotl mode")
		}
		out.VetoWindow = d
	}
	if in.Supervision != nil {
		if in.Mode != countersign.ModeHOTL {
			p.add("policy.supervision", "supervises auto-acceptance, so only in hotl mode")
		}
		out.Supervision = parseSupervision(*in.Supervision, p)
		if out.AuditSampleRate <= 0 {
			p.add("policy.supervision", "needs audits to judge from: set audit_sample_rate above 0")
		}
	}
	parseGate(in, &out, p)
	canonical, _ := json.Marshal(out)
	out.Version = shortHash(canonical)
	return out
}

func parseSupervision(in supervisionFile, p *problems) *countersign.Supervision {
	out := &countersign.Supervision{
		Level:     DefaultSupervisionLevel,
		Bound:     countersign.BoundConfidenceSequence,
		MinAudits: in.MinAudits,
		OnBreach:  countersign.BreachRaiseThreshold,
	}
	switch b := in.ErrorBudget; {
	case b == nil:
		p.add("policy.supervision.error_budget", "is required: the highest share of auto-accepted documents an audit may correct, such as 0.02")
	case *b <= 0 || *b >= 1:
		p.add("policy.supervision.error_budget", "must be between 0 and 1, both excluded (got %v)", *b)
	default:
		out.ErrorBudget = *b
	}
	if in.Level != nil {
		out.Level = *in.Level
		if out.Level <= 0.5 || out.Level >= 1 {
			p.add("policy.supervision.level", "must be a confidence level between 0.5 and 1, such as 0.95 (got %v)", out.Level)
		}
	}
	switch in.Bound {
	case "":
	case countersign.BoundConfidenceSequence, countersign.BoundWilson, countersign.BoundClopperPearson:
		out.Bound = in.Bound
	default:
		p.add("policy.supervision.bound", "unknown bound %q (known: %s, %s, %s)", in.Bound, countersign.BoundConfidenceSequence, countersign.BoundWilson, countersign.BoundClopperPearson)
	}
	if in.MinAudits < 0 {
		p.add("policy.supervision.min_audits", "must not be negative (got %d); 0 means the fewest audits a clean record needs to meet the budget", in.MinAudits)
	}
	switch in.OnBreach {
	case "":
	case countersign.BreachRaiseThreshold, countersign.BreachHITL:
		out.OnBreach = in.OnBreach
	default:
		p.add("policy.supervision.on_breach", "unknown action %q (known: %s, %s)", in.OnBreach, countersign.BreachRaiseThreshold, countersign.BreachHITL)
	}
	return out
}

// shortHash is the first 12 hex digits of a SHA-256: enough to tell versions
// apart, short enough to read.
func shortHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// problems collects what is wrong with a task type file.
type problems struct {
	origin string
	errs   []error
}

func (p *problems) add(field, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s: %s", p.origin, field, fmt.Sprintf(format, args...)))
}

func (p *problems) err() error { return errors.Join(p.errs...) }
