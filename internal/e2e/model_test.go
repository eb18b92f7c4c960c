package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// TestModelPipeline runs the shipped examples with a model endpoint
// configured, as a user does by setting OPENAI_BASE_URL: the auto extractor
// drafts with the model, the rules cross-check it, and a draft that is
// grounded, probable and agrees with the rules is accepted on measured
// signals alone; a draft that invents a value goes to a person.
func TestModelPipeline(t *testing.T) {
	srv := llmtest.New(t)
	content := sample(t, "pii-extraction", "claim-form-daniel-obrien.txt")
	good := llmtest.Fields(
		"full_name", &llmtest.Field{Value: "Daniel O'Brien", Quote: "Daniel O'Brien"},
		"email", &llmtest.Field{Value: "dobrien@mailbox.example", Quote: "dobrien@mailbox.example"},
		"phone", &llmtest.Field{Value: "+1 617 555 0142", Quote: "+1 617 555 0142"},
		"date_of_birth", &llmtest.Field{Value: "1979-04-17", Quote: "1979-04-17"},
		"postal_address", &llmtest.Field{Value: "12 Elm Street, Apt 3B, Somerville, MA 02143", Quote: "12 Elm Street, Apt 3B, Somerville, MA 02143"},
		"customer_id", &llmtest.Field{Value: "AUTO-88213094", Quote: "AUTO-88213094"},
	)
	invented := strings.Replace(good, `"value": "Daniel O'Brien", "quote": "Daniel O'Brien"`, `"value": "Dan Brown", "quote": "Dan Brown"`, 1)
	srv.Otherwise(func(req openai.ChatCompletionRequest) llmtest.Reply {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "Version B") {
			return llmtest.Answer(invented)
		}
		return llmtest.Answer(good)
	})
	a := startAppWith(t, config.Config{OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "local-model"}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	final := func(content string) *api.DocumentView {
		t.Helper()
		sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", Content: content})
		if err != nil {
			t.Fatal(err)
		}
		for {
			doc, err := u.admin.Document(ctx, sub.ID)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Route != nil {
				return doc
			}
			select {
			case <-ctx.Done():
				t.Fatalf("document %s was never routed", sub.ID)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	doc := final(content)
	if doc.Draft.Extractor != "openai" || doc.Draft.Model != "local-model" {
		t.Fatalf("draft by %q %q; with a model configured the auto extractor uses it", doc.Draft.Extractor, doc.Draft.Model)
	}
	if o := doc.Route.Outcome; o != countersign.OutcomeAutoAccept && o != countersign.OutcomeAutoAcceptWithAudit {
		t.Fatalf("route %s %v; want a grounded, probable draft the rules agree with accepted", o, doc.Route.Reasons)
	}
	for _, signal := range []string{"schema", "grounding", "token_prob", "rules"} {
		if v, ok := doc.Confidence.Fields["full_name"].Signals[signal]; !ok || v < 0.9 {
			t.Errorf("full_name %s = %v (present %v)", signal, v, ok)
		}
	}

	doc = final(content + "\nVersion B")
	if doc.Route.Outcome != countersign.OutcomeHumanReview {
		t.Fatalf("route %s %v; an invented name must go to a person", doc.Route.Outcome, doc.Route.Reasons)
	}
	if got := strings.Join(doc.Route.Reasons, "; "); !strings.Contains(got, "full_name") {
		t.Errorf("route reasons %q do not name full_name", got)
	}
	events, err := u.admin.Audit(ctx, doc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == countersign.EventDraftCreated && (!strings.Contains(string(e.Data), `"model":"local-model"`) || !strings.Contains(string(e.Data), `"usage"`)) {
			t.Errorf("draft event does not record the model and its token usage: %s", e.Data)
		}
	}
}
