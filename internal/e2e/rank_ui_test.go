package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// TestRankingInABrowser: an item of examples/response-ranking whose judge
// flips with the candidates' order (fakeJudge: none of rr-001's responses
// says what it is worth, so it ranks what it sees first first) ties its
// three candidates and goes to a person. In a real headless Chromium the
// reviewer marks b unsafe and sends the judge's tie: refused, naming the
// tie and the unsafe candidate ranked level with safe ones, with the mark
// kept. Then b goes last with Alt+ArrowDown, c is dragged above a, and the
// ranking is sent; the API then gives c, a, b as the decision's ranking,
// b marked unsafe, decided by the reviewer.
func TestRankingInABrowser(t *testing.T) {
	chrome := chromium(t)
	shots := newScreens(t)
	judge := llmtest.New(t)
	judge.Otherwise(fakeJudge)
	a := startAppWith(t, config.Config{OpenAIBaseURL: judge.BaseURL(), OpenAIModel: "judge-model"}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx := context.Background()
	review := submitAndWait(t, u, "response-ranking", "rr-001.json")
	doc, err := u.auditor.Document(ctx, review.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(doc.Draft.Fields["ranking"]); got != "[[a b c]]" {
		t.Fatalf("the judge's draft ranks %s, want its flip to tie a, b and c", got)
	}
	tok, err := u.admin.CreateToken(ctx, "rosa", countersign.RoleReviewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	alloc, cancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 1000), chromedp.Flag("disable-gpu", true))...)
	defer cancel()
	var exceptions struct {
		sync.Mutex
		list []string
	}
	browser, cancel := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*cdpruntime.EventExceptionThrown); ok {
			exceptions.Lock()
			defer exceptions.Unlock()
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
	// order is the candidates as listed, each with its rank number.
	order := func() string {
		t.Helper()
		return eval("the list", `Array.from(document.querySelectorAll("#rank-list > li.candidate")).map(li => li.dataset.id + "=" + li.querySelector("input.rank-input").value).join(" ")`)
	}

	do("sign in", chromedp.Navigate(a.APIURL+"/ui/reviews/"+review.ID), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), tok.Secret), chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#rank-list")))
	if got := eval("the prompt", `document.getElementById("prompt-text").innerText`); got != "How do I reverse a list in Python?" {
		t.Fatalf("the prompt reads %q", got)
	}
	if got := eval("the judge", `document.getElementById("judge-ranking").innerText`); got != "a = b = c" {
		t.Fatalf("the judge's ranking reads %q", got)
	}
	if got := order(); got != "a=1 b=1 c=1" {
		t.Fatalf("the page lists %s, want the judge's tie", got)
	}
	// The script shows the move buttons and makes the headings draggable.
	if got := eval("the controls", `[document.querySelector('#cand-b [data-move="down"]').hidden, document.querySelector("#cand-b .cand-head").draggable].join()`); got != "false,true" {
		t.Fatalf("move button hidden, heading draggable: %s", got)
	}
	shots.take(browser, "rank-01-judge-tie")

	// The judge's tie sent as it is, b marked unsafe: refused, and the
	// page keeps the mark and the ranks.
	do("send the tie with b unsafe",
		chromedp.SetValue(chromedp.CSS("#unsafe-b"), "harmful_misinformation"),
		chromedp.Click(chromedp.CSS("#rank-button")),
		chromedp.WaitVisible(chromedp.CSS("#problem")))
	problem := eval("the refusal", `document.getElementById("problem").innerText`)
	for _, want := range []string{"ranks a and b and c equal, but the tie policy forbids ties", "ranking places b, which is marked unsafe, above or level with the safe a, c"} {
		if !strings.Contains(problem, want) {
			t.Errorf("the refusal says %q, want it to name %q", problem, want)
		}
	}
	if got := eval("kept", `document.getElementById("unsafe-b").value + " " + document.getElementById("cand-b").className`); got != "harmful_misinformation candidate unsafe" {
		t.Errorf("after the refusal b's mark is %q", got)
	}
	if got := order(); got != "a=1 b=1 c=1" {
		t.Errorf("after the refusal the page lists %s", got)
	}
	shots.take(browser, "rank-02-refused")

	// Keyboard: b, in focus, goes down with Alt+ArrowDown; the numbers
	// follow and the status region says where it is.
	do("move b down by keyboard", chromedp.Focus(chromedp.CSS("#cand-b")), chromedp.KeyEvent(kb.ArrowDown, chromedp.KeyModifiers(chromedp.ModifierAlt)))
	if got := order(); got != "a=1 c=2 b=3" {
		t.Fatalf("after Alt+ArrowDown on b the page lists %s, want a c b", got)
	}
	if got := eval("status", `document.getElementById("rank-status").textContent + "|" + document.activeElement.id`); got != "Candidate b is now in place 3 of 3.|cand-b" {
		t.Errorf("after the move: %q, want it announced and b still in focus", got)
	}
	do("and once more", chromedp.KeyEvent(kb.ArrowDown, chromedp.KeyModifiers(chromedp.ModifierAlt)))
	if got := eval("status", `document.getElementById("rank-status").textContent`); got != "Candidate b is already last." {
		t.Errorf("moving the last candidate down says %q", got)
	}

	// Drag: c's heading dropped on a's heading (a's upper half) puts c
	// first. On a loaded machine Chromium may report the native drag after
	// chromedp has stopped waiting for it (2 s) and released the mouse, so
	// a drag that moved nothing is tried again, twice at most.
	for try := 1; ; try++ {
		do("drag c above a", chromedp.DragAndDrop(chromedp.CSS("#cand-c .cand-head"), chromedp.CSS("#cand-a .cand-head")))
		got := order()
		if got == "c=1 a=2 b=3" {
			break
		}
		if got != "a=1 c=2 b=3" || try == 3 {
			t.Fatalf("after dragging c onto a (try %d) the page lists %s, want c a b", try, got)
		}
		t.Logf("drag %d moved nothing; again", try)
	}
	if got := eval("status", `document.getElementById("rank-status").textContent`); got != "Candidate c is now in place 1 of 3." {
		t.Errorf("after the drag the status says %q", got)
	}
	do("score c's helpfulness", chromedp.SetValue(chromedp.CSS(`select[name="score.helpfulness.c"]`), "5"))
	shots.take(browser, "rank-03-reordered")

	do("send the ranking", chromedp.Click(chromedp.CSS("#rank-button")), chromedp.WaitVisible(chromedp.CSS("#tree-heading")))
	if where := eval("after sending", `location.pathname + location.search`); !strings.HasSuffix(where, "?decided=correct") {
		t.Fatalf("after sending the browser is at %s, want the document page saying it was corrected", where)
	}
	shots.take(browser, "rank-04-decided")

	final := waitForFinal(t, u.auditor, review.DocumentID)
	scores, _ := final.Final.Fields["scores"].(map[string]any)
	helpful, _ := scores["helpfulness"].(map[string]any)
	if got := fmt.Sprint(final.Final.Fields["ranking"]); got != "[c a b]" || final.Final.DecidedBy != "rosa" ||
		countersign.UnsafeCandidates(final.Final.Fields)["b"] != "harmful_misinformation" || helpful["c"] != 5.0 {
		t.Fatalf("the decision: ranking %s by %s, fields %v; want c a b by rosa, b unsafe, c's helpfulness 5", got, final.Final.DecidedBy, final.Final.Fields)
	}
	checkDecided(t, u.auditor, review.DocumentID, countersign.ActionCorrect)
	exceptions.Lock()
	defer exceptions.Unlock()
	for _, e := range exceptions.list {
		t.Errorf("the browser threw: %s", e)
	}
}
