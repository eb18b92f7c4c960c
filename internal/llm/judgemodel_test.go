package llm_test

import (
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

const verdicts = `{"vendor": "right", "total": "wrong", "due_date": "unsure"}`

// TestJudgeModelOnItsOwnEndpoint: a judge model at an endpoint of its own
// gets the judging call, with its own key; the drafting endpoint gets only
// the draft, and the draft counts both calls' tokens.
func TestJudgeModelOnItsOwnEndpoint(t *testing.T) {
	drafter, judge := llmtest.New(t), llmtest.New(t)
	drafter.Enqueue(llmtest.Answer(goodAnswer()))
	judge.Enqueue(llmtest.Answer(verdicts))
	t.Setenv("TEST_JUDGE_KEY", "sk-judge")
	tt := invoiceType(t, 1, 0)
	tt.Model.Judge, tt.Model.JudgeModel, tt.Model.JudgeBaseURL, tt.Model.JudgeAPIKeyEnv = true, "judge-model", judge.BaseURL(), "TEST_JUDGE_KEY"
	draft, err := extractWith(t, drafter, tt, invoice)
	if err != nil {
		t.Fatal(err)
	}
	if !countersign.SameValue(draft.Judge, map[string]float64{"vendor": 1, "total": 0, "due_date": 0.5}) {
		t.Errorf("judge = %v", draft.Judge)
	}
	if n := len(drafter.Requests()); n != 1 {
		t.Errorf("%d requests to the drafting endpoint, want the draft only", n)
	}
	reqs := judge.Requests()
	if len(reqs) != 1 || reqs[0].Model != "judge-model" {
		t.Fatalf("judge endpoint requests %+v, want one for judge-model", reqs)
	}
	if got := judge.Authorizations(); got[0] != "Bearer sk-judge" {
		t.Errorf("judge endpoint got %q, want the judge's key", got[0])
	}
	if got := drafter.Authorizations(); got[0] != "Bearer sk-test" {
		t.Errorf("drafting endpoint got %q, want the worker's key", got[0])
	}
	if draft.Usage.PromptTokens <= 0 || draft.Usage.CompletionTokens < len(llmtest.Tokenize(goodAnswer()))+len(llmtest.Tokenize(verdicts)) {
		t.Errorf("usage %+v does not count the judge's tokens", draft.Usage)
	}
}

// TestJudgeModelKeys: a judge model on the drafting endpoint is called there
// with the drafting key; a judge endpoint of the task type's choosing with
// no key variable of its own gets no key, not the worker's.
func TestJudgeModelKeys(t *testing.T) {
	srv := llmtest.New(t)
	srv.Enqueue(llmtest.Answer(goodAnswer()), llmtest.Answer(verdicts))
	tt := invoiceType(t, 1, 0)
	tt.Model.Judge, tt.Model.JudgeModel = true, "judge-model"
	if _, err := extractWith(t, srv, tt, invoice); err != nil {
		t.Fatal(err)
	}
	reqs, auth := srv.Requests(), srv.Authorizations()
	if len(reqs) != 2 || reqs[0].Model != "test-model" || reqs[1].Model != "judge-model" || auth[1] != "Bearer sk-test" {
		t.Errorf("models %v, keys %q; want the draft by test-model, the verdicts by judge-model, both with the worker's key", []string{reqs[0].Model, reqs[1].Model}, auth)
	}

	elsewhere := llmtest.New(t)
	srv.Enqueue(llmtest.Answer(goodAnswer()))
	elsewhere.Enqueue(llmtest.Answer(verdicts))
	tt.Model.JudgeBaseURL = elsewhere.BaseURL()
	if _, err := extractWith(t, srv, tt, invoice); err != nil {
		t.Fatal(err)
	}
	if got := elsewhere.Authorizations(); len(got) != 1 || got[0] != "" {
		t.Errorf("the task type's judge endpoint got %q; the worker's key goes to the worker's endpoint only", got)
	}
}
