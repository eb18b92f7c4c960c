package tasktype

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign"
)

// comparisonFile is a task type's comparison as written in YAML.
type comparisonFile struct {
	Mode      string `yaml:"mode"`
	TiePolicy string `yaml:"tie_policy"`
	Rubric    []struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Scale       *struct {
			Min *int `yaml:"min"`
			Max *int `yaml:"max"`
		} `yaml:"scale"`
	} `yaml:"rubric"`
	UnsafeReasons       []reasonFile    `yaml:"unsafe_reasons"`
	UnacceptableReasons []reasonFile    `yaml:"unacceptable_reasons"`
	MaxCandidates       int             `yaml:"max_candidates"`
	MaxResponseBytes    int             `yaml:"max_response_bytes"`
	JudgeOrders         int             `yaml:"judge_orders"`
	Generators          []generatorFile `yaml:"generators"`
}

// generatorFile is one of a comparison's generators as written in YAML.
type generatorFile struct {
	Name            string   `yaml:"name"`
	Model           string   `yaml:"model"`
	BaseURL         string   `yaml:"base_url"`
	APIKeyEnv       string   `yaml:"api_key_env"`
	Temperature     *float64 `yaml:"temperature"`
	Seed            *int     `yaml:"seed"`
	MaxOutputTokens int      `yaml:"max_output_tokens"`
	Count           *int     `yaml:"count"`
}

type reasonFile struct {
	Code        string `yaml:"code"`
	Description string `yaml:"description"`
}

// comparisonFieldOrder is the order of a comparison's fields.
var comparisonFieldOrder = []string{
	countersign.FieldRanking, countersign.FieldScores, countersign.FieldCriterionReasons,
	countersign.FieldUnsafe, countersign.FieldAllUnacceptable, countersign.FieldImprovedResponse,
}

