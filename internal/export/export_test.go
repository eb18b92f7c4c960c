package export_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/export"
)

// memStore serves documents from memory, applying the filter the way the
// real stores do. Only ScanDocuments is implemented: the embedded interface
// makes any other call panic.
type memStore struct {
	countersign.DocumentStore
	docs []*countersign.Document
	// scans are the filters ScanDocuments was called with.
	scans []countersign.DocumentFilter
}

func (s *memStore) ScanDocuments(ctx context.Context, f countersign.DocumentFilter, fn func(*countersign.Document) error) error {
	s.scans = append(s.scans, f)
	for _, d := range s.docs {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case f.TaskType != "" && d.TaskType != f.TaskType,
			len(f.Statuses) > 0 && !slices.Contains(f.Statuses, d.Status),
			!f.Since.IsZero() && d.CreatedAt.Before(f.Since),
			!f.Until.IsZero() && !d.CreatedAt.Before(f.Until):
			continue
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testDocuments are, oldest first: a draft a person approved unchanged; one a
// person corrected (a field changed, one added, one removed, with no stored
// diff); an auto-accepted one an audit corrected; one a person rejected; one
// whose extraction failed and a person filled in; one auto-accepted nobody
// looked at; and, of another task type, one a supervisor vetoed.
func testDocuments() []*countersign.Document {
	return []*countersign.Document{
		{
			ID: "doc-approved", TaskType: "contract", TaskTypeVersion: "tt1", Status: countersign.StatusAccepted,
			Content: "Acme <Holdings> & Co pays 1200.", CreatedAt: base,
			Draft:      &countersign.Draft{Fields: countersign.Fields{"amount": 1200.0, "party": "Acme <Holdings> & Co"}, Extractor: "openai", Model: "gpt-x", Prompt: "p1"},
			Confidence: scores(map[string]float64{"amount": 0.97, "party": 0.9}),
			Route:      &countersign.Route{Outcome: countersign.OutcomeHumanReview, PolicyVersion: "pol1"},
			Final: &countersign.Final{
				Fields:  countersign.Fields{"amount": 1200.0, "party": "Acme <Holdings> & Co"},
				Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionApprove, DecidedBy: "rita", DecidedAt: base.Add(30 * time.Minute),
				Diff: []countersign.FieldChange{
					{Field: "amount", Change: countersign.ChangeUnchanged, Draft: 1200.0, Final: 1200.0},
					{Field: "party", Change: countersign.ChangeUnchanged, Draft: "Acme <Holdings> & Co", Final: "Acme <Holdings> & Co"},
				},
			},
		},
		{
			ID: "doc-corrected", TaskType: "contract", TaskTypeVersion: "tt1", Status: countersign.StatusAccepted,
			Content: "Beta Ltd owes 100 within 12 months.", CreatedAt: base.Add(time.Hour),
			Draft:      &countersign.Draft{Fields: countersign.Fields{"amount": 100.0, "notes": "check", "party": "Beta Ltd"}, Extractor: "openai", Model: "gpt-x", Prompt: "p1"},
			Confidence: scores(map[string]float64{"amount": 0.4, "notes": 0.55, "party": 0.99}),
			Route:      &countersign.Route{Outcome: countersign.OutcomeHumanReview, PolicyVersion: "pol1"},
			Final: &countersign.Final{
				Fields:  countersign.Fields{"amount": 150.0, "party": "Beta Ltd", "term": "12 months"},
				Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "sam",
				DecidedAt: time.Date(2026, 3, 2, 11, 20, 0, 123456789, time.FixedZone("CET", 3600)),
			},
		},
		{
			ID: "doc-audited", TaskType: "contract", TaskTypeVersion: "tt2", Status: countersign.StatusAccepted,
			Content: "Gamma & Sons, 3 < 4.", CreatedAt: base.Add(2 * time.Hour),
			Draft:      &countersign.Draft{Fields: countersign.Fields{"amount": 30.0, "party": "Gamma"}, Extractor: "openai", Model: "gpt-x", Prompt: "p2"},
			Confidence: scores(map[string]float64{"amount": 0.91, "party": 0.88}),
			Route:      &countersign.Route{Outcome: countersign.OutcomeAutoAcceptWithAudit, PolicyVersion: "pol2"},
			Final: &countersign.Final{
				Fields:  countersign.Fields{"amount": 30.0, "party": "Gamma & Sons"},
				Outcome: countersign.OutcomeAutoAcceptWithAudit, DecidedBy: countersign.SystemActor, DecidedAt: base.Add(2*time.Hour + time.Minute),
				Diff: []countersign.FieldChange{
					{Field: "amount", Change: countersign.ChangeUnchanged, Draft: 30.0, Final: 30.0},
					{Field: "party", Change: countersign.ChangeCorrected, Draft: "Gamma", Final: "Gamma & Sons"},
				},
				CorrectedAfterAudit: true, AuditedBy: "vera",
				Lineage: &countersign.Lineage{
					TaskTypeVersion: "tt2", PolicyVersion: "pol2", Extractor: "openai", Model: "gpt-x-0301", Prompt: "p2",
					Reviewers: []string{"vera"}, AuditEvents: []string{"ev-31", "ev-32"},
				},
			},
		},
		{
			ID: "doc-rejected", TaskType: "contract", TaskTypeVersion: "tt1", Status: countersign.StatusRejected,
			Content: "Not a contract.", CreatedAt: base.Add(3 * time.Hour),
			Draft: &countersign.Draft{Fields: countersign.Fields{"party": "?"}, Extractor: "openai", Model: "gpt-x", Prompt: "p1"},
			Route: &countersign.Route{Outcome: countersign.OutcomeHumanReview, PolicyVersion: "pol1"},
			Final: &countersign.Final{Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionReject, Reason: "not a contract", DecidedBy: "rita", DecidedAt: base.Add(3*time.Hour + time.Minute)},
		},
		{
			ID: "doc-failed", TaskType: "contract", TaskTypeVersion: "tt1", Status: countersign.StatusAccepted,
			Content: "Delta GmbH, 7 EUR.", CreatedAt: base.Add(4 * time.Hour),
			Draft:      &countersign.Draft{Extractor: "openai", Model: "gpt-x", Prompt: "p1", Error: "model timed out"},
			Confidence: &countersign.Confidence{Reasons: []string{"no draft"}},
			Route:      &countersign.Route{Outcome: countersign.OutcomeHumanReview, PolicyVersion: "pol1"},
			Final: &countersign.Final{
				Fields:  countersign.Fields{"amount": 7.0, "party": "Delta GmbH"},
				Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita", DecidedAt: base.Add(4*time.Hour + 5*time.Minute),
			},
		},
		{
			ID: "doc-auto", TaskType: "contract", TaskTypeVersion: "tt1", Status: countersign.StatusAccepted,
			Content: "Epsilon AG, 55.", CreatedAt: base.Add(5 * time.Hour),
			Draft:      &countersign.Draft{Fields: countersign.Fields{"amount": 55.0, "party": "Epsilon AG"}, Extractor: "rules"},
			Confidence: scores(map[string]float64{"amount": 1, "party": 1}),
			Route:      &countersign.Route{Outcome: countersign.OutcomeAutoAccept, PolicyVersion: "pol1"},
			Final: &countersign.Final{
				Fields:  countersign.Fields{"amount": 55.0, "party": "Epsilon AG"},
				Outcome: countersign.OutcomeAutoAccept, DecidedBy: countersign.SystemActor, DecidedAt: base.Add(5 * time.Hour),
				Diff: []countersign.FieldChange{
					{Field: "amount", Change: countersign.ChangeUnchanged, Draft: 55.0, Final: 55.0},
					{Field: "party", Change: countersign.ChangeUnchanged, Draft: "Epsilon AG", Final: "Epsilon AG"},
				},
			},
		},
		{
			ID: "doc-vetoed", TaskType: "invoice", TaskTypeVersion: "inv1", Status: countersign.StatusAccepted,
			Content: "Invoice 9 from Zeta.", CreatedAt: base.Add(6 * time.Hour),
			Draft:      &countersign.Draft{Fields: countersign.Fields{"number": "9", "vendor": "Zeta"}, Extractor: "openai", Model: "gpt-x", Prompt: "p9"},
			Confidence: scores(map[string]float64{"number": 0.95, "vendor": 0.6}),
			Route:      &countersign.Route{Outcome: countersign.OutcomeAutoAccept, PolicyVersion: "polI"},
			Final: &countersign.Final{
				Fields:  countersign.Fields{"number": "9", "vendor": "Zeta Corp"},
				Outcome: countersign.OutcomeAutoAccept, Action: countersign.ActionCorrect, DecidedBy: "vic", DecidedAt: base.Add(6*time.Hour + 10*time.Minute),
				Diff: []countersign.FieldChange{
					{Field: "number", Change: countersign.ChangeUnchanged, Draft: "9", Final: "9"},
					{Field: "vendor", Change: countersign.ChangeCorrected, Draft: "Zeta", Final: "Zeta Corp"},
				},
				Vetoed: true,
			},
		},
	}
}

func scores(byField map[string]float64) *countersign.Confidence {
	c := &countersign.Confidence{Fields: map[string]countersign.FieldScore{}}
	for name, score := range byField {
		c.Fields[name] = countersign.FieldScore{Score: score, Raw: score}
	}
	return c
}

// fakeGuidelines serves the guideline of each task type version and counts
// the calls.
type fakeGuidelines struct {
	calls map[string]int
}

func (g *fakeGuidelines) get(_ context.Context, version string) (*countersign.TaskType, error) {
	g.calls[version]++
	if version == "tt9" { // the comparison task type of comparison_test.go
		return &countersign.TaskType{Name: "ranking", Guideline: "Rank the answers.", Comparison: &countersign.Comparison{
			Criteria: []countersign.Criterion{{Name: "helpfulness", Scale: countersign.SeverityScale{Min: 1, Max: 5}}}}}, nil
	}
	text, ok := map[string]string{
		"tt1":  "Extract the party & the amount <in EUR>.",
		"tt2":  "Extract party and amount.",
		"inv1": "Extract the invoice number and vendor.",
	}[version]
	if !ok {
		return nil, errors.New("unknown version " + version)
	}
	return &countersign.TaskType{Guideline: text}, nil
}

// The metadata of each exported document, as every JSONL format writes it.
const (
	metaApproved  = `{"document_id":"doc-approved","task_type":"contract","task_type_version":"tt1","policy_version":"pol1","model":"gpt-x","prompt_version":"p1","extractor":"openai","decided_by":"rita","action":"approve","outcome":"human_review","corrected_after_audit":false,"disposition":"analyst","audited_by":"","reviewers":["rita"],"audit_events":[],"changed_fields":[]}`
	metaCorrected = `{"document_id":"doc-corrected","task_type":"contract","task_type_version":"tt1","policy_version":"pol1","model":"gpt-x","prompt_version":"p1","extractor":"openai","decided_by":"sam","action":"correct","outcome":"human_review","corrected_after_audit":false,"disposition":"analyst","audited_by":"","reviewers":["sam"],"audit_events":[],"changed_fields":["amount","notes","term"]}`
	metaAudited   = `{"document_id":"doc-audited","task_type":"contract","task_type_version":"tt2","policy_version":"pol2","model":"gpt-x-0301","prompt_version":"p2","extractor":"openai","decided_by":"countersign","action":"","outcome":"auto_accept_with_audit","corrected_after_audit":true,"disposition":"analyst","audited_by":"vera","reviewers":["vera"],"audit_events":["ev-31","ev-32"],"changed_fields":["party"]}`
	metaFailed    = `{"document_id":"doc-failed","task_type":"contract","task_type_version":"tt1","policy_version":"pol1","model":"gpt-x","prompt_version":"p1","extractor":"openai","decided_by":"rita","action":"correct","outcome":"human_review","corrected_after_audit":false,"disposition":"analyst","audited_by":"","reviewers":["rita"],"audit_events":[],"changed_fields":["amount","party"]}`
	metaAuto      = `{"document_id":"doc-auto","task_type":"contract","task_type_version":"tt1","policy_version":"pol1","model":"","prompt_version":"","extractor":"rules","decided_by":"countersign","action":"","outcome":"auto_accept","corrected_after_audit":false,"disposition":"automatic","audited_by":"","reviewers":[],"audit_events":[],"changed_fields":[]}`
	metaVetoed    = `{"document_id":"doc-vetoed","task_type":"invoice","task_type_version":"inv1","policy_version":"polI","model":"gpt-x","prompt_version":"p9","extractor":"openai","decided_by":"vic","action":"correct","outcome":"auto_accept","corrected_after_audit":false,"disposition":"analyst","audited_by":"","reviewers":["vic"],"audit_events":[],"changed_fields":["vendor"]}`
)

const (
	systemTT1  = `{"role":"system","content":"Extract the party & the amount <in EUR>."}`
	systemTT2  = `{"role":"system","content":"Extract party and amount."}`
	systemInv1 = `{"role":"system","content":"Extract the invoice number and vendor."}`
)

func TestRunFormats(t *testing.T) {
	for _, tc := range []struct {
		format export.Format
		want   []string
		counts export.Counts
		// guidelineCalls is how often each version's guideline is fetched.
		guidelineCalls map[string]int
	}{
		{
			format: export.SFT,
			want: []string{
				`{"messages":[` + systemTT1 + `,{"role":"user","content":"Acme <Holdings> & Co pays 1200."},{"role":"assistant","content":"{\"amount\":1200,\"party\":\"Acme <Holdings> & Co\"}"}],"metadata":` + metaApproved + `}`,
				`{"messages":[` + systemTT1 + `,{"role":"user","content":"Beta Ltd owes 100 within 12 months."},{"role":"assistant","content":"{\"amount\":150,\"party\":\"Beta Ltd\",\"term\":\"12 months\"}"}],"metadata":` + metaCorrected + `}`,
				`{"messages":[` + systemTT2 + `,{"role":"user","content":"Gamma & Sons, 3 < 4."},{"role":"assistant","content":"{\"amount\":30,\"party\":\"Gamma & Sons\"}"}],"metadata":` + metaAudited + `}`,
				`{"messages":[` + systemTT1 + `,{"role":"user","content":"Delta GmbH, 7 EUR."},{"role":"assistant","content":"{\"amount\":7,\"party\":\"Delta GmbH\"}"}],"metadata":` + metaFailed + `}`,
				`{"messages":[` + systemTT1 + `,{"role":"user","content":"Epsilon AG, 55."},{"role":"assistant","content":"{\"amount\":55,\"party\":\"Epsilon AG\"}"}],"metadata":` + metaAuto + `}`,
				`{"messages":[` + systemInv1 + `,{"role":"user","content":"Invoice 9 from Zeta."},{"role":"assistant","content":"{\"number\":\"9\",\"vendor\":\"Zeta Corp\"}"}],"metadata":` + metaVetoed + `}`,
			},
			counts:         export.Counts{Scanned: 6, Exported: 6, Lines: 6},
			guidelineCalls: map[string]int{"tt1": 1, "tt2": 1, "inv1": 1},
		},
		{
			// Only documents whose final differs from a usable draft:
			// not the unchanged ones, not the one with a failed draft.
			format: export.Preference,
			want: []string{
				`{"prompt":[` + systemTT1 + `,{"role":"user","content":"Beta Ltd owes 100 within 12 months."}],"chosen":[{"role":"assistant","content":"{\"amount\":150,\"party\":\"Beta Ltd\",\"term\":\"12 months\"}"}],"rejected":[{"role":"assistant","content":"{\"amount\":100,\"notes\":\"check\",\"party\":\"Beta Ltd\"}"}],"metadata":` + metaCorrected + `}`,
				`{"prompt":[` + systemTT2 + `,{"role":"user","content":"Gamma & Sons, 3 < 4."}],"chosen":[{"role":"assistant","content":"{\"amount\":30,\"party\":\"Gamma & Sons\"}"}],"rejected":[{"role":"assistant","content":"{\"amount\":30,\"party\":\"Gamma\"}"}],"metadata":` + metaAudited + `}`,
				`{"prompt":[` + systemInv1 + `,{"role":"user","content":"Invoice 9 from Zeta."}],"chosen":[{"role":"assistant","content":"{\"number\":\"9\",\"vendor\":\"Zeta Corp\"}"}],"rejected":[{"role":"assistant","content":"{\"number\":\"9\",\"vendor\":\"Zeta\"}"}],"metadata":` + metaVetoed + `}`,
			},
			counts:         export.Counts{Scanned: 6, Exported: 3, Lines: 3},
			guidelineCalls: map[string]int{"tt1": 1, "tt2": 1, "inv1": 1},
		},
		{
			format: export.Eval,
			want: []string{
				`{"id":"doc-approved","task_type":"contract","input":"Acme <Holdings> & Co pays 1200.","expected":{"amount":1200,"party":"Acme <Holdings> & Co"},"metadata":` + metaApproved + `}`,
				`{"id":"doc-corrected","task_type":"contract","input":"Beta Ltd owes 100 within 12 months.","expected":{"amount":150,"party":"Beta Ltd","term":"12 months"},"metadata":` + metaCorrected + `}`,
				`{"id":"doc-audited","task_type":"contract","input":"Gamma & Sons, 3 < 4.","expected":{"amount":30,"party":"Gamma & Sons"},"metadata":` + metaAudited + `}`,
				`{"id":"doc-failed","task_type":"contract","input":"Delta GmbH, 7 EUR.","expected":{"amount":7,"party":"Delta GmbH"},"metadata":` + metaFailed + `}`,
				`{"id":"doc-auto","task_type":"contract","input":"Epsilon AG, 55.","expected":{"amount":55,"party":"Epsilon AG"},"metadata":` + metaAuto + `}`,
				`{"id":"doc-vetoed","task_type":"invoice","input":"Invoice 9 from Zeta.","expected":{"number":"9","vendor":"Zeta Corp"},"metadata":` + metaVetoed + `}`,
			},
			counts:         export.Counts{Scanned: 6, Exported: 6, Lines: 6},
			guidelineCalls: map[string]int{},
		},
		{
			format: export.CSV,
			want: []string{
				`document_id,task_type,task_type_version,field,change,draft_value,final_value,confidence,action,decided_by,decided_at,corrected_after_audit,disposition,model,prompt_version,policy_version,reviewers,audit_events`,
				`doc-approved,contract,tt1,amount,unchanged,1200,1200,0.97,approve,rita,2026-03-02T09:30:00Z,false,analyst,gpt-x,p1,pol1,rita,`,
				`doc-approved,contract,tt1,party,unchanged,"""Acme <Holdings> & Co""","""Acme <Holdings> & Co""",0.9,approve,rita,2026-03-02T09:30:00Z,false,analyst,gpt-x,p1,pol1,rita,`,
				`doc-corrected,contract,tt1,amount,corrected,100,150,0.4,correct,sam,2026-03-02T10:20:00.123456789Z,false,analyst,gpt-x,p1,pol1,sam,`,
				`doc-corrected,contract,tt1,notes,removed,"""check""",,0.55,correct,sam,2026-03-02T10:20:00.123456789Z,false,analyst,gpt-x,p1,pol1,sam,`,
				`doc-corrected,contract,tt1,party,unchanged,"""Beta Ltd""","""Beta Ltd""",0.99,correct,sam,2026-03-02T10:20:00.123456789Z,false,analyst,gpt-x,p1,pol1,sam,`,
				`doc-corrected,contract,tt1,term,added,,"""12 months""",,correct,sam,2026-03-02T10:20:00.123456789Z,false,analyst,gpt-x,p1,pol1,sam,`,
				`doc-audited,contract,tt2,amount,unchanged,30,30,0.91,,countersign,2026-03-02T11:01:00Z,true,analyst,gpt-x-0301,p2,pol2,vera,ev-31;ev-32`,
				`doc-audited,contract,tt2,party,corrected,"""Gamma""","""Gamma & Sons""",0.88,,countersign,2026-03-02T11:01:00Z,true,analyst,gpt-x-0301,p2,pol2,vera,ev-31;ev-32`,
				`doc-failed,contract,tt1,amount,added,,7,,correct,rita,2026-03-02T13:05:00Z,false,analyst,gpt-x,p1,pol1,rita,`,
				`doc-failed,contract,tt1,party,added,,"""Delta GmbH""",,correct,rita,2026-03-02T13:05:00Z,false,analyst,gpt-x,p1,pol1,rita,`,
				`doc-auto,contract,tt1,amount,unchanged,55,55,1,,countersign,2026-03-02T14:00:00Z,false,automatic,,,pol1,,`,
				`doc-auto,contract,tt1,party,unchanged,"""Epsilon AG""","""Epsilon AG""",1,,countersign,2026-03-02T14:00:00Z,false,automatic,,,pol1,,`,
				`doc-vetoed,invoice,inv1,number,unchanged,"""9""","""9""",0.95,correct,vic,2026-03-02T15:10:00Z,false,analyst,gpt-x,p9,polI,vic,`,
				`doc-vetoed,invoice,inv1,vendor,corrected,"""Zeta""","""Zeta Corp""",0.6,correct,vic,2026-03-02T15:10:00Z,false,analyst,gpt-x,p9,polI,vic,`,
			},
			counts:         export.Counts{Scanned: 6, Exported: 6, Lines: 14},
			guidelineCalls: map[string]int{},
		},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			guidelines := &fakeGuidelines{calls: map[string]int{}}
			var out strings.Builder
			var progress []export.Counts
			counts, err := export.Run(t.Context(), &memStore{docs: testDocuments()}, guidelines.get, export.Filter{}, tc.format, &out,
				func(c export.Counts) { progress = append(progress, c) })
			if err != nil {
				t.Fatal(err)
			}
			compareLines(t, out.String(), tc.want)
			if counts != tc.counts {
				t.Errorf("counts %+v, want %+v", counts, tc.counts)
			}
			if len(progress) != tc.counts.Scanned || progress[len(progress)-1] != counts {
				t.Errorf("progress %+v, want one call per document scanned ending with %+v", progress, counts)
			}
			for i, c := range progress {
				if c.Scanned != i+1 {
					t.Errorf("progress call %d: scanned %d", i, c.Scanned)
				}
			}
			if !countersign.SameValue(guidelines.calls, tc.guidelineCalls) {
				t.Errorf("guideline calls %v, want %v", guidelines.calls, tc.guidelineCalls)
			}
			if strings.Contains(out.String(), `\u003c`) || strings.Contains(out.String(), `\u0026`) || !strings.Contains(out.String(), "Gamma & Sons") {
				t.Errorf("HTML characters escaped:\n%s", out.String())
			}
		})
	}
}

