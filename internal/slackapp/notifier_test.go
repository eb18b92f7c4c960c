package slackapp

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/fieldview"
)

func newNotifier(t *testing.T) (*Notifier, *fakeSlack, *fixture, *fakeClock) {
	t.Helper()
	slack := newFakeSlack(t)
	fx := newFixture(t)
	client, clock := newClient(slack)
	return &Notifier{Slack: client, Channel: "#reviews", Users: fx.store, TaskTypes: testTypes}, slack, fx, clock
}

// openedNotice is the notice of doc1's review opening.
func openedNotice(t *testing.T, fx *fixture) countersign.Notice {
	t.Helper()
	ctx := context.Background()
	review, err := fx.store.GetReview(ctx, "doc1-r1")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := fx.store.GetDocument(ctx, "doc1")
	if err != nil {
		t.Fatal(err)
	}
	return countersign.Notice{
		Kind: countersign.NoticeOpened, Review: *review, Document: doc, Title: "Contract review",
		To: countersign.Audience{Groups: []string{"contracts"}}, Link: "https://cs.example.com/ui/reviews/doc1-r1?a=1&b=2", At: t0,
	}
}

func TestNotifierPostsTheReview(t *testing.T) {
	n, slack, fx, _ := newNotifier(t)
	ref, err := n.Notify(context.Background(), openedNotice(t, fx))
	if err != nil {
		t.Fatal(err)
	}
	posts := slack.received("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("%d messages posted, want 1", len(posts))
	}
	post := posts[0]
	if post.Form.Get("channel") != "#reviews" {
		t.Errorf("posted to %q, want the default channel #reviews", post.Form.Get("channel"))
	}
	if ref == nil || ref.Channel != "CREVIEWS" || ref.ID != "1700000000.000001" {
		t.Errorf("ref = %+v, want the channel's ID and the message's ts", ref)
	}
	blocks := post.blocks(t)
	all := texts(t, blocks)
	for _, want := range []string{
		`"type":"header"`, "Contract review", "`contract-review`", "35%", "weakest field term_months (0.35)",
		"for &lt;!channel&gt; twelve months", "rules found 24",
		"<https://cs.example.com/ui/reviews/doc1-r1?a=1&amp;b=2|Open the document>",
		"Risk rule “long lease”: a lease of more than five years", // the rule in words
	} {
		if !strings.Contains(all, want) {
			t.Errorf("message lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "fields.term_months &gt; 60") || strings.Contains(all, "fields.term_months > 60") {
		t.Errorf("the message shows the rule's expression:\n%s", all)
	}
	if strings.Contains(all, "<!channel>") {
		t.Errorf("the document's <!channel> reached Slack unescaped:\n%s", all)
	}
	wantVerbatim(t, blocks, "for &lt;!channel&gt; twelve months", "rules found 24", "weakest field term_months (0.35)", "`contract-review`")
	// The uncertain field comes first, the sure one last.
	term, renewal, party := strings.Index(all, "*term_months* · 35%"), strings.Index(all, "*renewal* · 80%"), strings.Index(all, "*First party* · 95%")
	if term < 0 || renewal < 0 || party < 0 || !(term < renewal && renewal < party) {
		t.Errorf("fields at %d, %d, %d: want term_months, renewal, party_a, least certain first", term, renewal, party)
	}
	actions := blocks[len(blocks)-1]
	if actions["type"] != "actions" {
		t.Fatalf("last block is %v, want the buttons", actions["type"])
	}
	var ids []string
	for _, e := range actions["elements"].([]any) {
		button := e.(map[string]any)
		ids = append(ids, button["action_id"].(string))
		if button["value"] != "doc1-r1" {
			t.Errorf("button %s carries %v, want the review ID", button["action_id"], button["value"])
		}
	}
	if strings.Join(ids, ",") != "countersign_approve,countersign_correct,countersign_reject,countersign_claim" {
		t.Errorf("buttons %v, want Approve, Correct, Reject, Claim", ids)
	}
}

func TestNotifierUpdatesTheMessageWhenClosed(t *testing.T) {
	n, slack, fx, _ := newNotifier(t)
	fx.close(t, "doc1-r1", "doc1", "sam", countersign.ActionApprove)
	notice := openedNotice(t, fx)
	review, _ := fx.store.GetReview(context.Background(), "doc1-r1")
	notice.Kind, notice.Review, notice.Ref = countersign.NoticeClosed, *review, &countersign.NoticeRef{Channel: "CREVIEWS", ID: "1700000000.000001"}
	notice.Outcome = "approved by sam"
	notice.Decisions = []countersign.Decision{{ReviewID: "doc1-r1", Action: countersign.ActionApprove, Actor: "sam", Channel: countersign.ChannelSlack, At: t0.Add(time.Hour)}}
	if ref, err := n.Notify(context.Background(), notice); err != nil || ref != nil {
		t.Fatalf("Notify(closed) = %v, %v", ref, err)
	}
	if posts := slack.received("chat.postMessage"); len(posts) != 0 {
		t.Errorf("closing posted %d new messages, want the first updated only", len(posts))
	}
	updates := slack.received("chat.update")
	if len(updates) != 1 || updates[0].Form.Get("channel") != "CREVIEWS" || updates[0].Form.Get("ts") != "1700000000.000001" {
		t.Fatalf("updates = %+v, want one of the review's message", updates)
	}
	blocks := updates[0].blocks(t)
	all := texts(t, blocks)
	for _, block := range blocks {
		if block["type"] == "actions" {
			t.Errorf("the closed review's message still has buttons:\n%s", all)
		}
	}
	if !strings.Contains(all, "Decided: approved by sam") || !strings.Contains(all, "sam: approved (slack") {
		t.Errorf("the closed message does not say who decided:\n%s", all)
	}
	wantVerbatim(t, blocks, "Decided: approved by sam")
}

// wantVerbatim checks that every mrkdwn text object in blocks is verbatim,
// so that Slack links no bare URL a document put in it, and that the
// objects holding each of docTexts (text from the document) are among
// them.
func wantVerbatim(t *testing.T, blocks []map[string]any, docTexts ...string) {
	t.Helper()
	var objects []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["text"].(string); ok && (v["type"] == "mrkdwn" || v["type"] == "plain_text") {
				objects = append(objects, v)
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, b := range blocks {
		walk(b)
	}
	for _, o := range objects {
		if o["type"] == "mrkdwn" && o["verbatim"] != true {
			t.Errorf("mrkdwn text object is not verbatim: %v", o)
		}
	}
	for _, text := range docTexts {
		found := false
		for _, o := range objects {
			if strings.Contains(o["text"].(string), text) {
				found = true
				if o["type"] != "mrkdwn" || o["verbatim"] != true {
					t.Errorf("text object carrying %q is not verbatim mrkdwn: %v", text, o)
				}
			}
		}
		if !found {
			t.Errorf("no text object carries %q", text)
		}
	}
}

func TestNotifierReminds(t *testing.T) {
	n, slack, fx, _ := newNotifier(t)
	notice := openedNotice(t, fx)
	notice.Kind, notice.Ref = countersign.NoticeReminder, &countersign.NoticeRef{Channel: "CREVIEWS", ID: "1700000000.000001"}
	if _, err := n.Notify(context.Background(), notice); err != nil {
		t.Fatal(err)
	}
	posts := slack.received("chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d messages posted, want the thread reply and one direct message", len(posts))
	}
	reply := posts[0]
	if reply.Form.Get("channel") != "CREVIEWS" || reply.Form.Get("thread_ts") != "1700000000.000001" {
		t.Errorf("reminder posted to %s thread %q, want the review's thread", reply.Form.Get("channel"), reply.Form.Get("thread_ts"))
	}
	// rita reviews contracts; the auditor ada is in the group but does not
	// decide, pat and sam are not in it.
	if text := reply.Form.Get("text"); !strings.Contains(text, "<@URITA>") || strings.Contains(text, "<@UADA>") || strings.Contains(text, "<@UPAT>") || strings.Contains(text, "<@USAM>") {
		t.Errorf("reminder mentions the wrong people: %s", text)
	}
	opened := slack.received("conversations.open")
	if len(opened) != 1 || opened[0].Form.Get("users") != "URITA" {
		t.Errorf("direct messages opened: %+v, want rita's", opened)
	}
	if dm := posts[1]; dm.Form.Get("channel") != "DURITA" || !strings.Contains(dm.Form.Get("text"), "doc1") {
		t.Errorf("direct message %v, want one to rita about doc1", dm.Form)
	}
}

func TestNotifierEscalates(t *testing.T) {
	n, slack, fx, _ := newNotifier(t)
	notice := openedNotice(t, fx)
	notice.Kind, notice.Ref = countersign.NoticeEscalation, &countersign.NoticeRef{Channel: "CREVIEWS", ID: "1700000000.000001"}
	notice.To = countersign.Audience{Channel: "#leads", Groups: []string{"contracts"}}
	if _, err := n.Notify(context.Background(), notice); err != nil {
		t.Fatal(err)
	}
	posts := slack.received("chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d messages posted, want a thread reply and the escalation", len(posts))
	}
	if posts[0].Form.Get("channel") != "CREVIEWS" || posts[0].Form.Get("thread_ts") != "1700000000.000001" || !strings.Contains(posts[0].Form.Get("text"), "Escalated") {
		t.Errorf("first post %v, want an escalation reply in the review's thread", posts[0].Form)
	}
	escalation := posts[1]
	all := texts(t, escalation.blocks(t))
	if escalation.Form.Get("channel") != "#leads" || escalation.Form.Get("thread_ts") != "" {
		t.Errorf("escalation posted to %s (thread %q), want a new message in #leads", escalation.Form.Get("channel"), escalation.Form.Get("thread_ts"))
	}
	if !strings.Contains(all, "Escalated") || !strings.Contains(all, "<@URITA>") || !strings.Contains(all, "countersign_approve") {
		t.Errorf("escalation lacks its context, mentions or buttons:\n%s", all)
	}
}

func TestNotifierReturnsSlackOutages(t *testing.T) {
	n, slack, fx, _ := newNotifier(t)
	slack.setDown(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.Notify(ctx, openedNotice(t, fx)); err == nil {
		t.Fatal("Notify with Slack down succeeded, want an error for the caller to retry")
	}
	n.Channel = ""
	slack.setDown(false)
	if _, err := n.Notify(ctx, openedNotice(t, fx)); err == nil || !strings.Contains(err.Error(), "no channel") {
		t.Fatalf("Notify with no channel = %v, want an error naming it", err)
	}
}

func TestClientWaitsOutRetryAfter(t *testing.T) {
	slack := newFakeSlack(t)
	client, clock := newClient(slack)
	slack.limit("chat.update", 7)
	if err := client.UpdateMessage(context.Background(), "C1", "1.2"); err != nil {
		t.Fatalf("update after one 429: %v", err)
	}
	if got := clock.slept(); len(got) != 1 || got[0] != 7*time.Second {
		t.Errorf("slept %v, want the 7s Slack's Retry-After asked for", got)
	}
	if n := len(slack.received("chat.update")); n != 1 {
		t.Errorf("%d updates went through, want 1", n)
	}

	slack.limit("chat.update", 1, 1, 1, 1, 1)
	err := client.UpdateMessage(context.Background(), "C1", "1.2")
	if err == nil || !strings.Contains(err.Error(), "rate limited") {
		t.Fatalf("update after %d 429s = %v, want a rate limit error", DefaultRetries+1, err)
	}

	slack.limit("chat.update", 30)
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(10*time.Second))
	defer cancel()
	before := len(clock.slept())
	if err := client.UpdateMessage(ctx, "C1", "1.2"); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Retry-After past the deadline = %v, want an error at once", err)
	}
	if len(clock.slept()) != before {
		t.Errorf("waited past the caller's deadline")
	}
}

