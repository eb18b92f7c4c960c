package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// eventRow is one field an event records: a value drafted, decided or
// finalized, with how it changed where the event says.
type eventRow struct {
	Field, Value string
	// Change and Draft are set for a finalized document's diff.
	Change string
	Draft  string
}

// describe reads an event's data for an auditor: a sentence saying what
// happened, the fields it records as a table, and the rest of its values
// as labelled pairs (the keys the sentence and the table used are left
// out). The raw data goes behind a toggle, whole (rawData).
func describe(e countersign.AuditEvent) (sentence string, rows []eventRow, rest []pair) {
	var data map[string]any
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return "", nil, eventData(e.Data)
	}
	used := []string{"versions"}
	str := func(key string) string {
		s, _ := data[key].(string)
		return s
	}
	num := func(key string) (float64, bool) {
		f, ok := data[key].(float64)
		return f, ok
	}
	switch e.Type {
	case countersign.EventDocumentReceived:
		sentence = fmt.Sprintf("%s submitted a %s document", e.Actor, str("task_type"))
		if n, ok := num("characters"); ok {
			sentence += fmt.Sprintf(" of %.0f characters", n)
		}
		if meta, ok := data["metadata"].(map[string]any); ok {
			if name, ok := meta["filename"].(string); ok && name != "" {
				sentence += ", file " + name
			}
		}
		if ext := str("external_id"); ext != "" {
			sentence += ", external ID " + ext
		}
		if batch := str("batch"); batch != "" {
			sentence += ", in batch " + batch
		}
		sentence += "."
		used = append(used, "characters", "task_type", "external_id", "batch")
	case countersign.EventDraftCreated:
		fields, _ := data["fields"].(map[string]any)
		by := str("extractor")
		if model := str("model"); model != "" {
			by += ", model " + model
		}
		sentence = fmt.Sprintf("Drafted %d fields (%s).", len(fields), or(by, "extractor not recorded"))
		evidence, _ := data["evidence"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			row := eventRow{Field: name, Value: clip(dataValue(fields[name]))}
			if ev, ok := evidence[name].(map[string]any); ok {
				if quote, ok := ev["quote"].(string); ok {
					row.Draft = clip(quote)
				}
			}
			rows = append(rows, row)
		}
		used = append(used, "fields", "evidence", "extractor", "model")
		if str("error") == "" {
			used = append(used, "error")
		}
	case countersign.EventCandidatesGenerated:
		list, _ := data["candidates"].([]any)
		sentence = fmt.Sprintf("Generated %d candidates for the prompt; each row names the model that wrote one, its parameters and its response's SHA-256.", len(list))
		for _, entry := range list {
			c, _ := entry.(map[string]any)
			id, _ := c["id"].(string)
			model, _ := c["model"].(string)
			sum, _ := c["response_sha256"].(string)
			rows = append(rows, eventRow{Field: id, Value: clip("model " + model + " " + dataValue(c["params"]) + " sha256 " + sum)})
		}
		used = append(used, "candidates")
	case countersign.EventDraftFailed, countersign.EventDocumentFailed:
		sentence = "Failed: " + or(str("error"), "no reason recorded") + "."
		used = append(used, "error")
	case countersign.EventConfidenceScored:
		sentence = "Scored the draft"
		if overall, ok := num("overall"); ok {
			sentence += fmt.Sprintf(": overall confidence %.2f", overall)
		}
		if weakest := str("weakest"); weakest != "" {
			sentence += ", weakest field " + weakest
		}
		sentence += "."
		fields, _ := data["fields"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			score, _ := fields[name].(map[string]any)
			row := eventRow{Field: name, Value: "—"}
			if s, ok := score["score"].(float64); ok {
				row.Value = fmt.Sprintf("%.2f", s)
			}
			if reasons, ok := score["reasons"].([]any); ok {
				row.Draft = clip(dataValue(reasons))
			}
			rows = append(rows, row)
		}
		used = append(used, "fields", "overall", "weakest")
	case countersign.EventRouteDecided:
		sentence = fmt.Sprintf("Routed to %s under policy mode %s.", humanWords(str("outcome")), str("mode"))
		used = append(used, "outcome", "mode")
	case countersign.EventReviewOpened:
		sentence = fmt.Sprintf("Opened review %s", str("review_id"))
		if due, err := time.Parse(time.RFC3339Nano, str("due_at")); err == nil {
			sentence += ", due " + when(due)
		}
		sentence += "."
		used = append(used, "review_id", "due_at")
	case countersign.EventDecisionRecorded:
		action := countersign.Action(str("action"))
		review := "the review"
		if id := str("review_id"); id != "" {
			review = "review " + id
		}
		sentence = fmt.Sprintf("%s (%s) %s %s", e.Actor, or(str("role"), "role not recorded"), action.PastTense(), review)
		if reason := str("reason"); reason != "" {
			sentence += ": " + clip(reason)
		}
		sentence += "."
		fields, _ := data["fields"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			rows = append(rows, eventRow{Field: name, Value: clip(dataValue(fields[name]))})
		}
		used = append(used, "action", "role", "review_id", "reason", "fields")
	case countersign.EventDocumentFinalized:
		sentence = fmt.Sprintf("Finalized: %s", or(str("status"), "status not recorded"))
		if outcome := str("outcome"); outcome != "" {
			sentence += " (" + humanWords(outcome) + ")"
		}
		changed := 0
		diff, _ := data["diff"].([]any)
		for _, d := range diff {
			c, _ := d.(map[string]any)
			change, _ := c["change"].(string)
			field, _ := c["field"].(string)
			if change != string(countersign.ChangeUnchanged) {
				changed++
			}
			rows = append(rows, eventRow{Field: field, Change: change, Draft: shownOrDash(c["draft"]), Value: shownOrDash(c["final"])})
		}
		if diff != nil {
			sentence += fmt.Sprintf(", %d of %d fields changed from the draft", changed, len(diff))
		}
		sentence += "."
		used = append(used, "status", "outcome", "diff", "fields")
	case countersign.EventReviewClaimed, countersign.EventReviewReleased, countersign.EventReviewClaimLapsed:
		review := or(str("review_id"), "the review")
		until := ""
		if t, err := time.Parse(time.RFC3339Nano, str("claimed_until")); err == nil {
			until = when(t)
		}
		switch e.Type {
		case countersign.EventReviewClaimed:
			sentence = fmt.Sprintf("%s claimed review %s", e.Actor, review)
			if until != "" {
				sentence += " until " + until
			}
		case countersign.EventReviewReleased:
			sentence = fmt.Sprintf("%s released %s's claim on review %s", e.Actor, or(str("holder"), "someone"), review)
		default:
			sentence = fmt.Sprintf("%s's claim on review %s lapsed", or(str("holder"), "someone"), review)
			if until != "" {
				sentence += " at " + until
			}
		}
		sentence += "."
		used = append(used, "review_id", "claimed_until", "holder")
	case countersign.EventReviewAssigned:
		review, to := or(str("review_id"), "the review"), str("to")
		who := e.Actor + " assigned"
		if e.Actor == countersign.SystemActor {
			who = "The task type's " + strings.ReplaceAll(or(str("strategy"), "assignment"), "_", " ") + " assigned"
		}
		if to == "" {
			sentence = fmt.Sprintf("%s review %s to nobody: everyone who may decide it may take it", who, review)
		} else {
			sentence = fmt.Sprintf("%s review %s to %s", who, review, to)
		}
		if prev := str("previous"); prev != "" {
			sentence += fmt.Sprintf(" (it was %s's)", prev)
		}
		sentence += "."
		used = append(used, "review_id", "to", "previous", "strategy")
	case countersign.EventDocumentEscalated:
		sentence = fmt.Sprintf("%s (%s) escalated the document to an incident", e.Actor, or(str("role"), "role not recorded"))
		if sev, ok := data["severity"]; ok {
			sentence += ", severity " + dataValue(sev)
		}
		sentence += ": " + clip(str("reason")) + "."
		var stood []string
		if label, ok := data["document_label"]; ok {
			stood = append(stood, "label "+dataValue(label))
		}
		if sev, ok := data["document_severity"]; ok {
			stood = append(stood, "severity "+dataValue(sev))
		}
		if len(stood) > 0 {
			sentence += " The document then said " + strings.Join(stood, ", ") + "."
		}
		used = append(used, "role", "severity", "reason", "document_label", "document_severity")
	case countersign.EventDocumentDelivered:
		sentence = "Delivered the outcome"
		if hook, _ := data["webhook"].(bool); hook {
			sentence += " to the webhook"
		}
		sentence += "."
		used = append(used, "webhook")
	}
	if rules, ok := data["rules"].([]any); ok {
		var hits []string
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			kind, _ := rule["kind"].(string)
			name, _ := rule["name"].(string)
			when, _ := rule["when"].(string)
			hit := fmt.Sprintf("%s rule %q: %s", kind, name, when)
			if why, _ := rule["error"].(string); why != "" {
				hit += " (could not be evaluated: " + why + ")"
			}
			hits = append(hits, hit)
		}
		rest = append(rest, pair{"rules", clip(strings.Join(hits, "; "))})
		used = append(used, "rules")
	}
	for _, p := range eventData(e.Data) {
		// What the sentence or the table says, and values left empty, are
		// in the raw data only.
		if !slices.Contains(used, p.Key) && p.Value != "" && p.Value != "null" {
			rest = append(rest, p)
		}
	}
	return sentence, rows, rest
}

// shownOrDash is a value as the timeline shows it, or a dash for none (a
// field the draft or the final record lacks).
func shownOrDash(v any) string {
	if v == nil {
		return "—"
	}
	return clip(dataValue(v))
}

// rawData is an event's data as indented JSON, whole.
func rawData(raw json.RawMessage) string {
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return string(raw)
	}
	return out.String()
}

// humanWords is an identifier such as human_review in words.
func humanWords(s string) string { return strings.ReplaceAll(s, "_", " ") }
