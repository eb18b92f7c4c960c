package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/fieldview"
)

// documentView is the document page's data: everything an auditor asks of
// one document.
type documentView struct {
	Doc *countersign.Document
	// RouteWhy is the route's reasons in plain words (fieldview.Explain).
	RouteWhy  []fieldview.Reason
	Reviews   []countersign.Review
	Decisions []countersign.Decision
	Events    []eventView
	// Recomputed counts the events whose hash recomputes from their own
	// fields; the chain check links them to the rest of the log.
	Recomputed int
	TraceIDs   []string
	Versions   []pair
	Diff       []diffRow
	Fields     []fieldView
	Text       []segment
	// Tree is the document laid out as a tree, for a task type whose
	// input is JSON (an alert); nil otherwise.
	Tree *jsonNode
	// Pages is the document's original page by page with the evidence
	// boxed, for a PDF; nil otherwise.
	Pages     *pagesView
	CanVerify bool
	Verify    *countersign.ChainReport
	// Decided is the action this person just took, to confirm it.
	Decided string
	// Hidden counts the decisions on a blind review still open kept from
	// this person (countersign.Review.Hides), and their trail events.
	Hidden int
}

// pair is a labelled value.
type pair struct {
	Key, Value string
}

// eventView is one audit event as the timeline shows it.
type eventView struct {
	countersign.AuditEvent
	Label string
	// Sentence says what happened; Rows are the fields the event records;
	// Data the rest of its values; Raw its data whole (describe).
	Sentence string
	Rows     []eventRow
	Data     []pair
	Raw      string
	HashOK   bool
}

// Diff is whether the event's rows are a finalized document's diff.
func (e eventView) Diff() bool { return e.Type == countersign.EventDocumentFinalized }

// Scores is whether the event's rows are confidence scores.
func (e eventView) Scores() bool { return e.Type == countersign.EventConfidenceScored }

// diffRow is one field of the diff between draft and final.
type diffRow struct {
	Field        string
	Change       countersign.Change
	Draft, Final string
}

// eventLabels say in words what each audit event records.
var eventLabels = map[string]string{
	countersign.EventDocumentReceived:    "Document received",
	countersign.EventCandidatesGenerated: "Candidates generated",
	countersign.EventDraftCreated:        "Draft created",
	countersign.EventDraftFailed:         "Draft failed",
	countersign.EventConfidenceScored:    "Confidence scored",
	countersign.EventRouteDecided:        "Route decided",
	countersign.EventReviewOpened:        "Review opened",
	countersign.EventDecisionRecorded:    "Decision recorded",
	countersign.EventDocumentFinalized:   "Document finalized",
	countersign.EventDocumentFailed:      "Document failed",
	countersign.EventDocumentDelivered:   "Outcome delivered",
	countersign.EventAuditSampled:        "Sampled for audit",
	countersign.EventAuditConfirmed:      "Audit confirmed the output",
	countersign.EventCorrectedAfterAudit: "Corrected after audit",
	countersign.EventDocumentVetoed:      "Vetoed",
	countersign.EventGoldSlipped:         "Gold item slipped in",
	countersign.EventReviewClaimed:       "Review claimed",
	countersign.EventReviewReleased:      "Claim released",
	countersign.EventReviewClaimLapsed:   "Claim lapsed",
	countersign.EventReviewAssigned:      "Review assigned",
	countersign.EventDocumentEscalated:   "Escalated to an incident",
}

func (h *handler) document(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	doc, err := h.Store.GetDocument(r.Context(), id)
	if err != nil {
		if errors.Is(err, countersign.ErrNotFound) {
			err = countersign.Errorf(countersign.CodeNotFound, "There is no document %s.", id)
		}
		h.fail(w, r, sess, err)
		return
	}
	if err := h.mayReview(sess, doc.TaskType); err != nil {
		h.fail(w, r, sess, err)
		return
	}
	v := &documentView{Doc: doc, CanVerify: may(sess.Role, verifyRoles), Decided: r.URL.Query().Get("decided")}
	if v.Reviews, err = h.Store.ReviewsForDocument(r.Context(), id); err != nil {
		h.fail(w, r, sess, err)
		return
	}
	if v.Decisions, err = h.Store.Decisions(r.Context(), id); err != nil {
		h.fail(w, r, sess, err)
		return
	}
	v.Decisions, v.Hidden = countersign.Visible(v.Reviews, v.Decisions, sess.Principal)
	events, err := h.Store.DocumentAudit(r.Context(), id)
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	events, _ = countersign.VisibleEvents(v.Reviews, events, sess.Principal)
	for _, e := range events {
		ev := eventView{AuditEvent: e, Label: eventLabels[e.Type], Raw: rawData(e.Data), HashOK: audit.Hash(e) == e.Hash}
		ev.Sentence, ev.Rows, ev.Data = describe(e)
		if ev.Label == "" {
			ev.Label = e.Type
		}
		if ev.HashOK {
			v.Recomputed++
		}
		v.Events = append(v.Events, ev)
		if e.TraceID != "" && !slices.Contains(v.TraceIDs, e.TraceID) {
			v.TraceIDs = append(v.TraceIDs, e.TraceID)
		}
	}
	// An old version whose snapshot is gone still has a trail to show:
	// the fields then follow the draft's order.
	tt, _ := h.resolver.Version(r.Context(), doc.TaskTypeVersion)
	v.Fields, v.Text, v.Tree = fieldViews(tt, doc)
	if v.Pages, err = h.pagesOf(r.Context(), doc, v.Fields); err != nil {
		h.fail(w, r, sess, err)
		return
	}
	if doc.Route != nil {
		v.RouteWhy = fieldview.Explain(doc.Route.Reasons, tt, h.taskType(doc.TaskType))
	}
	v.Versions = versions(doc)
	v.Diff = diff(doc)
	if v.CanVerify && r.URL.Query().Get("verify") != "" {
		report, err := audit.VerifyStore(r.Context(), h.Store)
		if err != nil {
			h.fail(w, r, sess, err)
			return
		}
		v.Verify = &report
	}
	h.render(w, r, http.StatusOK, "document", "", view{Title: "Document " + doc.ID, Session: sess, Data: v})
}