func TestClientKeepsToTheTierLimits(t *testing.T) {
	slack := newFakeSlack(t)
	client, clock := newClient(slack)
	ctx := context.Background()
	for range 3 {
		if _, _, err := client.PostMessage(ctx, "C1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := client.PostMessage(ctx, "C2"); err != nil {
		t.Fatal(err)
	}
	// One message a second per channel: the second and third to C1 wait
	// a second each; the first to C2 does not wait.
	got := clock.slept()
	if len(got) != 2 || got[0] != time.Second || got[1] != time.Second {
		t.Errorf("slept %v, want 1s twice", got)
	}
}

// TestNotifierLinksEvidenceToItsPage: for a PDF document, each field with
// evidence links to its box on the review page, naming the page it is on
// (told from the page separators before it); a text document has no such
// links.
func TestNotifierLinksEvidenceToItsPage(t *testing.T) {
	n, slack, fx, _ := newNotifier(t)
	notice := openedNotice(t, fx)
	if _, err := n.Notify(context.Background(), notice); err != nil {
		t.Fatal(err)
	}
	if all := texts(t, slack.received("chat.postMessage")[0].blocks(t)); strings.Contains(all, "#pbox-") {
		t.Errorf("a text document's message links to page boxes:\n%s", all)
	}
	doc := *notice.Document
	doc.OriginalSHA256 = "0123abcd"
	doc.Content = "p1" + countersign.PageSeparator + strings.Repeat("word ", 400)
	draft := *doc.Draft
	draft.Evidence = map[string]countersign.Evidence{
		"party_a":     {Quote: "p1", Start: 0, End: 2},
		"term_months": {Quote: "word", Start: 10, End: 14},
	}
	doc.Draft = &draft
	notice.Document = &doc
	if _, err := n.Notify(context.Background(), notice); err != nil {
		t.Fatal(err)
	}
	all := texts(t, slack.received("chat.postMessage")[1].blocks(t))
	linked := 0
	tt, err := testTypes.Get(doc.TaskType)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fieldview.List(tt, &doc) {
		if f.Evidence == nil || f.Evidence.End <= f.Evidence.Start {
			continue
		}
		page := "1"
		if f.Evidence.Start >= 5 {
			page = "2"
		}
		want := "<https://cs.example.com/ui/reviews/doc1-r1?a=1&amp;b=2#pbox-" + strconv.Itoa(f.Index) + "|See it on page " + page + ">"
		if !strings.Contains(all, want) {
			t.Errorf("message lacks %s's link %q:\n%s", f.Name, want, all)
		}
		linked++
	}
	if linked != 2 {
		t.Fatalf("%d fields with evidence; want party_a and term_months", linked)
	}
}