// compareLines compares output line by line, so that a failure names the
// first line that differs.
func compareLines(t *testing.T, out string, want []string) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end with a newline: %q", out)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("line %d missing, want\n%s", i+1, want[i])
		case i >= len(want):
			t.Errorf("line %d extra:\n%s", i+1, got[i])
		case got[i] != want[i]:
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

// metadataKeys are the keys every JSONL record's metadata has.
var metadataKeys = []string{
	"document_id", "task_type", "task_type_version", "policy_version", "model", "prompt_version", "extractor",
	"decided_by", "action", "outcome", "corrected_after_audit", "disposition", "audited_by", "reviewers", "audit_events", "changed_fields",
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func TestSFTLinesParse(t *testing.T) {
	docs := testDocuments()
	out := run(t, docs, export.Filter{}, export.SFT)
	byID := map[string]*countersign.Document{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var rec struct {
			Messages []chatMessage
			Metadata map[string]any
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		checkMetadata(t, rec.Metadata)
		d := byID[rec.Metadata["document_id"].(string)]
		if len(rec.Messages) != 3 || rec.Messages[0].Role != "system" || rec.Messages[1].Role != "user" || rec.Messages[2].Role != "assistant" {
			t.Fatalf("line %d: messages %+v, want system, user, assistant", i+1, rec.Messages)
		}
		if rec.Messages[1].Content != d.Content {
			t.Errorf("%s: user message %q, want the document text", d.ID, rec.Messages[1].Content)
		}
		var answer countersign.Fields
		if err := json.Unmarshal([]byte(rec.Messages[2].Content), &answer); err != nil || !countersign.SameValue(answer, d.Final.Fields) {
			t.Errorf("%s: assistant answer %q (%v), want the final fields %v", d.ID, rec.Messages[2].Content, err, d.Final.Fields)
		}
	}
}

func TestPreferenceLinesParse(t *testing.T) {
	docs := testDocuments()
	out := run(t, docs, export.Filter{}, export.Preference)
	byID := map[string]*countersign.Document{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	var ids []string
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var rec struct {
			Prompt, Chosen, Rejected []chatMessage
			Metadata                 map[string]any
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		checkMetadata(t, rec.Metadata)
		d := byID[rec.Metadata["document_id"].(string)]
		ids = append(ids, d.ID)
		if len(rec.Prompt) != 2 || rec.Prompt[0].Role != "system" || rec.Prompt[1].Role != "user" || rec.Prompt[1].Content != d.Content {
			t.Errorf("%s: prompt %+v, want the guideline and the document text", d.ID, rec.Prompt)
		}
		for _, side := range []struct {
			name     string
			messages []chatMessage
			want     countersign.Fields
		}{{"chosen", rec.Chosen, d.Final.Fields}, {"rejected", rec.Rejected, d.Draft.Fields}} {
			var fields countersign.Fields
			if len(side.messages) != 1 || side.messages[0].Role != "assistant" {
				t.Errorf("%s: %s %+v, want one assistant message", d.ID, side.name, side.messages)
				continue
			}
			if err := json.Unmarshal([]byte(side.messages[0].Content), &fields); err != nil || !countersign.SameValue(fields, side.want) {
				t.Errorf("%s: %s %q (%v), want %v", d.ID, side.name, side.messages[0].Content, err, side.want)
			}
		}
	}
	if want := []string{"doc-corrected", "doc-audited", "doc-vetoed"}; !slices.Equal(ids, want) {
		t.Errorf("preference pairs of %v, want %v (unchanged and failed drafts left out)", ids, want)
	}
}

func checkMetadata(t *testing.T, m map[string]any) {
	t.Helper()
	// A document no person decided is automatic; one a person decided,
	// vetoed or corrected in an audit is the analyst's.
	want := countersign.DispositionAnalyst
	if m["decided_by"] == countersign.SystemActor && m["corrected_after_audit"] == false {
		want = countersign.DispositionAutomatic
	}
	if m["disposition"] != string(want) {
		t.Errorf("%v: disposition %v, want %s", m["document_id"], m["disposition"], want)
	}
	for _, key := range metadataKeys {
		if _, ok := m[key]; !ok {
			t.Errorf("metadata %v lacks %q", m, key)
		}
	}
	if len(m) != len(metadataKeys) {
		t.Errorf("metadata has %d keys, want %d: %v", len(m), len(metadataKeys), m)
	}
}

func run(t *testing.T, docs []*countersign.Document, f export.Filter, format export.Format) string {
	t.Helper()
	var out strings.Builder
	guidelines := &fakeGuidelines{calls: map[string]int{}}
	if _, err := export.Run(t.Context(), &memStore{docs: docs}, guidelines.get, f, format, &out, nil); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestFilters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		filter export.Filter
		want   []string
	}{
		{"everything accepted", export.Filter{}, []string{"doc-approved", "doc-corrected", "doc-audited", "doc-failed", "doc-auto", "doc-vetoed"}},
		{"human only", export.Filter{HumanOnly: true}, []string{"doc-approved", "doc-corrected", "doc-audited", "doc-failed", "doc-vetoed"}},
		{"exclude flagged", export.Filter{ExcludeFlagged: true}, []string{"doc-approved", "doc-corrected", "doc-failed", "doc-auto"}},
		{"human only, unflagged", export.Filter{HumanOnly: true, ExcludeFlagged: true}, []string{"doc-approved", "doc-corrected", "doc-failed"}},
		{"task type", export.Filter{TaskType: "invoice"}, []string{"doc-vetoed"}},
		{"since inclusive, until exclusive", export.Filter{Since: base.Add(time.Hour), Until: base.Add(4 * time.Hour)}, []string{"doc-corrected", "doc-audited"}},
		{"since only", export.Filter{Since: base.Add(5 * time.Hour)}, []string{"doc-auto", "doc-vetoed"}},
		{"until only", export.Filter{Until: base.Add(time.Hour)}, []string{"doc-approved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &memStore{docs: testDocuments()}
			var out strings.Builder
			if _, err := export.Run(t.Context(), store, nil, tc.filter, export.Eval, &out, nil); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for line := range strings.Lines(out.String()) {
				var rec struct{ ID string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, rec.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("exported %v, want %v", ids, tc.want)
			}
			// What the store can select, it selects: the export does not
			// read documents it would skip for their status, type or time.
			want := countersign.DocumentFilter{TaskType: tc.filter.TaskType, Statuses: []countersign.Status{countersign.StatusAccepted}, Since: tc.filter.Since, Until: tc.filter.Until}
			if len(store.scans) != 1 || !countersign.SameValue(store.scans[0], want) {
				t.Errorf("scans %+v, want one with %+v", store.scans, want)
			}
		})
	}
}

// TestKeep covers what the store does not select for Run: a filter applied
// to documents read some other way still keeps only what it should.
func TestKeep(t *testing.T) {
	docs := testDocuments()
	byID := map[string]*countersign.Document{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	accepted := byID["doc-approved"]
	noFields := *accepted
	noFields.Final = &countersign.Final{Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionApprove, DecidedBy: "rita"}
	noFinal := *accepted
	noFinal.Final = nil
	for _, tc := range []struct {
		name   string
		filter export.Filter
		doc    *countersign.Document
		want   bool
	}{
		{"accepted", export.Filter{}, accepted, true},
		{"rejected", export.Filter{}, byID["doc-rejected"], false},
		{"accepted without final fields", export.Filter{}, &noFields, false},
		{"accepted without final", export.Filter{}, &noFinal, false},
		{"other task type", export.Filter{TaskType: "invoice"}, accepted, false},
		{"before since", export.Filter{Since: base.Add(time.Nanosecond)}, accepted, false},
		{"at until", export.Filter{Until: base}, accepted, false},
		{"auto-accepted, human only", export.Filter{HumanOnly: true}, byID["doc-auto"], false},
		{"audited, human only", export.Filter{HumanOnly: true}, byID["doc-audited"], true},
		{"vetoed, exclude flagged", export.Filter{ExcludeFlagged: true}, byID["doc-vetoed"], false},
	} {
		if got := tc.filter.Keep(tc.doc); got != tc.want {
			t.Errorf("%s: Keep %v, want %v", tc.name, got, tc.want)
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteError(t *testing.T) {
	diskFull := errors.New("disk full")
	for _, format := range export.Formats {
		guidelines := &fakeGuidelines{calls: map[string]int{}}
		// A short export fails when the buffer is flushed at the end. The
		// comparison formats write lines of comparison items only.
		docs := testDocuments()
		if format == export.Pairwise || format == export.Ranked || format == export.Improved {
			docs = comparisonDocuments()
		}
		_, err := export.Run(t.Context(), &memStore{docs: docs}, guidelines.get, export.Filter{}, format, failingWriter{diskFull}, nil)
		if !errors.Is(err, diskFull) {
			t.Errorf("%s, short export: error %v, want %v", format, err, diskFull)
		}
	}
	// A long one fails as soon as the buffer fills, and stops reading.
	const n = 10_000
	counts, err := export.Run(t.Context(), generatedStore{n: n}, benchGuidelines, export.Filter{}, export.SFT, failingWriter{diskFull}, nil)
	if !errors.Is(err, diskFull) {
		t.Errorf("long export: error %v, want %v", err, diskFull)
	}
	if counts.Scanned >= n {
		t.Errorf("scanned %d documents after the writer failed", counts.Scanned)
	}
}

func TestGuidelineError(t *testing.T) {
	docs := testDocuments()
	docs[0].TaskTypeVersion = "gone"
	guidelines := &fakeGuidelines{calls: map[string]int{}}
	var out strings.Builder
	counts, err := export.Run(t.Context(), &memStore{docs: docs}, guidelines.get, export.Filter{}, export.SFT, &out, nil)
	if err == nil || !strings.Contains(err.Error(), "doc-approved") || !strings.Contains(err.Error(), "gone") {
		t.Errorf("error %v, want one naming the document and the version", err)
	}
	if counts.Exported != 0 || out.Len() != 0 {
		t.Errorf("counts %+v, output %q after the first document failed", counts, out.String())
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := export.Run(ctx, &memStore{docs: testDocuments()}, nil, export.Filter{}, export.Eval, &strings.Builder{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want %v", err, context.Canceled)
	}
}

func TestFormats(t *testing.T) {
	for _, f := range export.Formats {
		if got, err := export.ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	_, err := export.ParseFormat("jsonl")
	if err == nil || !strings.Contains(err.Error(), `"jsonl"`) || !strings.Contains(err.Error(), "sft, preference, csv, eval") {
		t.Errorf("ParseFormat(jsonl) error %v, want one naming it and listing the known formats", err)
	}
	_, err = export.Run(t.Context(), &memStore{}, nil, export.Filter{}, export.Format("xml"), &strings.Builder{}, nil)
	if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "sft, preference, csv, eval") {
		t.Errorf("Run with format xml: error %v, want one naming it and listing the known formats", err)
	}
	_, err = export.Run(t.Context(), &memStore{}, nil, export.Filter{}, export.SFT, &strings.Builder{}, nil)
	if err == nil || !strings.Contains(err.Error(), "guidelines") {
		t.Errorf("SFT without guidelines: error %v, want one saying guidelines are needed", err)
	}
}

func TestEmptyCSVHasHeader(t *testing.T) {
	out := run(t, nil, export.Filter{}, export.CSV)
	compareLines(t, out, []string{`document_id,task_type,task_type_version,field,change,draft_value,final_value,confidence,action,decided_by,decided_at,corrected_after_audit,disposition,model,prompt_version,policy_version,reviewers,audit_events`})
}
