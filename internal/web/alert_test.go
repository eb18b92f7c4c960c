package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/tasktype"
)

// seedAlert stores the example's credential-stuffing alert with a verdict
// draft whose label rests on /src_endpoint/ip, and opens its review.
func seedAlert(t *testing.T, f *fixture) (docID, reviewID string) {
	t.Helper()
	ctx := context.Background()
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	tt, err := types.Get("soc-alert-triage")
	if err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile("../../examples/soc-alert-triage/samples/credential-stuffing.json")
	if err != nil {
		t.Fatal(err)
	}
	const id = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	doc := &countersign.Document{ID: id, TaskType: tt.Name, TaskTypeVersion: tt.Version, Content: string(content), ContentSHA256: id,
		Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: f.now.Add(-time.Hour)}
	if _, _, err := f.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	draft := &countersign.Draft{
		Fields: countersign.Fields{"label": "true_positive", "severity": float64(4),
			"reason_codes": []any{"credential_compromise", "confirmed_malicious"}, "rationale": "2 logins succeeded"},
		Evidence: map[string]countersign.Evidence{
			"label":    {Quote: "203.0.113.7", Pointer: "/src_endpoint/ip"},
			"severity": {Quote: "412", Pointer: "/evidences/0/data/failed_logins"},
		},
		Extractor: countersign.ExtractorOpenAI, Model: "gpt-test-1",
	}
	status := countersign.StatusAwaitingReview
	if err := f.store.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &status, Draft: draft}); err != nil {
		t.Fatal(err)
	}
	r := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: tt.Name, Kind: countersign.ReviewGate, Status: countersign.ReviewPending,
		CreatedAt: f.now.Add(-time.Hour), DueAt: f.now.Add(time.Hour), Confidence: 0.5}
	if err := f.store.OpenReview(ctx, r); err != nil {
		t.Fatal(err)
	}
	return id, r.ID
}

func TestAlertReviewPage(t *testing.T) {
	f := newFixture(t)
	docID, reviewID := seedAlert(t, f)
	rita := f.as(countersign.RoleReviewer)
	page := rita.get("/ui/reviews/" + reviewID)
	if page.status != http.StatusOK {
		t.Fatalf("review page = %d:\n%s", page.status, page.body)
	}
	fields := map[string]string{}
	for _, m := range regexp.MustCompile(`data-field="(\d+)">\s*<div class="field-head">\s*<(?:label for="field-\d+"|span) class="field-name">([a-z_]+)<`).FindAllStringSubmatch(page.body, -1) {
		fields[m[2]] = m[1]
	}
	label, severity := fields["label"], fields["severity"]
	if label == "" || severity == "" {
		t.Fatalf("no label or severity field on the page:\n%s", page.body)
	}
	want := []string{
		// The tree, its pointed nodes marked with their fields and anchored.
		`<div class="doc-tree" id="doc-tree"`,
		`<li data-pointer="/src_endpoint/ip"><span class="anchor" id="ev-` + label + `"></span><span class="jn-key">ip</span>: <mark data-f="` + label + `" class="jn-string">203.0.113.7</mark> <span class="ev-label">label</span></li>`,
		`<li data-pointer="/evidences/0/data/failed_logins"><span class="anchor" id="ev-` + severity + `"></span><span class="jn-key">failed_logins</span>: <mark data-f="` + severity + `" class="jn-number">412</mark> <span class="ev-label">severity</span></li>`,
		`<span class="jn-key">city</span>: <span class="jn-string">Amsterdam</span>`,
		// The field links to its node.
		`<a href="#ev-` + label + `" data-evidence="` + label + `" data-nav>“203.0.113.7” <span class="mono">at /src_endpoint/ip</span></a>`,
		// The text view is kept, folded.
		`<details class="doc-details" id="doc-text-view"><summary>The alert as text</summary>`,
		// The verdict's controls.
		`<option value="true_positive" selected>true_positive</option>`,
		`name="field.severity" type="number" step="1" inputmode="numeric" value="4" min="1" max="5"`,
		`<input type="checkbox" name="field.reason_codes" value="credential_compromise" checked>`,
		`<input type="checkbox" name="field.reason_codes" value="known_scanner"> <span class="mono">known_scanner</span> <span class="muted">traffic from a vulnerability scanner the team runs</span>`,
	}
	for _, w := range want {
		if !strings.Contains(page.body, w) {
			t.Errorf("review page lacks %q", w)
		}
	}
	// Each anchor once: the text view does not repeat the tree's.
	if n := strings.Count(page.body, `id="ev-`+label+`"`); n != 1 {
		t.Errorf("anchor ev-%s %d times", label, n)
	}
	if t.Failed() {
		t.Fatalf("page:\n%s", page.body)
	}
	doc := rita.get("/ui/documents/" + docID)
	if doc.status != http.StatusOK || !strings.Contains(doc.body, `<mark data-f="`+label+`" class="jn-string">203.0.113.7</mark>`) {
		t.Errorf("document page = %d, no marked tree:\n%s", doc.status, doc.body)
	}

	// A correction reaches the decision as JSON types: a list of strings
	// in the taxonomy's order and an integer.
	got := rita.decide(reviewID, url.Values{"action": {"correct"}, "key": {"k1"},
		"field.label": {"false_positive"}, "field.severity": {"2"}, "field.rationale": {"2 logins succeeded"},
		"field.reason_codes": {"", "known_scanner", "credential_compromise"}})
	if got.status != http.StatusSeeOther {
		t.Fatalf("correction = %d:\n%s", got.status, got.body)
	}
	calls := f.decider.taken()
	if len(calls) != 1 {
		t.Fatalf("decisions = %+v", calls)
	}
	wantFields := countersign.Fields{"label": "false_positive", "severity": int64(2), "reason_codes": []any{"known_scanner", "credential_compromise"}}
	if !reflect.DeepEqual(calls[0].Req.Fields, wantFields) {
		t.Errorf("corrected fields = %#v, want %#v", calls[0].Req.Fields, wantFields)
	}

	// The same codes in another order change nothing; none checked is an
	// empty list, which the schema then checks.
	same := rita.decide(reviewID, url.Values{"action": {"correct"}, "key": {"k2"},
		"field.reason_codes": {"", "confirmed_malicious", "credential_compromise"}})
	if same.status != http.StatusUnprocessableEntity || !strings.Contains(same.body, "Nothing was changed") {
		t.Errorf("reordered codes = %d:\n%s", same.status, same.body)
	}
	outside := rita.decide(reviewID, url.Values{"action": {"correct"}, "key": {"k3"}, "field.reason_codes": {"", "made_up"}})
	if outside.status != http.StatusUnprocessableEntity || !strings.Contains(outside.body, "reason_codes") {
		t.Errorf("a code outside the taxonomy = %d:\n%s", outside.status, outside.body)
	}
	if calls := f.decider.taken(); len(calls) != 1 {
		t.Errorf("refused corrections reached the workflow: %+v", calls[1:])
	}
}

