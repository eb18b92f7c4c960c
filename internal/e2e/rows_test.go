package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// TestVerifyHoldsRowsSQLite: the whole stack decides a document; then its
// final fields and its decision's actor are edited in the database file,
// one at a time, as someone with access to it could. GET /v1/audit/verify,
// through the real route, names each; put back, the store verifies again.
func TestVerifyHoldsRowsSQLite(t *testing.T) {
	ctx := context.Background()
	a := startApp(t, "", app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	doc := submitAndDecide(t, u, "contract-review", "msa-northwind-harbor.txt",
		api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"party_b": "Harbor Freight Logistics, LLC"}})
	if doc.Status != countersign.StatusAccepted || len(doc.Decisions) != 1 {
		t.Fatalf("document = %+v", doc)
	}
	// Delivery follows the decision's answer; its event ends the run.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		events, err := u.auditor.Audit(ctx, doc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(events); n > 0 && events[n-1].Type == countersign.EventDocumentDelivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery recorded: %+v", events)
		}
	}
	report, err := u.auditor.VerifyAudit(ctx)
	if err != nil || !report.OK || report.Rows == nil || report.Rows.Documents != 1 || report.Rows.Decisions != 1 ||
		report.Rows.PartialDocuments+report.Rows.PartialDecisions != 0 {
		t.Fatalf("verify the untouched store = %+v (rows %+v), %v", report, report.Rows, err)
	}

	// The worker and the API keep the file open; a second connection edits it.
	raw, err := sqlite.Open(ctx, filepath.Join(a.Config.DataDir, app.StoreDB))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.DB().ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	decision := doc.Decisions[0]
	var final string
	if err := raw.DB().QueryRowContext(ctx, `SELECT final FROM documents WHERE id = ?`, doc.ID).Scan(&final); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, edit, undo  string
		args              []any
		table, id, column string
		chainHas, rowHas  string
	}{
		{"final fields", `UPDATE documents SET final = json_set(final, '$.fields.party_b', 'Evil Corp') WHERE id = ?`,
			`UPDATE documents SET final = ? WHERE id = ?`, []any{final, doc.ID},
			"documents", doc.ID, "final.fields", "Harbor Freight Logistics, LLC", "Evil Corp"},
		{"decision actor", `UPDATE decisions SET actor = 'mallory' WHERE id = ?`,
			`UPDATE decisions SET actor = ? WHERE id = ?`, []any{decision.Actor, decision.ID},
			"decisions", decision.ID, "actor", `"anna"`, `"mallory"`},
	} {
		exec(tc.edit, tc.args[len(tc.args)-1])
		report, err := u.auditor.VerifyAudit(ctx)
		m := report.Mismatch
		if err != nil || report.OK || report.Broken != nil || m == nil {
			t.Fatalf("%s edited: verify = %+v, %v; want a mismatch", tc.name, report, err)
		}
		if m.Table != tc.table || m.ID != tc.id || m.Column != tc.column || m.DocumentID != doc.ID ||
			!strings.Contains(string(m.Chain), tc.chainHas) || !strings.Contains(string(m.Row), tc.rowHas) || m.Event == nil {
			t.Fatalf("%s edited: mismatch = %+v (chain %s, row %s)", tc.name, m, m.Chain, m.Row)
		}
		exec(tc.undo, tc.args...)
		if report, err := u.auditor.VerifyAudit(ctx); err != nil || !report.OK {
			t.Fatalf("%s put back: verify = %+v, %v", tc.name, report, err)
		}
	}
}
