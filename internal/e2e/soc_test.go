package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// socRule is one detection rule of the burst, and the verdict the fake
// model gives its alerts, with the alert field it points at.
type socRule struct {
	name, src, label string
	severity         int
	reasons          []string
}

var socRules = []socRule{
	{"Port scan detected", "10.20.0.%d", "false_positive", 1, []string{"known_scanner"}},
	{"Multiple failed logins from one source", "203.0.113.%d", "true_positive", 4, []string{"credential_compromise"}},
	{"Impossible travel", "192.0.2.%d", "false_positive", 2, []string{"detection_logic_gap"}},
	{"Encoded PowerShell command", "10.10.22.%d", "benign_true_positive", 1, []string{"authorized_admin_activity"}},
}

// ocsfAlert is the i-th alert of the burst, an OCSF Detection Finding.
func ocsfAlert(i int) string {
	r := socRules[i%len(socRules)]
	alert := map[string]any{
		"class_uid": 2004, "class_name": "Detection Finding", "activity_id": 1, "type_uid": 200401,
		"severity_id": 3, "time": 1764950400000 + int64(i)*1000,
		"finding_info": map[string]any{
			"uid": fmt.Sprintf("f-burst-%04d", i), "title": fmt.Sprintf("%s #%d", r.name, i),
			"analytic": map[string]any{"name": r.name, "type_id": 1},
		},
		"src_endpoint": map[string]any{"ip": fmt.Sprintf(r.src, 1+i%200)},
		"actor":        map[string]any{"user": map[string]any{"name": fmt.Sprintf("user%03d", i)}},
		"device":       map[string]any{"hostname": fmt.Sprintf("ws-%04d", i)},
	}
	if r.label == "benign_true_positive" {
		// The IT team's signed script, which the example's risk rules
		// hold an authorized_admin_activity closure to.
		alert["process"] = map[string]any{"file": map[string]any{"path": fmt.Sprintf(`C:\ProgramData\IT\Scripts\Rotate-%d.ps1`, i)}}
	}
	raw, _ := json.MarshalIndent(alert, "", "  ")
	return string(raw)
}

// socVerdict answers a triage request as a model on the real wire format:
// the verdict of the alert's rule, each field with a JSON Pointer into the
// alert and the value it holds.
func socVerdict(req openai.ChatCompletionRequest) llmtest.Reply {
	prompt := req.Messages[len(req.Messages)-1].Content
	start, end := strings.Index(prompt, "{\n"), strings.LastIndex(prompt, "\n}")
	var alert struct {
		FindingInfo struct {
			Analytic struct {
				Name string `json:"name"`
			} `json:"analytic"`
		} `json:"finding_info"`
		Src struct {
			IP string `json:"ip"`
		} `json:"src_endpoint"`
	}
	if start < 0 || end < start || json.Unmarshal([]byte(prompt[start:end+2]), &alert) != nil {
		return llmtest.Fail(500)
	}
	for _, r := range socRules {
		if r.name == alert.FindingInfo.Analytic.Name {
			ip := &llmtest.Field{Value: nil, Quote: alert.Src.IP, Pointer: "/src_endpoint/ip"}
			field := func(v any) *llmtest.Field { f := *ip; f.Value = v; return &f }
			return llmtest.Answer(llmtest.Fields(
				"label", field(r.label),
				"severity", field(r.severity),
				"reason_codes", field(r.reasons),
				"rationale", &llmtest.Field{Value: "The rule " + r.name + " fired on this source.", Quote: r.name, Pointer: "/finding_info/analytic/name"},
			))
		}
	}
	return llmtest.Fail(500)
}