// TestEscalateFromTheReviewPage: an alert's review page escalates it to an
// incident, recorded in its trail; a reason is needed, a second send of
// the same form records nothing more, and a page of a task type without a
// verdict offers no escalation.
func TestEscalateFromTheReviewPage(t *testing.T) {
	f := newFixture(t)
	docID, reviewID := seedAlert(t, f)
	rita := f.as(countersign.RoleReviewer)
	page := rita.get("/ui/reviews/" + reviewID)
	if !strings.Contains(page.body, `action="/ui/reviews/`+reviewID+`/escalate"`) {
		t.Fatalf("the alert's review page offers no escalation:\n%s", page.body)
	}
	key := fieldValue(t, page.body, "key")
	escalate := func(form url.Values) answer {
		t.Helper()
		form.Set("csrf", rita.csrf)
		return rita.post("/ui/reviews/"+reviewID+"/escalate", form)
	}
	if a := escalate(url.Values{"key": {key}, "escalation_reason": {"  "}}); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "An escalation needs a reason") {
		t.Errorf("escalation without a reason = %d:\n%s", a.status, a.body)
	}
	if a := escalate(url.Values{"key": {key}, "escalation_reason": {"beaconing"}, "escalation_severity": {"high"}}); a.status != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, "severity must be a whole number") || !strings.Contains(a.body, ">beaconing</textarea>") {
		t.Errorf("escalation with a bad severity = %d, want 422 keeping the reason:\n%s", a.status, a.body)
	}
	form := url.Values{"key": {key}, "escalation_reason": {"2 logins succeeded from a stuffing source"}, "escalation_severity": {"5"}}
	first := escalate(form)
	if first.status != http.StatusOK || !strings.Contains(first.body, `id="escalated"`) || !strings.Contains(first.body, "No incident target is configured") {
		t.Fatalf("escalation = %d:\n%s", first.status, first.body)
	}
	if again := escalate(form); again.status != http.StatusOK {
		t.Fatalf("the same form again = %d:\n%s", again.status, again.body)
	}
	events, err := f.store.DocumentAudit(context.Background(), docID)
	if err != nil {
		t.Fatal(err)
	}
	var escalations []countersign.AuditEvent
	for _, e := range events {
		if e.Type == countersign.EventDocumentEscalated {
			escalations = append(escalations, e)
		}
	}
	if len(escalations) != 1 || escalations[0].Actor != "rita" || escalations[0].Channel != countersign.ChannelWeb ||
		!strings.Contains(string(escalations[0].Data), `"severity":5`) || !strings.Contains(string(escalations[0].Data), "stuffing source") {
		t.Fatalf("escalation events = %+v, want one by rita on the web with severity 5 and the reason", escalations)
	}
	if a := f.as(countersign.RoleAuditor).get("/ui/reviews/" + reviewID); strings.Contains(a.body, "/escalate\"") {
		t.Errorf("an auditor is offered escalation")
	}
	if a := rita.get("/ui/reviews/" + docA + "-r1"); a.status != http.StatusOK || strings.Contains(a.body, "/escalate\"") {
		t.Errorf("a contract's review page = %d offers escalation", a.status)
	}
	if a := rita.post("/ui/reviews/"+docA+"-r1/escalate", url.Values{"csrf": {rita.csrf}, "escalation_reason": {"x"}}); a.status != http.StatusForbidden {
		t.Errorf("escalating a contract = %d, want 403", a.status)
	}
}