// parseComparison checks a comparison and returns the fields schema it
// declares (countersign.Comparison lists them). The ranking is required,
// so the document confidence is taken over it; the schema holds what does
// not depend on the item (shapes, scales, codes), and
// countersign.CheckComparison the rest. Documents are JSON items: input
// defaults to {format: json, id: /id}. It returns nil when the comparison
// is wrong: its problems are reported.
func parseComparison(in *comparisonFile, fields *yaml.Node, input **inputFile, tt *countersign.TaskType, p *problems) *yaml.Node {
	before := len(p.errs)
	if fields.Kind != 0 {
		p.add("fields", "is declared by comparison (%s): remove fields", strings.Join(comparisonFieldOrder, ", "))
	}
	c := &countersign.Comparison{Mode: in.Mode, TiePolicy: in.TiePolicy, MaxCandidates: in.MaxCandidates, MaxResponseBytes: in.MaxResponseBytes, JudgeOrders: in.JudgeOrders}
	switch c.Mode {
	case "":
		c.Mode = countersign.ModeRankAll
	case countersign.ModeRankAll, countersign.ModePickBest, countersign.ModePairs:
	default:
		p.add("comparison.mode", "unknown mode %q (known: %s, %s, %s)", c.Mode, countersign.ModeRankAll, countersign.ModePickBest, countersign.ModePairs)
	}
	switch c.TiePolicy {
	case "":
		c.TiePolicy = countersign.TiesForbid
	case countersign.TiesForbid, countersign.TiesAllow:
	default:
		p.add("comparison.tie_policy", "unknown tie policy %q (known: %s, %s)", c.TiePolicy, countersign.TiesForbid, countersign.TiesAllow)
	}
	if c.MaxCandidates != 0 && (c.MaxCandidates < countersign.MinCandidates || c.MaxCandidates > countersign.MaxCandidatesLimit) {
		p.add("comparison.max_candidates", "must be from %d to %d (got %d)", countersign.MinCandidates, countersign.MaxCandidatesLimit, c.MaxCandidates)
	}
	if c.MaxResponseBytes < 0 {
		p.add("comparison.max_response_bytes", "must not be negative (got %d)", c.MaxResponseBytes)
	}
	if c.JudgeOrders != 0 && (c.JudgeOrders < 1 || c.JudgeOrders > countersign.MaxJudgeOrders) {
		p.add("comparison.judge_orders", "must be from 1 to %d (got %d); 2 shows the candidates as submitted and reversed", countersign.MaxJudgeOrders, c.JudgeOrders)
	}
	if len(in.Rubric) == 0 {
		p.add("comparison.rubric", "is empty: list the criteria, each {name, description, scale: {min, max}}")
	}
	seen := map[string]bool{}
	for i, r := range in.Rubric {
		at := fmt.Sprintf("comparison.rubric[%d]", i)
		switch {
		case !codePattern.MatchString(r.Name):
			p.add(at+".name", "must be lowercase letters, digits and underscores, starting with a letter (got %q)", r.Name)
		case seen[r.Name]:
			p.add(at+".name", "%q is listed twice", r.Name)
		}
		seen[r.Name] = true
		cr := countersign.Criterion{Name: r.Name, Description: strings.TrimSpace(r.Description)}
		switch s := r.Scale; {
		case s == nil || s.Min == nil || s.Max == nil:
			p.add(at+".scale", "needs min and max, such as {min: 1, max: 5}")
		case *s.Min < 0 || *s.Max > maxSeverity || *s.Min >= *s.Max:
			p.add(at+".scale", "must be a scale with 0 <= min < max <= %d (got min %d, max %d)", maxSeverity, *s.Min, *s.Max)
		default:
			cr.Scale = countersign.SeverityScale{Min: *s.Min, Max: *s.Max}
		}
		c.Criteria = append(c.Criteria, cr)
	}
	c.Generators = parseGenerators(in.Generators, c, tt, p)
	c.UnsafeReasons = parseReasonCodes(in.UnsafeReasons, "comparison.unsafe_reasons", p)
	c.UnacceptableReasons = parseReasonCodes(in.UnacceptableReasons, "comparison.unacceptable_reasons", p)
	if *input == nil {
		*input = &inputFile{Format: countersign.InputJSON, ID: "/id"}
	} else if (*input).Format != countersign.InputJSON {
		p.add("input.format", "a comparison's items are JSON: set format: json (or leave input out)")
	}
	if len(p.errs) > before {
		return nil
	}
	tt.Comparison = c
	type property map[string]any
	scores := property{}
	reasons := property{}
	var names []string
	for _, cr := range c.Criteria {
		desc := fmt.Sprintf("Each candidate's %s, from %d (worst) to %d (best).", cr.Name, cr.Scale.Min, cr.Scale.Max)
		if cr.Description != "" {
			desc = cr.Description + " " + desc
		}
		scores[cr.Name] = property{"type": "object", "description": desc,
			"additionalProperties": property{"type": "integer", "minimum": cr.Scale.Min, "maximum": cr.Scale.Max}}
		reasons[cr.Name] = property{"type": "string", "maxLength": 2000}
		names = append(names, cr.Name)
	}
	schema := struct {
		Type                 string   `yaml:"type"`
		AdditionalProperties bool     `yaml:"additionalProperties"`
		Required             []string `yaml:"required"`
		Properties           struct {
			Ranking         property `yaml:"ranking"`
			Scores          property `yaml:"scores"`
			Reasons         property `yaml:"reasons"`
			Unsafe          property `yaml:"unsafe"`
			AllUnacceptable property `yaml:"all_unacceptable"`
			Improved        property `yaml:"improved_response"`
		} `yaml:"properties"`
	}{Type: "object", Required: []string{countersign.FieldRanking}}
	schema.Properties.Ranking = property{"type": "array", "minItems": 1, "maxItems": countersign.MaxCandidatesLimit,
		"description": "The candidates' IDs, best first; a list of IDs in place of one ranks them equal.",
		"items": property{"anyOf": []property{
			{"type": "string"},
			{"type": "array", "minItems": 2, "uniqueItems": true, "items": property{"type": "string"}},
		}}}
	schema.Properties.Scores = property{"type": "object", "additionalProperties": false, "required": names, "properties": scores,
		"description": "Per rubric criterion, each candidate's score."}
	schema.Properties.Reasons = property{"type": "object", "additionalProperties": false, "properties": reasons,
		"description": "Per rubric criterion, why the candidates scored as they did."}
	schema.Properties.Unsafe = property{"type": "array", "uniqueItems": true, "items": property{
		"type": "object", "additionalProperties": false, "required": []string{"candidate", "code"},
		"properties": property{"candidate": property{"type": "string"}, "code": property{"type": "string", "enum": codesOf(c.UnsafeReasons)}}},
		"description": "Candidates that are unsafe, each with a reason code."}
	schema.Properties.AllUnacceptable = property{"type": "string", "enum": codesOf(c.UnacceptableReasons),
		"description": "Set when no candidate is acceptable: the reason code."}
	schema.Properties.Improved = property{"type": "string", "minLength": 1, "maxLength": c.ResponseLimit(),
		"description": "A better response than every candidate, written by a person."}
	raw, err := yaml.Marshal(schema)
	if err != nil {
		p.add("comparison", "%v", err)
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) != 1 {
		p.add("comparison", "cannot be written as a schema: %v", err)
		return nil
	}
	return doc.Content[0]
}