// verifyFragment recomputes the whole chain, checks the stored documents and
// decisions against it (audit.VerifyStore), and answers the result alone,
// for the document page's button.
func (h *handler) verifyFragment(w http.ResponseWriter, r *http.Request, sess *session) {
	report, err := audit.VerifyStore(r.Context(), h.Store)
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	h.render(w, r, http.StatusOK, "document", "chain-result", view{Session: sess, Data: &documentView{CanVerify: true, Verify: &report}})
}

// versions are what the document ran under: the task type, policy, model,
// prompt and calibration versions, from its lineage once final.
func versions(doc *countersign.Document) []pair {
	var taskType, policy, extractor, model, prompt, calibration string
	taskType = doc.TaskTypeVersion
	if doc.Route != nil {
		policy, calibration = doc.Route.PolicyVersion, doc.Route.Calibration
	}
	if doc.Draft != nil {
		extractor, model, prompt = doc.Draft.Extractor, doc.Draft.Model, doc.Draft.Prompt
	}
	if doc.Final != nil && doc.Final.Lineage != nil {
		l := doc.Final.Lineage
		taskType, policy = or(l.TaskTypeVersion, taskType), or(l.PolicyVersion, policy)
		extractor, model, prompt = or(l.Extractor, extractor), or(l.Model, model), or(l.Prompt, prompt)
		calibration = or(l.Calibration, calibration)
	}
	return []pair{
		{"Task type", doc.TaskType + " @ " + or(taskType, "—")},
		{"Policy", or(policy, "—")},
		{"Extractor", or(extractor, "—")},
		{"Model", or(model, "none (no model drafted it)")},
		{"Prompt", or(prompt, "—")},
		{"Calibration", or(calibration, "none")},
	}
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

// diff is the field-level diff between draft and final, once final.
func diff(doc *countersign.Document) []diffRow {
	if doc.Final == nil {
		return nil
	}
	changes := doc.Final.Diff
	if changes == nil && doc.Draft != nil {
		changes = countersign.Diff(doc.Draft.Fields, doc.Final.Fields)
	}
	rows := make([]diffRow, 0, len(changes))
	for _, c := range changes {
		rows = append(rows, diffRow{
			Field:  c.Field,
			Change: c.Change,
			Draft:  showValue(c.Draft, c.Change != countersign.ChangeAdded),
			Final:  showValue(c.Final, c.Change != countersign.ChangeRemoved),
		})
	}
	return rows
}

// maxShown bounds a value shown in the timeline, in characters.
const maxShown = 400

// eventData is an event's data as labelled values, in key order: texts as
// they are, lists of texts one after the other, anything else as JSON.
func eventData(raw json.RawMessage) []pair {
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		if len(raw) == 0 {
			return nil
		}
		return []pair{{"data", clip(string(raw))}}
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]pair, 0, len(keys))
	for _, k := range keys {
		out = append(out, pair{k, clip(dataValue(data[k]))})
	}
	return out
}

func dataValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		texts := make([]string, 0, len(x))
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				texts = nil
				break
			}
			texts = append(texts, s)
		}
		if texts != nil {
			return strings.Join(texts, "; ")
		}
	}
	// Not escaped for HTML: the template escapes what it shows, and
	// "&&" in a rule reads better than "\u0026\u0026".
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(out.String(), "\n")
}

func clip(s string) string {
	runes := []rune(s)
	if len(runes) <= maxShown {
		return s
	}
	return string(runes[:maxShown]) + "…"
}
