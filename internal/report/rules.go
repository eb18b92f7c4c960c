package report

import (
	"cmp"
	"context"
	"slices"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
)

// RuleMetadataKey is the metadata key that names an alert's detection
// rule; a verdict task type's input.map fills it.
const RuleMetadataKey = "rule_name"

// RuleFigures are the figures a SOC supervisor reads per detection rule,
// over the documents of one task type whose metadata names the rule
// (Rule "" gathers those that name none).
type RuleFigures struct {
	Rule string `json:"rule"`
	// Documents counts every document of the rule, decided or not.
	Documents int `json:"documents"`
	// Decided counts those whose final record holds a label.
	Decided int `json:"decided"`
	// FalsePositives counts the decided whose final label is
	// false_positive; FalsePositiveRate is their share of Decided.
	FalsePositives    int      `json:"false_positives"`
	FalsePositiveRate *float64 `json:"false_positive_rate"`
	// Automatic counts the decided closed without a person
	// (auto-accepted, and not vetoed); AutomaticRate is their share of
	// Decided.
	Automatic     int      `json:"automatic"`
	AutomaticRate *float64 `json:"automatic_rate"`
	// Vetoed counts the automatic closures a supervisor overrode within
	// the veto window (whatever the veto decided): a person settled
	// them, so they are not in Automatic, and a veto is not a random
	// draw, so they are not in Audited either.
	Vetoed int `json:"vetoed"`
	// Audited counts the automatic closures an analyst audited;
	// AuditChanged those the audit corrected, and EscapedTruePositives
	// those the audit turned into a true positive from another label.
	Audited              int `json:"audited"`
	AuditChanged         int `json:"audit_changed"`
	EscapedTruePositives int `json:"escaped_true_positives"`
	// EscapedBound is, with 95% confidence (Clopper-Pearson, one-sided),
	// the largest share of the rule's automatic closures that are escaped
	// true positives, from its audits; null before any audit, when nothing
	// is known. Audits are a random draw of the closures, so the bound
	// speaks for the ones nobody audited.
	EscapedBound *float64 `json:"escaped_true_positive_bound"`
	// MeanSecondsToVerdict is the mean time from submission to the
	// verdict that first stood (the automatic closure or the analyst's
	// decision), over Decided.
	MeanSecondsToVerdict *float64 `json:"mean_seconds_to_verdict"`
}

// labelTruePositive is the label an audit that finds an escaped attack
// gives.
const labelTruePositive = "true_positive"

// BuildByRule computes the figures of each detection rule of a verdict
// task type, the rules with the most documents first.
func BuildByRule(ctx context.Context, s countersign.DocumentStore, taskType string) ([]RuleFigures, error) {
	type acc struct {
		RuleFigures
		seconds float64
	}
	byRule := map[string]*acc{}
	err := s.ScanDocuments(ctx, countersign.DocumentFilter{TaskType: taskType}, func(d *countersign.Document) error {
		rule := d.Metadata[RuleMetadataKey]
		a := byRule[rule]
		if a == nil {
			a = &acc{RuleFigures: RuleFigures{Rule: rule}}
			byRule[rule] = a
		}
		a.Documents++
		f := d.Final
		if f == nil {
			return nil
		}
		if f.Vetoed {
			a.Vetoed++
		}
		label, ok := f.Fields[countersign.FieldLabel].(string)
		if !ok {
			return nil
		}
		a.Decided++
		a.seconds += f.DecidedAt.Sub(d.CreatedAt).Seconds()
		if label == countersign.LabelFalsePositive {
			a.FalsePositives++
		}
		if f.Vetoed || (f.Outcome != countersign.OutcomeAutoAccept && f.Outcome != countersign.OutcomeAutoAcceptWithAudit) {
			return nil
		}
		a.Automatic++
		if f.AuditedBy == "" {
			return nil
		}
		a.Audited++
		if f.CorrectedAfterAudit {
			a.AuditChanged++
			var drafted any
			if d.Draft != nil {
				drafted = d.Draft.Fields[countersign.FieldLabel]
			}
			if label == labelTruePositive && drafted != labelTruePositive {
				a.EscapedTruePositives++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]RuleFigures, 0, len(byRule))
	for _, a := range byRule {
		r := a.RuleFigures
		if r.Decided > 0 {
			n := float64(r.Decided)
			r.FalsePositiveRate = ptr(float64(r.FalsePositives) / n)
			r.AutomaticRate = ptr(float64(r.Automatic) / n)
			r.MeanSecondsToVerdict = ptr(a.seconds / n)
		}
		if r.Audited > 0 {
			bound, err := quality.UpperBound(quality.ClopperPearson, r.EscapedTruePositives, r.Audited, EscapedBoundLevel)
			if err != nil {
				return nil, err
			}
			r.EscapedBound = &bound
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RuleFigures) int {
		return cmp.Or(cmp.Compare(b.Documents, a.Documents), cmp.Compare(a.Rule, b.Rule))
	})
	return out, nil
}

func ptr(f float64) *float64 { return &f }

// EscapedBoundLevel is the confidence of RuleFigures.EscapedBound.
const EscapedBoundLevel = 0.95
