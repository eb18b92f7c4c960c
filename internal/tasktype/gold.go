package tasktype

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
)

// parseGold checks the gold items and returns them with the rate at which
// they are slipped into the queue. An answer must be a valid final output:
// it is what a reviewer's decision is scored against.
func parseGold(in *goldFile, tt *countersign.TaskType, p *problems) ([]countersign.GoldItem, float64) {
	if in == nil {
		return nil, 0
	}
	var rate float64
	switch r := in.Rate; {
	case r == nil:
		p.add("gold.rate", "is required: how many gold items per review opened, such as 0.05 (one after every twentieth review)")
	case math.IsNaN(*r) || *r <= 0 || *r > 1:
		p.add("gold.rate", "must be above 0 and at most 1 (got %v)", *r)
	default:
		rate = *r
	}
	if len(in.Items) == 0 {
		p.add("gold.items", "is empty: give at least one document with its known answer")
	}
	var compiled *schema.Schema
	if tt.Schema != nil {
		compiled, _ = schema.Compile(tt.Schema)
	}
	seen := map[string]bool{}
	items := make([]countersign.GoldItem, 0, len(in.Items))
	for i, item := range in.Items {
		at := fmt.Sprintf("gold.items[%d]", i)
		switch {
		case !namePattern.MatchString(item.ID):
			p.add(at+".id", "must be lowercase letters, digits and dashes (got %q)", item.ID)
		case seen[item.ID]:
			p.add(at+".id", "%q is used by an earlier item", item.ID)
		}
		seen[item.ID] = true
		switch {
		case strings.TrimSpace(item.Content) == "":
			p.add(at+".content", "is empty: give the document's text")
		case !utf8.ValidString(item.Content) || strings.ContainsRune(item.Content, 0):
			p.add(at+".content", "must be UTF-8 text without NUL characters")
		}
		answer := goldAnswer(item, at, compiled, p)
		items = append(items, countersign.GoldItem{ID: item.ID, Content: item.Content, Answer: answer, Reject: item.Reject})
	}
	return items, rate
}

// goldAnswer checks an item's answer against the schema and returns it as
// JSON values (YAML's integers become JSON numbers), so that it compares
// with decided fields as they arrive.
func goldAnswer(item goldItemFile, at string, compiled *schema.Schema, p *problems) countersign.Fields {
	switch {
	case item.Reject && item.Answer != nil:
		p.add(at, "gives both an answer and reject: a document to reject has no answer fields")
		return nil
	case item.Reject:
		return nil
	case len(item.Answer) == 0:
		p.add(at+".answer", "is missing: give the fields a correct review ends with, or reject: true")
		return nil
	}
	raw, err := json.Marshal(item.Answer)
	if err != nil {
		p.add(at+".answer", "cannot be written as JSON: %v", err)
		return nil
	}
	var answer countersign.Fields
	if err := json.Unmarshal(raw, &answer); err != nil {
		p.add(at+".answer", "%v", err)
		return nil
	}
	if compiled != nil {
		if err := compiled.Validate(answer); err != nil {
			p.add(at+".answer", "does not fit the fields schema: %v", err)
		}
	}
	return answer
}
