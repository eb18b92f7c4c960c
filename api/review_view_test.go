package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/auth"
)

// TestReviewView: GET /v1/reviews/{id} shows what a person decides on: the
// review, its document without its content, every field of the task type
// with its draft value, confidence, reasons and evidence, the least
// confident first (a missing required field before all), and the decisions
// made on this review only. A document's ID gets a 404 naming its review;
// a reviewer outside the task type's groups gets 403.
func TestReviewView(t *testing.T) {
	s := newServer(t, 0)
	ctx := context.Background()
	now := time.Now().UTC()
	contracts, err := s.types.Get("contract-review")
	if err != nil {
		t.Fatal(err)
	}
	// The fields are laid out by the version the document ran under.
	doc := &countersign.Document{ID: "d1", TaskType: "contract-review", TaskTypeVersion: contracts.Version, Content: "the secret body",
		ContentSHA256: "d1", Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: now}
	if _, _, err := s.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	draft := &countersign.Draft{
		Fields:   countersign.Fields{"party_a": "Northwind Analytics, Inc.", "term_months": 36},
		Evidence: map[string]countersign.Evidence{"party_a": {Quote: "Northwind Analytics, Inc.", Start: 10, End: 35}},
	}
	conf := &countersign.Confidence{Overall: 0, Fields: map[string]countersign.FieldScore{
		"party_a":     {Score: 0.97, Required: true},
		"term_months": {Score: 0.41, Reasons: []string{"the samples disagree"}},
	}}
	if err := s.store.UpdateDocument(ctx, "d1", countersign.DocumentUpdate{Draft: draft, Confidence: conf}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"d1-r1", "d1-r2"} {
		r := &countersign.Review{ID: id, DocumentID: "d1", TaskType: "contract-review", Status: countersign.ReviewPending, CreatedAt: now, DueAt: now.Add(time.Hour),
			Reasons: []string{"policy mode hitl: every document is reviewed by a person", `risk rule "high value" matched: has(fields.contract_value) && fields.contract_value > 1000000`}}
		if err := s.store.OpenReview(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.RecordDecision(ctx, &countersign.Decision{ID: "d1-r1/1", ReviewID: "d1-r1", DocumentID: "d1", Action: countersign.ActionReject, Reason: "not a contract", Actor: "rita", At: now}, true); err != nil {
		t.Fatal(err)
	}

	a := s.do(http.MethodGet, "/v1/reviews/d1-r2", s.tokens[countersign.RoleReviewer], "")
	if a.status != http.StatusOK {
		t.Fatalf("GET /v1/reviews/d1-r2 = %d %s", a.status, a.message())
	}
	raw, _ := json.Marshal(a.body)
	if strings.Contains(string(raw), "the secret body") {
		t.Fatalf("the view carries the document's content: %s", raw)
	}
	var view api.ReviewView
	if err := json.Unmarshal(raw, &view); err != nil {
		t.Fatal(err)
	}
	if view.Review.ID != "d1-r2" || view.Document.ID != "d1" || len(view.Review.Reasons) != 2 || len(view.Decisions) != 0 {
		t.Fatalf("view = %+v; want review d1-r2 of d1 with its reasons and no decision", view)
	}
	if len(view.Why) != 2 || view.Why[0].Text != view.Review.Reasons[0] || view.Why[0].Rule != "" ||
		!strings.HasPrefix(view.Why[1].Text, "Risk rule “high value”: the contract is worth more than 1,000,000") || !strings.HasPrefix(view.Why[1].Rule, "has(fields.contract_value)") {
		t.Fatalf("why = %+v; want the policy's reason as it is and the rule in the task type's words, its expression apart", view.Why)
	}
	var names []string
	for _, f := range view.Fields {
		names = append(names, f.Name)
	}
	// Not scored comes first (least confident), in the task type's order;
	// then term_months (0.41), then party_a (0.97).
	if len(names) < 4 || names[len(names)-1] != "party_a" || names[len(names)-2] != "term_months" || names[0] != "party_b" {
		t.Fatalf("fields in the order %v; want the unscored ones first (party_b leading), then term_months, then party_a", names)
	}
	first, last := view.Fields[0], view.Fields[len(view.Fields)-1]
	if first.Present || !first.Required || first.Confidence != nil {
		t.Fatalf("party_b = %+v; want a required field the draft lacks, not scored", first)
	}
	if !last.Present || last.Value != "Northwind Analytics, Inc." || last.Confidence == nil || *last.Confidence != 0.97 || last.Evidence == nil || last.Evidence.Quote != "Northwind Analytics, Inc." {
		t.Fatalf("party_a = %+v; want its value, confidence and evidence", last)
	}
	if tm := view.Fields[len(view.Fields)-2]; tm.Value != float64(36) || len(tm.Reasons) != 1 {
		t.Fatalf("term_months = %+v; want 36 with its reason", tm)
	}

	if a := s.do(http.MethodGet, "/v1/reviews/d1-r1", s.tokens[countersign.RoleAuditor], ""); a.status != http.StatusOK || !strings.Contains(string(must(json.Marshal(a.body))), "not a contract") {
		t.Fatalf("GET /v1/reviews/d1-r1 as an auditor = %d %s; want its decision", a.status, string(must(json.Marshal(a.body))))
	}
	if a := s.do(http.MethodGet, "/v1/reviews/d1", s.tokens[countersign.RoleReviewer], ""); a.status != http.StatusNotFound || !strings.Contains(a.message(), "d1 is a document; its reviews are d1-r2, d1-r1 (closed)") {
		t.Fatalf("GET /v1/reviews/<document ID> = %d %q; want 404 naming its reviews", a.status, a.message())
	}
	contracts.ReviewGroups = []string{"legal"}
	pete, _, err := auth.Issue(ctx, s.store, "test", countersign.ChannelCLI, "pete", countersign.RoleReviewer, 0, now, "claims")
	if err != nil {
		t.Fatal(err)
	}
	if a := s.do(http.MethodGet, "/v1/reviews/d1-r2", pete, ""); a.status != http.StatusForbidden {
		t.Fatalf("GET /v1/reviews/d1-r2 by a reviewer outside its groups = %d %q; want 403", a.status, a.message())
	}
}

func must(raw []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return raw
}
