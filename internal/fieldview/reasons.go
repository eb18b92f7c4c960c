package fieldview

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
)

// Reason is a reason a document went to a person, in words: a rule that
// matched is named with its description from the task type, and its
// expression (Rule) is kept for whoever asks (the web page shows it on
// hovering), not shown as the reason.
type Reason struct {
	Text string
	Rule string
}

// matchedRule reads the reason the route records for a rule that matched
// (workflows.ruleReasons): its kind, its quoted name and its expression.
var matchedRule = regexp.MustCompile(`(?s)^(risk|reject) rule ("(?:[^"\\]|\\.)*") matched: (.+)$`)

// Explain puts reasons in plain words, with the rules' descriptions from
// the first of types that gives one (the version the document ran under,
// then the current one; nil for one that is gone). A reason that is not a
// matched rule stays as it is.
func Explain(reasons []string, types ...*countersign.TaskType) []Reason {
	out := make([]Reason, 0, len(reasons))
	for _, reason := range reasons {
		m := matchedRule.FindStringSubmatch(reason)
		name, err := "", error(nil)
		if m != nil {
			name, err = strconv.Unquote(m[2])
		}
		if m == nil || err != nil {
			out = append(out, Reason{Text: reason})
			continue
		}
		kind := strings.ToUpper(m[1][:1]) + m[1][1:]
		text := kind + " rule “" + name + "” matched"
		for _, tt := range types {
			if d := ruleDescription(tt, m[1], name); d != "" {
				text = kind + " rule “" + name + "”: " + d
				break
			}
		}
		out = append(out, Reason{Text: text, Rule: strings.TrimSpace(m[3])})
	}
	return out
}

// ruleDescription is the description the task type gives the rule of that
// kind and name, if any.
func ruleDescription(tt *countersign.TaskType, kind, name string) string {
	if tt == nil {
		return ""
	}
	rules := tt.Policy.RiskRules
	if kind == countersign.RuleReject {
		rules = tt.Policy.RejectRules
	}
	for _, r := range rules {
		if r.Name == name {
			return r.Description
		}
	}
	return ""
}