// generatorName is what a generator's name may look like: it begins the
// IDs of its candidates, which are typed in the CLI and appear in exports.
var generatorName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)

// parseGenerators checks a comparison's generators: each names a model and
// a temperature, and its endpoint and key as model settings do; names are
// distinct (g1, g2, ... by place when left out) and so are the candidate
// IDs they give; together they make from MinCandidates to the task type's
// maximum candidates (exactly 2 in pairs mode). Generating needs a model:
// the extractor is openai or auto.
func parseGenerators(in []generatorFile, c *countersign.Comparison, tt *countersign.TaskType, p *problems) []countersign.Generator {
	if len(in) == 0 {
		return nil
	}
	if tt.Extractor.Kind == countersign.ExtractorRules {
		p.add("comparison.generators", "need a model to generate candidates, but the extractor is rules: set extractor: openai (or auto)")
	}
	var out []countersign.Generator
	names, ids := map[string]bool{}, map[string]string{}
	total := 0
	for i, g := range in {
		at := fmt.Sprintf("comparison.generators[%d]", i)
		gen := countersign.Generator{Name: g.Name, Model: strings.TrimSpace(g.Model), BaseURL: g.BaseURL, APIKeyEnv: g.APIKeyEnv, Seed: g.Seed, MaxOutputTokens: g.MaxOutputTokens, Count: 1}
		if gen.Name == "" {
			gen.Name = fmt.Sprintf("g%d", i+1)
		}
		switch {
		case !generatorName.MatchString(gen.Name):
			p.add(at+".name", "must be 1 to 40 letters, digits, '_', '.' or '-', starting with a letter or digit (got %q): it begins its candidates' IDs", gen.Name)
		case names[gen.Name]:
			p.add(at+".name", "%q is listed twice: each generator needs its own name", gen.Name)
		}
		names[gen.Name] = true
		switch {
		case gen.Model == "":
			p.add(at+".model", "is required: name the model that writes the candidates (it is recorded with each)")
		case len(gen.Model) > 200:
			p.add(at+".model", "is %d bytes; at most 200", len(gen.Model))
		}
		switch t := g.Temperature; {
		case t == nil:
			p.add(at+".temperature", "is required (0 to %d): it is recorded with each candidate", maxTemperature)
		case *t < 0 || *t > maxTemperature:
			p.add(at+".temperature", "must be from 0 to %d (got %g)", maxTemperature, *t)
		default:
			gen.Temperature = *t
		}
		if g.Count != nil {
			gen.Count = *g.Count
			if gen.Count < 1 || gen.Count > countersign.MaxCandidatesLimit {
				p.add(at+".count", "must be from 1 to %d (got %d)", countersign.MaxCandidatesLimit, gen.Count)
				gen.Count = 1
			}
		}
		if g.Temperature != nil && *g.Temperature == 0 && gen.Count > 1 && g.Seed == nil {
			p.add(at+".count", "%d candidates at temperature 0 are the same answer: raise the temperature, give a seed, or make one", gen.Count)
		}
		if gen.MaxOutputTokens < 0 {
			p.add(at+".max_output_tokens", "must not be negative")
		}
		if g.Seed != nil && (*g.Seed < -maxSeed || *g.Seed > maxSeed) {
			// The seed is recorded with each candidate and read back as a
			// JSON number: past 2^53 it would not read back as written.
			p.add(at+".seed", "must be within ±%d (got %d)", maxSeed, *g.Seed)
		}
		checkEndpoint(at+".base_url", gen.BaseURL, p)
		checkKeyEnv(at+".api_key_env", gen.APIKeyEnv, p)
		for _, id := range gen.CandidateIDs() {
			if other, ok := ids[id]; ok && other != gen.Name {
				p.add(at+".name", "gives candidate ID %q, which generator %s gives too: rename one", id, other)
			}
			ids[id] = gen.Name
		}
		total += gen.Count
		out = append(out, gen)
	}
	switch most := c.CandidateLimit(); {
	case c.Mode == countersign.ModePairs && total != 2:
		p.add("comparison.generators", "make %d candidates; in pairs mode an item has exactly 2", total)
	case total < countersign.MinCandidates:
		p.add("comparison.generators", "make %d candidate(s); a comparison needs at least %d: add a generator or raise a count", total, countersign.MinCandidates)
	case total > most:
		p.add("comparison.generators", "make %d candidates; this task type takes at most %d (comparison.max_candidates)", total, most)
	case total*c.ResponseLimit() > MaxGeneratedBytes:
		// Generated candidates travel in the drafting activity's result,
		// through Temporal's history (submitted ones stay in the store).
		p.add("comparison.generators", "make %d candidates of up to %d bytes each (comparison.max_response_bytes), %d in all, over the %d a draft carried through the workflow's history may hold: lower max_response_bytes or the counts",
			total, c.ResponseLimit(), total*c.ResponseLimit(), MaxGeneratedBytes)
	}
	return out
}

