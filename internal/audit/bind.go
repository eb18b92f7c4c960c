package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// What the chain binds of a document, in the order they are compared: its
// status, whether it has a final record, and that record's parts. Each is
// set by the events that change it:
//
//   - status: processing until document.received or a gate's
//     review.opened (awaiting_review); then the status of document.finalized,
//     audit.confirmed, document.corrected_after_audit or document.vetoed;
//     failed after document.failed (which the reconciler records too, when
//     it abandons the review of a document that was not final);
//   - batch: document.received (no batch when its data names none);
//   - final.outcome: document.finalized;
//   - final.action, final.reason, final.decided_by (the event's actor) and
//     final.decided_at: document.finalized, then document.vetoed;
//   - final.fields and final.diff: document.finalized, then each audit or
//     veto;
//   - final.audited_by (the actor of an audit), final.vetoed,
//     final.corrected_after_audit: the audit and veto events;
//   - final.delivered_at: the first document.delivered.
//
// decided_at and delivered_at are in the events since they were added; a
// document recorded before is checked without them (partial).
var rowColumns = []string{
	"status", "batch", "final", "final.outcome", "final.action", "final.reason", "final.decided_by", "final.decided_at",
	"final.fields", "final.diff", "final.audited_by", "final.vetoed", "final.corrected_after_audit", "final.delivered_at",
}

// What the chain binds of a decision, from its decision.recorded event: the
// event's actor, channel and document, and its data's review_id, role,
// action, fields, reason and (since it was added; partial before) at.
var decisionColumns = []string{"review_id", "document_id", "actor", "role", "action", "fields", "reason", "channel", "at"}

// claim is what the chain says of one column, and which event said it.
type claim struct {
	// value is the column's value as compared (see value); nil when the
	// event predates recording it, and only present says anything.
	value   json.RawMessage
	present bool
	event   *countersign.EventRef
}

func (c claim) known() bool { return c.value != nil }

// docChain is what a document's events say of its rows.
type docChain struct {
	cols      map[string]claim
	decisions map[string]*decisionChain
	order     []string // decision IDs in event order
	// received counts the document.received events up to the verified head.
	received int64
}

type decisionChain struct {
	cols  map[string]claim
	event *countersign.EventRef
}

func (d *docChain) partial() bool {
	if !d.cols["final"].present {
		return false
	}
	return !d.cols["final.decided_at"].known() || (d.cols["final.delivered_at"].present && !d.cols["final.delivered_at"].known())
}

func (d *decisionChain) partial() bool { return !d.cols["at"].known() }

var (
	null        = json.RawMessage("null")
	jsonTrue    = json.RawMessage("true")
	jsonFalse   = json.RawMessage("false")
	empty       = value("")
	processing  = value(string(countersign.StatusProcessing))
	awaiting    = value(string(countersign.StatusAwaitingReview))
	failed      = value(string(countersign.StatusFailed))
	gateKind    = value(string(countersign.ReviewGate))
	noneClaimed = claim{value: processing, present: true}
)

