package tasktype

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/countersign/countersign"
)

// verdictFile is a task type's verdict as written in YAML.
type verdictFile struct {
	Labels   []string `yaml:"labels"`
	Severity *struct {
		Min *int `yaml:"min"`
		Max *int `yaml:"max"`
	} `yaml:"severity"`
	Reasons []struct {
		Code        string `yaml:"code"`
		Description string `yaml:"description"`
	} `yaml:"reasons"`
}

// codePattern is what a label or a reason code may look like: it is
// matched in rules (label == "true_positive") and typed by analysts.
var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// maxSeverity bounds the severity scale: a scale is a handful of steps.
const maxSeverity = 100

// parseVerdict checks a verdict and returns the fields schema it declares:
// label (enum), severity (integer on the scale), reason_codes (an array of
// the codes) and rationale (text). Label, severity and reason codes are
// required, so the document confidence is taken over them; the rationale
// is not, since the probability of a sentence's tokens says little about
// the verdict. A task type with a verdict declares no fields of its own.
// It returns nil when the verdict is wrong: its problems are reported,
// and a schema made from it would only repeat them.
func parseVerdict(in *verdictFile, fields *yaml.Node, tt *countersign.TaskType, p *problems) *yaml.Node {
	before := len(p.errs)
	if fields.Kind != 0 {
		p.add("fields", "is declared by verdict (label, severity, reason_codes, rationale): remove fields")
	}
	v := &countersign.Verdict{Labels: in.Labels}
	seen := map[string]bool{}
	if len(in.Labels) == 0 {
		p.add("verdict.labels", "is empty: list the labels a verdict may take, such as true_positive and false_positive")
	}
	for i, label := range in.Labels {
		at := fmt.Sprintf("verdict.labels[%d]", i)
		switch {
		case !codePattern.MatchString(label):
			p.add(at, "must be lowercase letters, digits and underscores, starting with a letter (got %q)", label)
		case seen[label]:
			p.add(at, "%q is listed twice", label)
		}
		seen[label] = true
	}
	switch s := in.Severity; {
	case s == nil:
		p.add("verdict.severity", "is missing: give the scale, such as {min: 1, max: 5}")
	case s.Min == nil || s.Max == nil:
		p.add("verdict.severity", "needs both min and max, such as {min: 1, max: 5}")
	case *s.Min < 0 || *s.Max > maxSeverity || *s.Min >= *s.Max:
		p.add("verdict.severity", "must be a scale with 0 <= min < max <= %d (got min %d, max %d)", maxSeverity, *s.Min, *s.Max)
	default:
		v.Severity = countersign.SeverityScale{Min: *s.Min, Max: *s.Max}
	}
	if len(in.Reasons) == 0 {
		p.add("verdict.reasons", "is empty: list the reason codes a verdict may give, each {code, description}")
	}
	codes := map[string]bool{}
	var described []string
	for i, r := range in.Reasons {
		at := fmt.Sprintf("verdict.reasons[%d].code", i)
		switch {
		case !codePattern.MatchString(r.Code):
			p.add(at, "must be lowercase letters, digits and underscores, starting with a letter (got %q)", r.Code)
		case codes[r.Code]:
			p.add(at, "%q is listed twice", r.Code)
		}
		codes[r.Code] = true
		desc := strings.TrimSpace(r.Description)
		v.Reasons = append(v.Reasons, countersign.ReasonCode{Code: r.Code, Description: desc})
		if desc != "" {
			described = append(described, r.Code+" ("+desc+")")
		} else {
			described = append(described, r.Code)
		}
	}
	if len(p.errs) > before {
		return nil
	}
	tt.Verdict = v
	codeList := make([]string, 0, len(v.Reasons))
	for _, r := range v.Reasons {
		codeList = append(codeList, r.Code)
	}
	type property map[string]any
	schema := struct {
		Type                 string   `yaml:"type"`
		AdditionalProperties bool     `yaml:"additionalProperties"`
		Required             []string `yaml:"required"`
		Properties           struct {
			Label       property `yaml:"label"`
			Severity    property `yaml:"severity"`
			ReasonCodes property `yaml:"reason_codes"`
			Rationale   property `yaml:"rationale"`
		} `yaml:"properties"`
	}{Type: "object", Required: []string{countersign.FieldLabel, countersign.FieldSeverity, countersign.FieldReasonCodes}}
	schema.Properties.Label = property{"type": "string", "enum": v.Labels,
		"description": "The verdict, one of: " + strings.Join(v.Labels, ", ") + "."}
	schema.Properties.Severity = property{"type": "integer", "minimum": v.Severity.Min, "maximum": v.Severity.Max,
		"description": fmt.Sprintf("Severity from %d (lowest) to %d (highest).", v.Severity.Min, v.Severity.Max)}
	schema.Properties.ReasonCodes = property{"type": "array", "uniqueItems": true,
		"items":       property{"type": "string", "enum": codeList},
		"description": "The reasons for the verdict, codes from: " + strings.Join(described, "; ") + "."}
	schema.Properties.Rationale = property{"type": "string", "maxLength": 2000,
		"description": "Why, in one to three sentences."}
	raw, err := yaml.Marshal(schema)
	if err != nil {
		p.add("verdict", "%v", err)
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) != 1 {
		p.add("verdict", "cannot be written as a schema: %v", err)
		return nil
	}
	return doc.Content[0]
}
