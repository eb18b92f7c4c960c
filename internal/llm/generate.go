package llm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
)

// Generate makes the candidates of a comparison item submitted with a
// prompt and no candidates: each of the task type's generators answers the
// prompt (as the one user message) Count times, one request a candidate,
// at its temperature and, when it has a seed, with seed+k-1 for its k-th
// candidate. Every candidate records the model asked and its parameters
// (generator, temperature, seed, max_output_tokens, and served_model when
// the endpoint names another model than the one asked), the lineage
// exports carry. A response over comparison.max_response_bytes, an empty
// answer or a refusal is a permanent failure that names the generator (a
// response is never cut to fit: a preference between cut responses teaches
// the wrong thing); so is any permanent failure of the call. A response the
// model cut at its token limit is kept, with a note. The candidates come
// as a draft that holds them alone, with the tokens they cost.
func (o *OpenAI) Generate(ctx context.Context, tt *countersign.TaskType, doc *countersign.Document) (*countersign.Draft, error) {
	spec := tt.Comparison
	if spec == nil || len(spec.Generators) == 0 {
		return nil, permanentf("task type %s has no comparison.generators", tt.Name)
	}
	item, err := countersign.ReadSubmittedItem([]byte(doc.Content), spec)
	if err != nil {
		return nil, permanentf("%v", err)
	}
	if len(item.Candidates) > 0 {
		return nil, permanentf("the item was submitted with candidates: countersign generates candidates only for an item with none")
	}
	draft := &countersign.Draft{Extractor: countersign.ExtractorOpenAI, Usage: &countersign.Usage{}}
	for _, g := range spec.Generators {
		baseURL, key := o.generatorEndpoint(tt, g)
		cl := &call{client: o.client(baseURL, key), observer: newObserver(o.cfg, baseURL), task: tt}
		for k, id := range g.CandidateIDs() {
			params := map[string]any{"generator": g.Name, "temperature": g.Temperature}
			req := openai.ChatCompletionRequest{
				Model:       g.Model,
				Messages:    []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: item.Prompt}},
				Temperature: temperature(&g.Temperature, 1),
			}
			if g.Seed != nil {
				seed := *g.Seed + k
				req.Seed = &seed
				params["seed"] = seed
			}
			if g.MaxOutputTokens > 0 {
				req.MaxCompletionTokens = g.MaxOutputTokens
				params["max_output_tokens"] = g.MaxOutputTokens
			}
			resp, err := cl.complete(ctx, req)
			if err != nil {
				return nil, generatorError(g, id, err)
			}
			if len(resp.Choices) == 0 {
				return nil, permanentf("generator %s (model %s), candidate %s: the endpoint sent no answer", g.Name, g.Model, id)
			}
			choice := resp.Choices[0]
			text := choice.Message.Content
			switch {
			case choice.Message.Refusal != "":
				return nil, permanentf("generator %s (model %s), candidate %s: the model refused: %s", g.Name, g.Model, id, clip(choice.Message.Refusal))
			case strings.TrimSpace(text) == "":
				return nil, permanentf("generator %s (model %s), candidate %s: the response is empty", g.Name, g.Model, id)
			case len(text) > spec.ResponseLimit():
				return nil, permanentf("generator %s (model %s), candidate %s: the response is %d bytes, over the %d of comparison.max_response_bytes; lower the generator's max_output_tokens or raise the limit", g.Name, g.Model, id, len(text), spec.ResponseLimit())
			}
			if choice.FinishReason == openai.FinishReasonLength {
				draft.Notes = append(draft.Notes, fmt.Sprintf("candidate %s (generator %s) was cut at its token limit", id, g.Name))
			}
			if resp.Model != "" && resp.Model != g.Model {
				params["served_model"] = resp.Model
			}
			draft.Candidates = append(draft.Candidates, countersign.Candidate{ID: id, Response: text, Model: g.Model, Params: params})
		}
		draft.Usage.PromptTokens += cl.usage.PromptTokens
		draft.Usage.CompletionTokens += cl.usage.CompletionTokens
	}
	return draft, nil
}

// generatorEndpoint is where a generator's calls go and the key they
// carry, by the task type's rule for its model (apiKey, judgeCall): its own
// base URL, else the task type's endpoint; the key from its own variable,
// else the task type's key on the task type's endpoint, else the worker's
// key on the worker's endpoint, else none, so a generator never carries a
// key to an endpoint it was not configured for.
func (o *OpenAI) generatorEndpoint(tt *countersign.TaskType, g countersign.Generator) (baseURL, key string) {
	baseURL = g.BaseURL
	if baseURL == "" {
		baseURL = o.baseURL(tt)
	}
	switch {
	case g.APIKeyEnv != "":
		key = os.Getenv(g.APIKeyEnv)
	case baseURL == o.baseURL(tt):
		key = o.apiKey(tt)
	case baseURL == o.cfg.BaseURL:
		key = o.cfg.APIKey
	}
	return baseURL, key
}

// generatorError names the generator in a failed call's error, keeping
// whether it is temporary.
func generatorError(g countersign.Generator, id string, err error) error {
	prefix := fmt.Sprintf("generator %s (model %s), candidate %s: ", g.Name, g.Model, id)
	var e *Error
	if errors.As(err, &e) {
		return &Error{msg: prefix + e.msg, temporary: e.temporary, kind: e.kind, retryAfter: e.retryAfter, err: err}
	}
	return fmt.Errorf("%s%w", prefix, err)
}