// MaxGeneratedBytes bounds the generated candidates of an item (their
// count times comparison.max_response_bytes): they travel in the drafting
// activity's result, and Temporal refuses a payload over 2 MiB.
const MaxGeneratedBytes = 1 << 20

// maxSeed bounds a generator's seed: the largest integer a JSON number
// (float64) holds exactly.
const maxSeed = 1<<53 - 1

// parseReasonCodes checks a list of reason codes: at least one, each a
// code once.
func parseReasonCodes(in []reasonFile, at string, p *problems) []countersign.ReasonCode {
	if len(in) == 0 {
		p.add(at, "is empty: list the reason codes, each {code, description}")
	}
	seen := map[string]bool{}
	var out []countersign.ReasonCode
	for i, r := range in {
		where := fmt.Sprintf("%s[%d].code", at, i)
		switch {
		case !codePattern.MatchString(r.Code):
			p.add(where, "must be lowercase letters, digits and underscores, starting with a letter (got %q)", r.Code)
		case seen[r.Code]:
			p.add(where, "%q is listed twice", r.Code)
		}
		seen[r.Code] = true
		out = append(out, countersign.ReasonCode{Code: r.Code, Description: strings.TrimSpace(r.Description)})
	}
	return out
}

func codesOf(list []countersign.ReasonCode) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.Code
	}
	return out
}