// fold reads a document's events, in chain order, into what they say of its
// rows. An event whose hash does not recompute is not taken at its word.
func (c *rowChecker) fold(events []countersign.AuditEvent) *docChain {
	d := &docChain{cols: map[string]claim{"status": noneClaimed, "final": {value: jsonFalse}}, decisions: map[string]*decisionChain{}}
	for _, e := range events {
		if Hash(e) != e.Hash {
			continue
		}
		var data map[string]json.RawMessage
		if err := json.Unmarshal(e.Data, &data); err != nil {
			continue
		}
		at := ref(e)
		set := func(col string, v json.RawMessage) { d.cols[col] = claim{value: v, present: true, event: at} }
		fromData := func(col, key string, norm func(any) json.RawMessage) {
			raw, ok := data[key]
			if !ok {
				d.cols[col] = claim{present: true, event: at}
				return
			}
			set(col, norm(raw))
		}
		switch e.Type {
		case countersign.EventDocumentReceived:
			if e.Seq <= c.head {
				d.received++
			}
			set("status", processing)
			if raw, ok := data["batch"]; ok {
				set("batch", value(raw))
			} else {
				set("batch", empty)
			}
		case countersign.EventReviewOpened:
			if kind, ok := data["kind"]; !ok || string(value(kind)) == string(gateKind) {
				set("status", awaiting)
			}
		case countersign.EventDocumentFinalized:
			fromData("status", "status", value)
			set("final", jsonTrue)
			fromData("final.outcome", "outcome", value)
			fromData("final.action", "action", value)
			fromData("final.reason", "reason", value)
			set("final.decided_by", value(e.Actor))
			fromData("final.decided_at", "decided_at", timeValue)
			fromData("final.fields", "fields", emptyAsNull)
			fromData("final.diff", "diff", emptyAsNull)
			set("final.audited_by", empty)
			set("final.vetoed", jsonFalse)
			set("final.corrected_after_audit", jsonFalse)
			set("final.delivered_at", null)
		case countersign.EventAuditConfirmed, countersign.EventCorrectedAfterAudit, countersign.EventDocumentVetoed:
			fromData("status", "status", value)
			fromData("final.fields", "fields", emptyAsNull)
			fromData("final.diff", "diff", emptyAsNull)
			switch e.Type {
			case countersign.EventDocumentVetoed:
				fromData("final.action", "action", value)
				fromData("final.reason", "reason", value)
				set("final.decided_by", value(e.Actor))
				fromData("final.decided_at", "decided_at", timeValue)
				set("final.vetoed", jsonTrue)
			case countersign.EventCorrectedAfterAudit:
				set("final.audited_by", value(e.Actor))
				set("final.corrected_after_audit", jsonTrue)
			default:
				set("final.audited_by", value(e.Actor))
			}
		case countersign.EventDocumentFailed:
			set("status", failed)
		case countersign.EventDocumentDelivered:
			if prev := d.cols["final.delivered_at"]; !prev.present || string(prev.value) == "null" {
				fromData("final.delivered_at", "delivered_at", timeValue)
			}
		case countersign.EventDecisionRecorded:
			var id string
			if json.Unmarshal(data["decision_id"], &id) != nil || id == "" {
				continue
			}
			dc := &decisionChain{cols: map[string]claim{}, event: at}
			put := func(col string, v json.RawMessage) { dc.cols[col] = claim{value: v, present: true, event: at} }
			fromData := func(col, key string, norm func(any) json.RawMessage) {
				if raw, ok := data[key]; ok {
					put(col, norm(raw))
				} else {
					dc.cols[col] = claim{present: true, event: at}
				}
			}
			fromData("review_id", "review_id", value)
			put("document_id", value(e.DocumentID))
			put("actor", value(e.Actor))
			fromData("role", "role", value)
			fromData("action", "action", value)
			fromData("fields", "fields", emptyAsNull)
			fromData("reason", "reason", value)
			put("channel", value(string(e.Channel)))
			fromData("at", "at", timeValue)
			if _, seen := d.decisions[id]; !seen {
				d.order = append(d.order, id)
			}
			d.decisions[id] = dc
		}
	}
	return d
}

// compare holds a document's row and its decisions to what its events say,
// and names the first difference.
func compare(doc *countersign.Document, decisions []countersign.Decision, chain *docChain) *countersign.RowMismatch {
	row := documentRow(doc)
	for _, col := range rowColumns {
		want, ok := chain.cols[col]
		if !ok || !want.present && col != "final" {
			continue
		}
		got := row[col]
		var same bool
		switch {
		case col == "final":
			same = (string(want.value) == "true") == (doc.Final != nil)
		case !want.known():
			// Recorded before the value was: only whether there is one.
			same = string(got) != "null"
		default:
			same = string(want.value) == string(got)
		}
		if same {
			continue
		}
		m := &countersign.RowMismatch{Table: "documents", ID: doc.ID, DocumentID: doc.ID, Column: col, Chain: want.value, Row: got, Event: want.event}
		if col == "final" {
			m.Chain, m.Row = chain.finalValue(), null
			if doc.Final != nil {
				m.Row = value(doc.Final)
			}
		}
		if m.Chain == nil {
			m.Chain = null
		}
		m.Reason = reason(m)
		return m
	}
	rows := map[string]bool{}
	for _, d := range decisions {
		rows[d.ID] = true
		dc := chain.decisions[d.ID]
		if dc == nil {
			m := &countersign.RowMismatch{Table: "decisions", ID: d.ID, DocumentID: d.DocumentID, Chain: null, Row: value(d)}
			m.Reason = fmt.Sprintf("no %s event of document %s records decision %s", countersign.EventDecisionRecorded, d.DocumentID, d.ID)
			return m
		}
		got := decisionRow(d)
		for _, col := range decisionColumns {
			want := dc.cols[col]
			if !want.known() || string(want.value) == string(got[col]) {
				continue
			}
			m := &countersign.RowMismatch{Table: "decisions", ID: d.ID, DocumentID: d.DocumentID, Column: col, Chain: want.value, Row: got[col], Event: want.event}
			m.Reason = reason(m)
			return m
		}
	}
	for _, id := range chain.order {
		if rows[id] {
			continue
		}
		dc := chain.decisions[id]
		m := &countersign.RowMismatch{Table: "decisions", ID: id, DocumentID: doc.ID, Chain: dc.value(), Row: null, Event: dc.event}
		m.Reason = fmt.Sprintf("decision %s, recorded by event %d, has no row", id, dc.event.Seq)
		return m
	}
	return nil
}

