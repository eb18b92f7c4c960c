package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// TestAlertReviewInABrowser: an OCSF alert the SIEM rated high goes to an
// analyst whatever the model says. In a real headless Chromium the analyst
// sees the alert as a tree with the node the label rests on highlighted,
// jumps to it from the field, picks another label from the taxonomy and
// another reason code, and submits; the API then gives the analyst's
// verdict as the final one, settled by an analyst.
func TestAlertReviewInABrowser(t *testing.T) {
	chrome := chromium(t)
	shots := newScreens(t)
	srv := llmtest.New(t)
	srv.Otherwise(func(openai.ChatCompletionRequest) llmtest.Reply {
		ip := func(v any) *llmtest.Field {
			return &llmtest.Field{Value: v, Quote: "203.0.113.7", Pointer: "/src_endpoint/ip"}
		}
		return llmtest.Answer(llmtest.Fields(
			"label", ip("true_positive"),
			"severity", ip(4),
			"reason_codes", ip([]string{"credential_compromise"}),
			"rationale", &llmtest.Field{Value: "412 failed logins from one source, 2 succeeded.", Quote: "Multiple failed logins from one source", Pointer: "/finding_info/analytic/name"},
		))
	})
	a := startAppWith(t, config.Config{OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "triage-model"}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx := context.Background()
	review := submitAndWait(t, u, "soc-alert-triage", "credential-stuffing.json")
	tok, err := u.admin.CreateToken(ctx, "rosa", countersign.RoleReviewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	alloc, cancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true))...)
	defer cancel()
	var exceptions struct {
		sync.Mutex
		list []string
	}
	browser, cancel := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		exceptions.Lock()
		defer exceptions.Unlock()
		if e, ok := ev.(*cdpruntime.EventExceptionThrown); ok {
			exceptions.list = append(exceptions.list, fmt.Sprintf("%s (%s:%d)", e.ExceptionDetails.Text, e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber))
		}
	}))
	defer cancel()
	browser, cancel = context.WithTimeout(browser, 2*time.Minute)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) string {
		t.Helper()
		v, err := chromedp.Run(browser, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}

	do("sign in", chromedp.Navigate(a.APIURL+"/ui/reviews/"+review.ID), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), tok.Secret), chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#doc-tree")))
	// The label's evidence is the highlighted node /src_endpoint/ip.
	node := `document.querySelector('#doc-tree li[data-pointer="/src_endpoint/ip"]')`
	if got := eval("the pointed node", node+`.innerText`); !strings.Contains(got, "ip: 203.0.113.7") || !strings.Contains(got, "label") {
		t.Fatalf("the node /src_endpoint/ip reads %q, want its value marked with the field label", got)
	}
	label := eval("the label field", `document.querySelector('select[name="field.label"]').closest(".field").dataset.field`)
	do("jump to the label's evidence", chromedp.Click(chromedp.CSS(`a[data-evidence="`+label+`"]`)))
	if got := eval("active mark", `Array.from(document.querySelectorAll("#doc-tree mark.active")).map(m => m.innerText).join("|")`); got != "203.0.113.7" {
		t.Errorf("after clicking the label's evidence the tree marks %q active, want the source address", got)
	}
	if open := eval("text view", `String(document.getElementById("doc-text-view").open)`); open != "false" {
		t.Errorf("the alert's text view starts open")
	}
	shots.take(browser, "soc-01-alert-tree")

	// Escalating is an action of its own: recorded, and the review stays
	// open for the verdict.
	do("escalate to an incident",
		chromedp.Click(chromedp.CSS("#escalate summary")),
		chromedp.WaitVisible(chromedp.CSS("#escalation-reason")),
		chromedp.SendKeys(chromedp.CSS("#escalation-reason"), "two logins succeeded: possible account takeover"),
		chromedp.SendKeys(chromedp.CSS("#escalation-severity"), "5"),
		chromedp.Click(chromedp.CSS("#escalate-button")),
		chromedp.WaitVisible(chromedp.CSS("#escalated")))
	if got := eval("escalation outcome", `document.getElementById("escalated").innerText`); !strings.Contains(got, "Escalated: recorded") {
		t.Fatalf("after escalating the page says %q", got)
	}
	trail, err := u.auditor.Audit(ctx, review.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	escalated := 0
	for _, e := range trail {
		if e.Type == countersign.EventDocumentEscalated && e.Actor == "rosa" && e.Channel == countersign.ChannelWeb {
			escalated++
		}
	}
	if escalated != 1 {
		t.Fatalf("the trail holds %d escalations by rosa on the web, want 1: %+v", escalated, trail)
	}
	shots.take(browser, "soc-02-escalated")

	do("correct the verdict",
		chromedp.SetValue(chromedp.CSS(`select[name="field.label"]`), "benign_true_positive"),
		chromedp.Click(chromedp.CSS(`input[name="field.reason_codes"][value="credential_compromise"]`)),
		chromedp.Click(chromedp.CSS(`input[name="field.reason_codes"][value="expected_user_behavior"]`)),
		chromedp.Click(chromedp.CSS("#correct-button")),
		chromedp.WaitVisible(chromedp.CSS("#tree-heading")))
	if where := eval("after submitting", `location.pathname + location.search`); !strings.HasSuffix(where, "?decided=correct") {
		t.Fatalf("after submitting the browser is at %s, want the document page saying it was corrected", where)
	}
	shots.take(browser, "soc-03-decided")

	doc, err := u.auditor.WaitUntil(ctx, review.DocumentID, 50*time.Millisecond, func(s countersign.Status) bool { return s == countersign.StatusAccepted })
	if err != nil {
		t.Fatal(err)
	}
	codes, _ := doc.Final.Fields["reason_codes"].([]any)
	if doc.Final.Fields["label"] != "benign_true_positive" || !slices.Equal(codes, []any{"expected_user_behavior"}) ||
		doc.Final.Fields["severity"] != float64(4) || doc.Disposition != countersign.DispositionAnalyst || doc.Final.DecidedBy != "rosa" {
		t.Fatalf("final %+v, disposition %q; want rosa's label and reason code, severity kept, disposition analyst", doc.Final, doc.Disposition)
	}
	checkDecided(t, u.auditor, review.DocumentID, countersign.ActionCorrect)
	exceptions.Lock()
	defer exceptions.Unlock()
	for _, e := range exceptions.list {
		t.Errorf("the browser threw: %s", e)
	}
}