// TestSOCAlertBurst: a burst of OCSF alerts goes over HTTP through the
// real stack and a fake OpenAI-compatible model. False positives and benign
// true positives close on their own, a sample of them audited; the
// true positives of severity 4 wait for an analyst. A resubmitted alert
// joins its document; an analyst changes a label through the API, and a
// label outside the taxonomy is refused; an audit turns an automatic
// closure into a true positive. The export marks automatic and analyst
// dispositions apart, and the per-rule figures add up.
func TestSOCAlertBurst(t *testing.T) {
	const burst = 200
	srv := llmtest.New(t)
	srv.Otherwise(socVerdict)
	const secret = "soc-test-secret"
	receiver := &webhookReceiver{secret: secret}
	hook := httptest.NewServer(receiver)
	t.Cleanup(hook.Close)
	a := startAppWith(t, config.Config{OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "triage-model", WebhookURL: hook.URL, WebhookSecret: secret},
		app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	began := time.Now()
	ids := make([]string, burst)
	var wg sync.WaitGroup
	errs := make(chan error, burst)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < burst; i += 8 {
				sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "soc-alert-triage", Content: ocsfAlert(i)})
				if err != nil {
					errs <- fmt.Errorf("alert %d: %w", i, err)
					return
				}
				ids[i] = sub.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	accepted := time.Since(began)

	// The same alert again is the same document.
	again, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "soc-alert-triage", Content: ocsfAlert(5)})
	if err != nil || again.ID != ids[5] || again.Created {
		t.Fatalf("resubmitted alert: %+v %v, want document %s, not created", again, err, ids[5])
	}
	// A changed alert under the same ID is a conflict, not a second alert.
	if _, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "soc-alert-triage", Content: strings.Replace(ocsfAlert(5), `"severity_id": 3`, `"severity_id": 5`, 1)}); status(err) != 409 {
		t.Fatalf("changed alert under the same ID: %v, want 409", err)
	}

	docs := make([]*api.DocumentView, burst)
	for i, id := range ids {
		doc, err := u.admin.WaitUntil(ctx, id, 50*time.Millisecond, func(s countersign.Status) bool {
			return s == countersign.StatusAccepted || s == countersign.StatusAwaitingReview || s == countersign.StatusFailed || s == countersign.StatusRejected
		})
		if err != nil {
			t.Fatalf("alert %d: %v", i, err)
		}
		docs[i] = doc
	}
	t.Logf("%d alerts accepted over HTTP in %s, all routed in %s", burst, accepted.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))

	var automatic, waiting, audited int
	for i, doc := range docs {
		r := socRules[i%len(socRules)]
		if doc.Metadata["rule_name"] != r.name || doc.Metadata["src_ip"] != fmt.Sprintf(r.src, 1+i%200) || doc.ExternalID != fmt.Sprintf("f-burst-%04d", i) {
			t.Fatalf("alert %d: external ID %q, metadata %v", i, doc.ExternalID, doc.Metadata)
		}
		if ev := doc.Draft.Evidence["label"]; ev.Pointer != "/src_endpoint/ip" || doc.Confidence.Fields["label"].Signals[countersign.SignalGrounding] != 1 {
			t.Fatalf("alert %d: label evidence %+v, grounding %v", i, ev, doc.Confidence.Fields["label"].Signals)
		}
		if r.label == "true_positive" {
			if doc.Status != countersign.StatusAwaitingReview || doc.Route.Outcome != countersign.OutcomeHumanReview || !strings.Contains(strings.Join(doc.Route.Reasons, "; "), "true positive of medium severity or more") {
				t.Fatalf("alert %d, a true positive of severity %d: %s %s %v", i, r.severity, doc.Status, doc.Route.Outcome, doc.Route.Reasons)
			}
			if doc.Disposition != "" {
				t.Fatalf("alert %d waits for an analyst but shows disposition %q", i, doc.Disposition)
			}
			waiting++
			continue
		}
		if doc.Status != countersign.StatusAccepted || doc.Disposition != countersign.DispositionAutomatic {
			t.Fatalf("alert %d, %s: %s %s disposition %q (%v, confidence %v)", i, r.label, doc.Status, doc.Route.Outcome, doc.Disposition, doc.Route.Reasons, doc.Confidence.Overall)
		}
		automatic++
		if doc.Route.Outcome == countersign.OutcomeAutoAcceptWithAudit {
			audited++
		}
	}
	if waiting != burst/4 || automatic != burst-burst/4 || audited == 0 || audited > automatic/4 {
		t.Fatalf("%d waiting, %d automatic of which %d drawn for audit", waiting, automatic, audited)
	}
	t.Logf("%d closed automatically (%d drawn for audit), %d waiting for an analyst", automatic, audited, waiting)

	// An analyst decides a true positive's review: on a look, it is the
	// red team's exercise. A label outside the taxonomy is refused first.
	tp := docs[1]
	if _, err := u.reviewer.Decide(ctx, tp.Review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"label": "probably_fine"}}); status(err) != 422 || !strings.Contains(err.Error(), "label") {
		t.Fatalf("a label outside the taxonomy: %v, want 422 naming label", err)
	}
	if _, err := u.reviewer.Decide(ctx, tp.Review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"severity": 9}}); status(err) != 422 {
		t.Fatalf("a severity off the scale: %v, want 422", err)
	}
	if _, err := u.reviewer.Decide(ctx, tp.Review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Reason: "red team exercise RT-2025-11",
		Fields: countersign.Fields{"label": "benign_true_positive", "severity": 1, "reason_codes": []string{"test_or_simulation"}}}); err != nil {
		t.Fatal(err)
	}
	tp, err = u.admin.WaitFinal(ctx, tp.ID, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Final.Fields["label"] != "benign_true_positive" || tp.Disposition != countersign.DispositionAnalyst {
		t.Fatalf("the analyst's verdict: %v, disposition %q", tp.Final.Fields, tp.Disposition)
	}
	// An analyst confirms another true positive as it was drafted.
	confirmed := docs[5]
	if _, err := u.reviewer.Decide(ctx, confirmed.Review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatal(err)
	}

	// An audit of an automatic closure finds the attack the model missed.
	var audits *api.ReviewList
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if audits, err = u.reviewer.Reviews(ctx, apiclient.ReviewQuery{Kind: "audit", TaskType: "soc-alert-triage", Limit: 100}); err != nil {
			t.Fatal(err)
		}
		if len(audits.Reviews) >= audited || time.Now().After(deadline) {
			break
		}
	}
	if len(audits.Reviews) != audited {
		t.Fatalf("%d audit reviews pending, want the %d drawn", len(audits.Reviews), audited)
	}
	escaped, confirmedAudit := audits.Reviews[0], audits.Reviews[1]
	if _, err := u.reviewer.Decide(ctx, escaped.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Reason: "the source is not our scanner",
		Fields: countersign.Fields{"label": "true_positive", "severity": 4, "reason_codes": []string{"confirmed_malicious"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.reviewer.Decide(ctx, confirmedAudit.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatal(err)
	}
	byID := map[string]*api.DocumentView{}
	for _, doc := range docs {
		byID[doc.ID] = doc
	}
	for _, id := range []string{escaped.DocumentID, confirmedAudit.DocumentID, confirmed.ID} {
		doc, err := u.admin.WaitUntil(ctx, id, 50*time.Millisecond, func(countersign.Status) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(time.Minute); (doc.Final == nil || (byID[id].Route.Outcome == countersign.OutcomeAutoAcceptWithAudit && doc.Final.AuditedBy == "")) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			if doc, err = u.admin.Document(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		byID[id] = doc
	}
	if d := byID[escaped.DocumentID]; !d.Final.CorrectedAfterAudit || d.Disposition != countersign.DispositionAnalyst {
		t.Fatalf("the corrected audit: %+v, disposition %q", d.Final, d.Disposition)
	}
	if d := byID[confirmedAudit.DocumentID]; d.Final.AuditedBy != "rita" || d.Disposition != countersign.DispositionAutomatic {
		t.Fatalf("the confirmed audit: audited by %q, disposition %q", d.Final.AuditedBy, d.Disposition)
	}
	if d := byID[confirmed.ID]; d.Disposition != countersign.DispositionAnalyst {
		t.Fatalf("the confirmed true positive: disposition %q", d.Disposition)
	}

	// The webhook tells the submitting system who settled each alert.
	receiver.waitFor(t, "document.finalized", ids[0])
	receiver.waitFor(t, "document.finalized", tp.ID)
	receiver.waitFor(t, "document.corrected_after_audit", escaped.DocumentID)
	receiver.mu.Lock()
	for _, c := range []struct {
		event receivedEvent
		want  countersign.Disposition
	}{
		{receivedEvent{Type: "document.finalized", DocumentID: ids[0]}, countersign.DispositionAutomatic},
		{receivedEvent{Type: "document.finalized", DocumentID: tp.ID}, countersign.DispositionAnalyst},
		{receivedEvent{Type: "document.corrected_after_audit", DocumentID: escaped.DocumentID}, countersign.DispositionAnalyst},
	} {
		if got := receiver.dispositions[c.event]; got != string(c.want) {
			t.Errorf("webhook %s of %s: disposition %q, want %q", c.event.Type, c.event.DocumentID, got, c.want)
		}
	}
	receiver.mu.Unlock()

	// The export tells automatic closures from the analysts' verdicts.
	var out bytes.Buffer
	if _, err := u.auditor.Export(ctx, url.Values{"format": {"sft"}, "task_type": {"soc-alert-triage"}}, &out, nil); err != nil {
		t.Fatal(err)
	}
	dispositions := map[string]countersign.Disposition{}
	scanner := bufio.NewScanner(&out)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var line struct {
			Metadata struct {
				DocumentID  string                  `json:"document_id"`
				Disposition countersign.Disposition `json:"disposition"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		dispositions[line.Metadata.DocumentID] = line.Metadata.Disposition
	}
	if len(dispositions) != automatic+2 {
		t.Fatalf("export has %d documents, want the %d automatic closures and the 2 analysts' verdicts", len(dispositions), automatic+2)
	}
	analyst := 0
	for id, d := range dispositions {
		want := countersign.DispositionAutomatic
		if id == tp.ID || id == confirmed.ID || id == escaped.DocumentID {
			want = countersign.DispositionAnalyst
			analyst++
		}
		if d != want {
			t.Errorf("export: %s is %q, want %q", id, d, want)
		}
	}
	if analyst != 3 {
		t.Errorf("export holds %d of the 3 analyst dispositions", analyst)
	}

	// Per detection rule: every figure follows from what happened above.
	st, err := u.auditor.StatsBy(ctx, "soc-alert-triage", "rule")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Rules) != len(socRules) {
		t.Fatalf("%d rules, want %d: %+v", len(st.Rules), len(socRules), st.Rules)
	}
	escapedRule := byID[escaped.DocumentID].Metadata["rule_name"]
	for _, got := range st.Rules {
		if got.Documents != burst/4 {
			t.Errorf("%s: %d alerts, want %d", got.Rule, got.Documents, burst/4)
		}
		var wantAudited, wantChanged int
		for _, doc := range docs {
			if doc.Metadata["rule_name"] == got.Rule && (doc.ID == escaped.DocumentID || doc.ID == confirmedAudit.DocumentID) {
				wantAudited++
				if doc.ID == escaped.DocumentID {
					wantChanged++
				}
			}
		}
		switch got.Rule {
		case "Multiple failed logins from one source":
			if got.Decided != 2 || got.Automatic != 0 || got.FalsePositives != 0 || got.MeanSecondsToVerdict == nil {
				t.Errorf("%s: %+v, want 2 decided by analysts", got.Rule, got)
			}
		default:
			fp := 0
			if socRules[ruleIndex(got.Rule)].label == "false_positive" {
				fp = burst / 4
				if got.Rule == escapedRule {
					fp--
				}
			}
			if got.Decided != burst/4 || got.Automatic != burst/4 || got.FalsePositives != fp || *got.AutomaticRate != 1 ||
				got.Audited != wantAudited || got.AuditChanged != wantChanged || got.EscapedTruePositives != wantChanged {
				t.Errorf("%s: %+v, want %d decided and closed automatically, %d false positives, %d audited, %d changed", got.Rule, got, burst/4, fp, wantAudited, wantChanged)
			}
		}
	}
	// The alert paths, recorded for replay with make histories: an
	// automatic closure, an analyst's verdict, and a closure an audit
	// turned into a true positive.
	checkHistories(t, a, os.Getenv(recordEnv) != "", map[string]string{
		"soc_automatic_closure": ids[0],
		"soc_analyst_verdict":   tp.ID,
		"soc_escaped_in_audit":  escaped.DocumentID,
	})
}

func ruleIndex(name string) int {
	for i, r := range socRules {
		if r.name == name {
			return i
		}
	}
	return -1
}