func reason(m *countersign.RowMismatch) string {
	what := "document " + m.ID
	if m.Table == "decisions" {
		what = "decision " + m.ID
	}
	if m.Event == nil {
		return fmt.Sprintf("%s: %s is %s in the row; with no event recording a change, it is %s", what, m.Column, clip(m.Row), clip(m.Chain))
	}
	return fmt.Sprintf("%s: %s is %s in the row, but event %d (%s) recorded %s", what, m.Column, clip(m.Row), m.Event.Seq, m.Event.Type, clip(m.Chain))
}

// clip shortens a value for a sentence; the mismatch carries it whole.
func clip(v json.RawMessage) string {
	s := string(v)
	if r := []rune(s); len(r) > 120 {
		return string(r[:119]) + "…"
	}
	return s
}

// finalValue is the final record as the chain knows it, for a mismatch of
// its presence.
func (d *docChain) finalValue() json.RawMessage {
	if string(d.cols["final"].value) != "true" {
		return null
	}
	out := map[string]json.RawMessage{}
	for _, col := range rowColumns {
		if name, ok := strings.CutPrefix(col, "final."); ok && d.cols[col].known() {
			out[name] = d.cols[col].value
		}
	}
	return value(out)
}

// value is the decision as its event recorded it, for a missing row.
func (d *decisionChain) value() json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, col := range decisionColumns {
		if d.cols[col].known() {
			out[col] = d.cols[col].value
		}
	}
	return value(out)
}

// documentRow is a document row's bound columns as compared.
func documentRow(doc *countersign.Document) map[string]json.RawMessage {
	row := map[string]json.RawMessage{"status": value(string(doc.Status)), "batch": value(doc.Batch)}
	f := doc.Final
	if f == nil {
		return row
	}
	row["final.outcome"] = value(string(f.Outcome))
	row["final.action"] = value(string(f.Action))
	row["final.reason"] = value(f.Reason)
	row["final.decided_by"] = value(f.DecidedBy)
	row["final.decided_at"] = timeValue(f.DecidedAt)
	row["final.fields"] = emptyAsNull(f.Fields)
	row["final.diff"] = emptyAsNull(f.Diff)
	row["final.audited_by"] = value(f.AuditedBy)
	row["final.vetoed"] = value(f.Vetoed)
	row["final.corrected_after_audit"] = value(f.CorrectedAfterAudit)
	row["final.delivered_at"] = null
	if f.DeliveredAt != nil {
		row["final.delivered_at"] = timeValue(*f.DeliveredAt)
	}
	return row
}

// decisionRow is a decision row's bound columns as compared.
func decisionRow(d countersign.Decision) map[string]json.RawMessage {
	return map[string]json.RawMessage{
		"review_id":   value(d.ReviewID),
		"document_id": value(d.DocumentID),
		"actor":       value(d.Actor),
		"role":        value(string(d.Role)),
		"action":      value(string(d.Action)),
		"fields":      emptyAsNull(d.Fields),
		"reason":      value(d.Reason),
		"channel":     value(string(d.Channel)),
		"at":          timeValue(d.At),
	}
}

// value is v as compared: decoded as plain JSON (numbers as float64) and
// written canonically, so that a value compares equal however a store or an
// event wrote it (key order, white space, 1.50 or 1.5).
func value(v any) json.RawMessage {
	switch x := v.(type) {
	case string:
		return quote(x)
	case bool:
		if x {
			return jsonTrue
		}
		return jsonFalse
	case json.RawMessage:
		var s string
		if len(x) > 0 && x[0] == '"' && json.Unmarshal(x, &s) == nil {
			return quote(s)
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return quote(fmt.Sprint(v))
	}
	var plain any
	if err := json.Unmarshal(raw, &plain); err != nil {
		return raw
	}
	out, err := Canonical(plain)
	if err != nil {
		return raw
	}
	return out
}

// quote writes s as canonical JSON does.
func quote(s string) json.RawMessage {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return null
	}
	return json.RawMessage(strings.TrimSuffix(b.String(), "\n"))
}

// emptyAsNull is value, with an empty object or list written as null: no
// fields and an empty set of fields say the same, and stores keep either.
func emptyAsNull(v any) json.RawMessage {
	out := value(v)
	if s := string(out); s == "{}" || s == "[]" {
		return null
	}
	return out
}

// timeValue is a time as compared: UTC, to the microsecond, as stores
// keep it.
func timeValue(v any) json.RawMessage {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case json.RawMessage:
		var s string
		if json.Unmarshal(x, &s) != nil {
			return value(x)
		}
		parsed, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return value(x)
		}
		t = parsed
	default:
		return value(v)
	}
	return quote(Time(t).Format(TimeLayout))
}
