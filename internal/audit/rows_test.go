package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// dialect opens an empty store and runs literal SQL on it behind its back.
type dialect struct {
	name string
	open func(t testing.TB) (countersign.Store, func(statement string) error)
}

var dialects = []dialect{
	{"sqlite", func(t testing.TB) (countersign.Store, func(string) error) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "countersign.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, func(q string) error { _, err := s.DB().ExecContext(context.Background(), q); return err }
	}},
	{"postgres", func(t testing.TB) (countersign.Store, func(string) error) {
		s, err := postgres.Open(context.Background(), pgtest.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, func(q string) error { _, err := s.Pool().Exec(context.Background(), q); return err }
	}},
}

type taskTypes struct{}

func (taskTypes) Version(context.Context, string) (*countersign.TaskType, error) {
	return &countersign.TaskType{Name: "contract-review", Version: "tt1"}, nil
}

func (taskTypes) Current(ctx context.Context, _ string) (*countersign.TaskType, error) {
	return taskTypes{}.Version(ctx, "")
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793123, time.UTC)

// story writes documents and decisions into s the way the workflow's
// activities do, one of each shape of run:
//
//	doc-corrected  a person corrects the draft; delivered
//	doc-rejected   a person rejects it
//	doc-audited    auto-accepted, delivered, then an audit corrects it
//	doc-vetoed     auto-accepted, then a veto rejects it
//	doc-failed     failed
//	doc-waiting    awaiting review
//	doc-old        corrected and delivered, recorded as a version before
//	               decided_at, at and delivered_at were in the events
func story(t *testing.T, s countersign.Store) {
	t.Helper()
	ctx := context.Background()
	clock := t0
	a := &activities.Activities{Store: s, TaskTypes: taskTypes{}, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { clock = clock.Add(time.Second); return clock }}
	steps := map[string]int{}
	step := func(doc string) activities.Step {
		steps[doc]++
		return activities.Step{EventID: fmt.Sprintf("review/%s/%d", doc, steps[doc]), DocumentID: doc, TaskTypeVersion: "tt1", PolicyVersion: "p1"}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	draft := &countersign.Draft{Fields: countersign.Fields{"party_a": "Acme Corp", "term_months": 12.5}, Extractor: "rules"}
	receive := func(doc string) {
		batch := ""
		if doc == "doc-corrected" {
			batch = "room-1"
		}
		_, _, err := s.CreateDocument(ctx, &countersign.Document{ID: doc, TaskType: "contract-review", TaskTypeVersion: "tt1", Batch: batch,
			Content: "text of " + doc, ContentSHA256: countersign.ContentSHA256("text of " + doc), Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: clock})
		must(err)
		must(a.Receive(ctx, activities.ReceiveInput{Step: step(doc), SubmittedBy: "sam", Channel: countersign.ChannelAPI, TaskType: "contract-review"}))
	}
	open := func(doc string, kind countersign.ReviewKind) string {
		id := doc + "-r" + fmt.Sprint(steps[doc])
		must(a.OpenReview(ctx, activities.OpenReviewInput{Step: step(doc), Review: &countersign.Review{ID: id, DocumentID: doc, TaskType: "contract-review",
			Kind: kind, Status: countersign.ReviewPending, CreatedAt: clock, DueAt: clock.Add(time.Hour), Confidence: 0.5, Reasons: []string{"low"}}}))
		return id
	}
	decide := func(doc, review string, action countersign.Action, fields countersign.Fields, reason string, role countersign.Role) *countersign.Decision {
		d := &countersign.Decision{ID: review + "/1", ReviewID: review, DocumentID: doc, Action: action, Fields: fields, Reason: reason,
			Actor: "rita", Role: role, Channel: countersign.ChannelWeb, At: clock.Add(1234567 * time.Nanosecond)}
		must(a.RecordDecision(ctx, activities.DecisionInput{Step: step(doc), Decision: d}))
		return d
	}
	finalize := func(doc string, outcome countersign.Outcome, d *countersign.Decision) *activities.FinalizeResult {
		r, err := a.Finalize(ctx, activities.FinalizeInput{Step: step(doc), Draft: draft, Outcome: outcome, Decision: d, At: clock})
		must(err)
		return r
	}
	deliver := func(doc string) {
		must(a.Deliver(ctx, activities.DeliverInput{Step: step(doc), Event: activities.WebhookFinalized, At: clock.Add(time.Minute)}))
	}

	receive("doc-corrected")
	r := open("doc-corrected", countersign.ReviewGate)
	finalize("doc-corrected", countersign.OutcomeHumanReview, decide("doc-corrected", r, countersign.ActionCorrect, countersign.Fields{"party_a": "Acme Corporation"}, "", countersign.RoleReviewer))
	deliver("doc-corrected")

	receive("doc-rejected")
	r = open("doc-rejected", countersign.ReviewGate)
	finalize("doc-rejected", countersign.OutcomeHumanReview, decide("doc-rejected", r, countersign.ActionReject, nil, "not the signed copy", countersign.RoleReviewer))

	receive("doc-audited")
	base := finalize("doc-audited", countersign.OutcomeAutoAcceptWithAudit, nil).Final.Fields
	deliver("doc-audited")
	r = open("doc-audited", countersign.ReviewAudit)
	d := decide("doc-audited", r, countersign.ActionCorrect, countersign.Fields{"term_months": 24}, "", countersign.RoleReviewer)
	_, err := a.Amend(ctx, activities.AmendInput{Step: step("doc-audited"), Kind: activities.AmendAudit, Draft: draft, Decision: d, Base: base})
	must(err)

	receive("doc-vetoed")
	base = finalize("doc-vetoed", countersign.OutcomeAutoAccept, nil).Final.Fields
	r = open("doc-vetoed", countersign.ReviewVeto)
	d = decide("doc-vetoed", r, countersign.ActionReject, nil, "wrong counterparty", countersign.RoleApprover)
	_, err = a.Amend(ctx, activities.AmendInput{Step: step("doc-vetoed"), Kind: activities.AmendVeto, Draft: draft, Decision: d, Base: base})
	must(err)

	receive("doc-failed")
	must(a.Fail(ctx, activities.FailInput{Step: step("doc-failed"), Reason: "extractor gone"}))

	receive("doc-waiting")
	open("doc-waiting", countersign.ReviewGate)

	// An earlier version's run: the same rows, events without decided_at,
	// at and delivered_at.
	receive("doc-old")
	r = open("doc-old", countersign.ReviewGate)
	old := &countersign.Decision{ID: r + "/1", ReviewID: r, DocumentID: "doc-old", Action: countersign.ActionCorrect,
		Fields: countersign.Fields{"party_a": "Acme Corporation"}, Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: clock}
	must(s.RecordDecision(ctx, old, true))
	record := func(typ, actor string, channel countersign.Channel, data map[string]any) {
		raw, err := audit.Canonical(data)
		must(err)
		_, err = s.AppendAudit(ctx, countersign.AuditEvent{ID: step("doc-old").EventID, DocumentID: "doc-old", Type: typ, Actor: actor, Channel: channel, At: clock, Data: raw})
		must(err)
	}
	record(countersign.EventDecisionRecorded, "rita", countersign.ChannelAPI, map[string]any{"review_id": r, "decision_id": old.ID,
		"action": old.Action, "fields": old.Fields, "reason": "", "role": old.Role})
	fields := countersign.Correct(draft.Fields, old.Fields)
	delivered := clock.Add(time.Minute)
	final := &countersign.Final{Fields: fields, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita",
		DecidedAt: clock, Diff: countersign.Diff(draft.Fields, fields), DeliveredAt: &delivered}
	accepted := countersign.StatusAccepted
	must(s.UpdateDocument(ctx, "doc-old", countersign.DocumentUpdate{Status: &accepted, Final: final}))
	record(countersign.EventDocumentFinalized, "rita", countersign.ChannelAPI, map[string]any{"status": accepted, "outcome": final.Outcome,
		"action": final.Action, "reason": "", "fields": final.Fields, "diff": final.Diff})
	record(countersign.EventDocumentDelivered, countersign.SystemActor, countersign.ChannelWorkflow, map[string]any{"event": activities.WebhookFinalized, "webhook": false})
}

// TestVerifyStoreHoldsRows: rows written as the activities write them verify
// on both stores; the run recorded before the events carried every column is
// counted as checked in part.
func TestVerifyStoreHoldsRows(t *testing.T) {
	for _, dia := range dialects {
		t.Run(dia.name, func(t *testing.T) {
			s, _ := dia.open(t)
			story(t, s)
			report, err := audit.VerifyStore(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			want := countersign.RowsChecked{Documents: 7, Decisions: 5, PartialDocuments: 1, PartialDecisions: 1}
			if !report.OK || report.Mismatch != nil || report.Rows == nil || *report.Rows != want {
				t.Fatalf("report = %+v, rows %+v, mismatch %+v; want OK with rows %+v", report, report.Rows, report.Mismatch, want)
			}
		})
	}
}

// TestVerifyStoreNamesTamperedRows edits one row at a time with SQL, as
// someone with the database's rights could, and wants verify to name it.
// The chain alone still verifies after each edit: that is the gap.
func TestVerifyStoreNamesTamperedRows(t *testing.T) {
	audit.QuickRechecks(t)
	type edit struct {
		name     string
		sqlite   string
		postgres string // empty: the same as sqlite
		table    string
		id       string
		column   string
		chain    string // in the chain's value
		row      string // in the row's value
	}
	for _, tc := range []edit{
		{name: "final fields", table: "documents", id: "doc-corrected", column: "final.fields", chain: `"party_a":"Acme Corporation"`, row: `"party_a":"Evil Corp"`,
			sqlite:   `UPDATE documents SET final = json_set(final, '$.fields.party_a', 'Evil Corp') WHERE id = 'doc-corrected'`,
			postgres: `UPDATE documents SET final = jsonb_set(final, '{fields,party_a}', '"Evil Corp"') WHERE id = 'doc-corrected'`},
		{name: "batch", table: "documents", id: "doc-rejected", column: "batch", chain: `""`, row: `"room-7"`,
			sqlite: `UPDATE documents SET batch = 'room-7' WHERE id = 'doc-rejected'`},
		{name: "batch named", table: "documents", id: "doc-corrected", column: "batch", chain: `"room-1"`, row: `""`,
			sqlite: `UPDATE documents SET batch = '' WHERE id = 'doc-corrected'`},
		{name: "status", table: "documents", id: "doc-rejected", column: "status", chain: `"rejected"`, row: `"accepted"`,
			sqlite: `UPDATE documents SET status = 'accepted' WHERE id = 'doc-rejected'`},
		{name: "status of a document awaiting review", table: "documents", id: "doc-waiting", column: "status", chain: `"awaiting_review"`, row: `"accepted"`,
			sqlite: `UPDATE documents SET status = 'accepted' WHERE id = 'doc-waiting'`},
		{name: "outcome", table: "documents", id: "doc-corrected", column: "final.outcome", chain: `"human_review"`, row: `"auto_accept"`,
			sqlite:   `UPDATE documents SET final = json_set(final, '$.outcome', 'auto_accept') WHERE id = 'doc-corrected'`,
			postgres: `UPDATE documents SET final = jsonb_set(final, '{outcome}', '"auto_accept"') WHERE id = 'doc-corrected'`},
		{name: "who decided", table: "documents", id: "doc-rejected", column: "final.decided_by", chain: `"rita"`, row: `"anna"`,
			sqlite:   `UPDATE documents SET final = json_set(final, '$.decided_by', 'anna') WHERE id = 'doc-rejected'`,
			postgres: `UPDATE documents SET final = jsonb_set(final, '{decided_by}', '"anna"') WHERE id = 'doc-rejected'`},
		{name: "when it was decided", table: "documents", id: "doc-corrected", column: "final.decided_at", row: `"2020-01-01T00:00:00.000000Z"`,
			sqlite:   `UPDATE documents SET final = json_set(final, '$.decided_at', '2020-01-01T00:00:00Z') WHERE id = 'doc-corrected'`,
			postgres: `UPDATE documents SET final = jsonb_set(final, '{decided_at}', '"2020-01-01T00:00:00Z"') WHERE id = 'doc-corrected'`},
		{name: "an audit's correction undone", table: "documents", id: "doc-audited", column: "final.fields", chain: `"term_months":24`, row: `"term_months":12.5`,
			sqlite:   `UPDATE documents SET final = json_set(final, '$.fields.term_months', 12.5) WHERE id = 'doc-audited'`,
			postgres: `UPDATE documents SET final = jsonb_set(final, '{fields,term_months}', '12.5') WHERE id = 'doc-audited'`},
		{name: "a veto hidden", table: "documents", id: "doc-vetoed", column: "final.vetoed", chain: `true`, row: `false`,
			sqlite:   `UPDATE documents SET final = json_remove(final, '$.vetoed') WHERE id = 'doc-vetoed'`,
			postgres: `UPDATE documents SET final = final - 'vetoed' WHERE id = 'doc-vetoed'`},
		{name: "a final record added", table: "documents", id: "doc-failed", column: "final", row: `"outcome":"auto_accept"`, chain: `null`,
			sqlite: `UPDATE documents SET final = '{"fields":{},"outcome":"auto_accept","decided_by":"countersign","decided_at":"2026-03-14T09:30:00Z","diff":[]}' WHERE id = 'doc-failed'`},
		{name: "old run's final fields", table: "documents", id: "doc-old", column: "final.fields", chain: `"party_a":"Acme Corporation"`, row: `"party_a":"Evil Corp"`,
			sqlite:   `UPDATE documents SET final = json_set(final, '$.fields.party_a', 'Evil Corp') WHERE id = 'doc-old'`,
			postgres: `UPDATE documents SET final = jsonb_set(final, '{fields,party_a}', '"Evil Corp"') WHERE id = 'doc-old'`},
		{name: "decision actor", table: "decisions", id: "doc-corrected-r1/1", column: "actor", chain: `"rita"`, row: `"mallory"`,
			sqlite: `UPDATE decisions SET actor = 'mallory' WHERE document_id = 'doc-corrected'`},
		{name: "decision action", table: "decisions", id: "doc-rejected-r1/1", column: "action", chain: `"reject"`, row: `"approve"`,
			sqlite: `UPDATE decisions SET action = 'approve' WHERE document_id = 'doc-rejected'`},
		{name: "decision fields", table: "decisions", id: "doc-corrected-r1/1", column: "fields", chain: `"Acme Corporation"`, row: `"Evil Corp"`,
			sqlite: `UPDATE decisions SET fields = '{"party_a": "Evil Corp"}' WHERE document_id = 'doc-corrected'`},
		{name: "decision reason", table: "decisions", id: "doc-rejected-r1/1", column: "reason", chain: `"not the signed copy"`, row: `"looked fine"`,
			sqlite: `UPDATE decisions SET reason = 'looked fine' WHERE document_id = 'doc-rejected'`},
		{name: "decision role", table: "decisions", id: "doc-vetoed-r2/1", column: "role", chain: `"approver"`, row: `"admin"`,
			sqlite: `UPDATE decisions SET role = 'admin' WHERE document_id = 'doc-vetoed'`},
		{name: "decision time", table: "decisions", id: "doc-audited-r3/1", column: "at", row: `"2020-01-01T00:00:00.000000Z"`,
			sqlite: `UPDATE decisions SET at = '2020-01-01T00:00:00.000000Z' WHERE document_id = 'doc-audited'`},
		{name: "old run's decision actor", table: "decisions", id: "doc-old-r1/1", column: "actor", chain: `"rita"`, row: `"mallory"`,
			sqlite: `UPDATE decisions SET actor = 'mallory' WHERE document_id = 'doc-old'`},
		{name: "decision removed", table: "decisions", id: "doc-rejected-r1/1", chain: `"action":"reject"`, row: `null`,
			sqlite: `DELETE FROM decisions WHERE document_id = 'doc-rejected'`},
		{name: "document removed", table: "documents", id: "doc-failed",
			sqlite: `DELETE FROM documents WHERE id = 'doc-failed'`},
	} {
		for _, dia := range dialects {
			t.Run(tc.name+"/"+dia.name, func(t *testing.T) {
				ctx := context.Background()
				s, exec := dia.open(t)
				story(t, s)
				statement := tc.sqlite
				if dia.name == "postgres" && tc.postgres != "" {
					statement = tc.postgres
				}
				if err := exec(statement); err != nil {
					t.Fatalf("%s: %v", statement, err)
				}
				if chain, err := audit.Verify(ctx, s); err != nil || !chain.OK {
					t.Fatalf("the edit broke the chain itself (%+v, %v): it should only touch rows", chain, err)
				}
				report, err := audit.VerifyStore(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				m := report.Mismatch
				if report.OK || m == nil || report.Broken != nil {
					t.Fatalf("after %s: report %+v, want a mismatch", statement, report)
				}
				if m.Table != tc.table || m.ID != tc.id || m.Column != tc.column ||
					!strings.Contains(string(m.Chain), tc.chain) || !strings.Contains(string(m.Row), tc.row) || !strings.Contains(m.Reason, tc.id) {
					t.Fatalf("mismatch = %s\nwant table %s, id %s, column %q, chain with %s, row with %s", show(m), tc.table, tc.id, tc.column, tc.chain, tc.row)
				}
				if tc.table == "documents" && tc.column != "final" && tc.column != "" && tc.column != "status" && m.Event == nil {
					t.Fatalf("mismatch names no event: %s", show(m))
				}
			})
		}
	}
}

func show(m *countersign.RowMismatch) string {
	raw, _ := json.Marshal(m)
	return string(raw)
}

// afterFirstRead is a store whose first batch of events is read just before
// a step records its event: the step's row is then ahead of what was read.
type afterFirstRead struct {
	countersign.Store
	step func()
}

func (s *afterFirstRead) AuditOfDocuments(ctx context.Context, ids, types []string) ([]countersign.AuditEvent, error) {
	events, err := s.Store.AuditOfDocuments(ctx, ids, types)
	if s.step != nil {
		s.step()
		s.step = nil
	}
	return events, err
}

// TestVerifyStoreWaitsForAStepInFlight: a step writes its row, then records
// its event. Verify reading in between looks again rather than cry wolf;
// a row whose event never comes is a mismatch.
func TestVerifyStoreWaitsForAStepInFlight(t *testing.T) {
	ctx := context.Background()
	s, _ := dialects[0].open(t)
	story(t, s)
	accepted := countersign.StatusAccepted
	final := &countersign.Final{Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionApprove, DecidedBy: "anna", DecidedAt: t0, Fields: countersign.Fields{"party_a": "Acme Corp"}}
	if err := s.UpdateDocument(ctx, "doc-waiting", countersign.DocumentUpdate{Status: &accepted, Final: final}); err != nil {
		t.Fatal(err)
	}
	record := func() {
		raw, _ := audit.Canonical(map[string]any{"status": accepted, "outcome": final.Outcome, "action": final.Action, "reason": "",
			"fields": final.Fields, "diff": nil, "decided_at": final.DecidedAt})
		if _, err := s.AppendAudit(ctx, countersign.AuditEvent{ID: "review/doc-waiting/9", DocumentID: "doc-waiting", Type: countersign.EventDocumentFinalized,
			Actor: "anna", Channel: countersign.ChannelAPI, At: t0, Data: raw}); err != nil {
			t.Error(err)
		}
	}
	if report, err := audit.VerifyStore(ctx, s); err != nil || report.OK || report.Mismatch == nil || report.Mismatch.ID != "doc-waiting" {
		t.Fatalf("a row whose event never came: %+v, %v; want a mismatch on doc-waiting", report, err)
	}
	report, err := audit.VerifyStore(ctx, &afterFirstRead{Store: s, step: record})
	if err != nil || !report.OK || report.Mismatch != nil {
		t.Fatalf("a row whose event came while verifying: %+v, %v; want OK", report, err)
	}
}
