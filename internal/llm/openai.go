package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/trace"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/evidence"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/internal/telemetry"
)

// OpenAIConfig is the worker-wide configuration of the openai extractor; a
// task type's model settings override it.
type OpenAIConfig struct {
	// BaseURL of an OpenAI-compatible endpoint; empty means OpenAI's.
	BaseURL string
	// APIKey is used when the task type names no key variable of its own.
	APIKey string
	// Model is the default model. With a BaseURL and no model anywhere, the
	// endpoint's first listed model is used.
	Model string
	// HTTPClient makes the calls; nil means a default client.
	HTTPClient *http.Client
	// TracerProvider traces each chat completion (a span with the GenAI
	// attributes: model, token usage, finish reasons; never the messages);
	// nil traces nothing.
	TracerProvider trace.TracerProvider
	// Metrics counts tokens, durations and errors by model; nil counts
	// nothing.
	Metrics *telemetry.Metrics
}

// DefaultOpenAIModel is the model used on OpenAI's own endpoint when none is
// configured.
const DefaultOpenAIModel = "gpt-4o-mini"

const openAIURL = "https://api.openai.com/v1"

// defaultMaxOutputTokens caps an answer when the task type does not.
const defaultMaxOutputTokens = 4096

// OpenAI is the openai extractor: it asks an OpenAI-compatible chat
// completions endpoint for the task type's fields as structured output (JSON
// Schema, strict), each with a verbatim evidence quote, with token logprobs,
// optionally several samples, one repair attempt on an unusable answer, and
// optionally a second call that judges each field against the guideline.
type OpenAI struct {
	cfg  OpenAIConfig
	http *http.Client

	mu      sync.Mutex
	clients map[string]*openai.Client // by base URL and key
	models  map[string]string         // discovered model by base URL
	schemas map[string]*compiledTask  // by task type version
}

type compiledTask struct {
	wire   json.RawMessage // the answer schema sent to the model
	fields *schema.Schema  // the task type's own schema
	// labels are the fields whose values are a closed set of strings,
	// with them, for the label probability.
	labels map[string][]string
}

// NewOpenAI returns an openai extractor.
func NewOpenAI(cfg OpenAIConfig) *OpenAI {
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return &OpenAI{
		cfg:     cfg,
		http:    client,
		clients: map[string]*openai.Client{},
		models:  map[string]string{},
		schemas: map[string]*compiledTask{},
	}
}

// Available reports whether a model endpoint is configured for tt: a base
// URL or an API key, in the task type or the worker's configuration. The
// auto extractor uses the model only then.
func (o *OpenAI) Available(tt *countersign.TaskType) bool {
	return tt.Model.BaseURL != "" || o.cfg.BaseURL != "" || o.apiKey(tt) != ""
}

// apiKey is the key for tt's endpoint: from the variable the task type
// names, else the worker's key, but only for the worker's own endpoint, so a
// task type cannot send the worker's key to an endpoint of its choosing.
func (o *OpenAI) apiKey(tt *countersign.TaskType) string {
	switch {
	case tt.Model.APIKeyEnv != "":
		return os.Getenv(tt.Model.APIKeyEnv)
	case tt.Model.BaseURL != "" && tt.Model.BaseURL != o.cfg.BaseURL:
		return ""
	}
	return o.cfg.APIKey
}

func (o *OpenAI) baseURL(tt *countersign.TaskType) string {
	switch {
	case tt.Model.BaseURL != "":
		return tt.Model.BaseURL
	case o.cfg.BaseURL != "":
		return o.cfg.BaseURL
	}
	return openAIURL
}

func (o *OpenAI) client(baseURL, key string) *openai.Client {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := baseURL + "\x00" + key
	if c, ok := o.clients[id]; ok {
		return c
	}
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = strings.TrimRight(baseURL, "/")
	cfg.HTTPClient = &retryAfterDoer{client: o.http}
	c := openai.NewClientWithConfig(cfg)
	o.clients[id] = c
	return c
}

// model picks the model for tt: the task type's, the worker's, OpenAI's
// default on OpenAI's endpoint, or the first the endpoint lists.
func (o *OpenAI) model(ctx context.Context, tt *countersign.TaskType, c *openai.Client, baseURL string) (string, error) {
	switch {
	case tt.Model.Name != "":
		return tt.Model.Name, nil
	case o.cfg.Model != "":
		return o.cfg.Model, nil
	case baseURL == openAIURL:
		return DefaultOpenAIModel, nil
	}
	o.mu.Lock()
	name, ok := o.models[baseURL]
	o.mu.Unlock()
	if ok {
		return name, nil
	}
	list, err := c.ListModels(ctx)
	if err != nil {
		return "", classify(fmt.Errorf("no model configured, and listing the endpoint's models failed: %w", err))
	}
	if len(list.Models) == 0 {
		return "", permanentf("no model configured, and %s lists none: set model.name in the task type or --openai-model", baseURL)
	}
	o.mu.Lock()
	o.models[baseURL] = list.Models[0].ID
	o.mu.Unlock()
	return list.Models[0].ID, nil
}

func (o *OpenAI) compiled(tt *countersign.TaskType) (*compiledTask, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c, ok := o.schemas[tt.Version]; ok {
		return c, nil
	}
	fields, err := schema.Compile(tt.Schema)
	if err != nil {
		return nil, permanentf("task type %s: %v", tt.Name, err)
	}
	wire, err := AnswerSchema(tt)
	if err != nil {
		return nil, permanentf("task type %s: %v", tt.Name, err)
	}
	c := &compiledTask{wire: wire, fields: fields, labels: fieldLabels(tt)}
	o.schemas[tt.Version] = c
	return c, nil
}

// Extract drafts doc's fields with the model.
func (o *OpenAI) Extract(ctx context.Context, tt *countersign.TaskType, doc *countersign.Document) (*countersign.Draft, error) {
	if tt.Comparison != nil {
		return o.compare(ctx, tt, doc)
	}
	compiled, err := o.compiled(tt)
	if err != nil {
		return nil, err
	}
	prompt, err := tasktype.RenderPrompt(tt, tt.Prompt, doc)
	if err != nil {
		return nil, permanentf("task type %s: %v", tt.Name, err)
	}
	baseURL := o.baseURL(tt)
	c := o.client(baseURL, o.apiKey(tt))
	model, err := o.model(ctx, tt, c, baseURL)
	if err != nil {
		return nil, err
	}
	maxOutput := tt.Model.MaxOutputTokens
	if maxOutput == 0 {
		maxOutput = defaultMaxOutputTokens
	}
	if limit := tt.Model.MaxContextTokens; limit > 0 {
		need := EstimateTokens(prompt.System) + EstimateTokens(prompt.User) + maxOutput
		if need > limit {
			return nil, permanentf("the document is too long for the model: about %d tokens with the prompt and a %d-token answer, over the %d-token context of model.max_context_tokens; split the document before submitting it", need, maxOutput, limit)
		}
	}
	samples := max(tt.Model.Samples, 1)
	call := &call{
		client:    c,
		observer:  newObserver(o.cfg, baseURL),
		task:      tt,
		compiled:  compiled,
		content:   doc.Content,
		maxOutput: maxOutput,
		request: openai.ChatCompletionRequest{
			Model: model,
			Messages: []openai.ChatCompletionMessage{
				{Role: openai.ChatMessageRoleSystem, Content: prompt.System},
				{Role: openai.ChatMessageRoleUser, Content: prompt.User},
			},
			MaxCompletionTokens: maxOutput,
			N:                   samples,
			Temperature:         temperature(tt.Model.Temperature, samples),
			Seed:                tt.Model.Seed,
			LogProbs:            true,
			TopLogProbs:         topLogprobs,
			ResponseFormat: &openai.ChatCompletionResponseFormat{
				Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
				JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
					Name:   "fields",
					Schema: compiled.wire,
					Strict: true,
				},
			},
		},
	}
	answers, notes, err := call.answers(ctx)
	if err != nil {
		return nil, err
	}
	draft := vote(tt, answers, doc.Content)
	draft.Model = model
	draft.Prompt = tt.Prompt.Version
	draft.Notes = notes
	draft.Usage = &call.usage
	if tt.Model.Judge && len(draft.Fields) > 0 {
		judge := o.judgeCall(tt, call)
		verdicts, err := judge.judge(ctx, prompt, draft)
		call.usage.PromptTokens += judge.usage.PromptTokens
		call.usage.CompletionTokens += judge.usage.CompletionTokens
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			draft.Notes = append(draft.Notes, "the judge could not check the draft: "+err.Error())
		}
		draft.Judge = verdicts
	}
	return draft, nil
}

// judgeCall is the call the judge makes: on the drafting model, or on the
// task type's judge model, at the judge's endpoint when it names one. The
// judge's key follows the drafting key's rule: the variable the task type
// names, else the drafting key on the drafting endpoint, else the worker's
// key on the worker's endpoint, else none.
func (o *OpenAI) judgeCall(tt *countersign.TaskType, drafting *call) *call {
	judge := &call{
		client:    drafting.client,
		observer:  drafting.observer,
		task:      drafting.task,
		compiled:  drafting.compiled,
		content:   drafting.content,
		maxOutput: drafting.maxOutput,
		request:   drafting.request,
	}
	if tt.Model.JudgeModel != "" {
		judge.request.Model = tt.Model.JudgeModel
	}
	if base := tt.Model.JudgeBaseURL; base != "" || tt.Model.JudgeAPIKeyEnv != "" {
		if base == "" {
			base = o.baseURL(tt)
		}
		var key string
		switch {
		case tt.Model.JudgeAPIKeyEnv != "":
			key = os.Getenv(tt.Model.JudgeAPIKeyEnv)
		case base == o.baseURL(tt):
			key = o.apiKey(tt)
		case base == o.cfg.BaseURL:
			key = o.cfg.APIKey
		}
		judge.client = o.client(base, key)
		judge.observer = newObserver(o.cfg, base)
	}
	return judge
}

// temperature is the sampling temperature to send. go-openai leaves a zero
// temperature out of the request, which endpoints read as their default
// (often 1), so an explicit zero is sent as the smallest positive float.
// Several samples without a configured temperature sample at 1, so that they
// can disagree.
func temperature(configured *float64, samples int) float32 {
	switch {
	case configured == nil && samples > 1:
		return 1
	case configured == nil || *configured == 0:
		return math.SmallestNonzeroFloat32
	}
	return float32(*configured)
}

// EstimateTokens is a rough, deliberately generous count of the tokens in s
// (about four bytes a token for English text), for refusing a document that
// cannot fit the context before paying for the call.
func EstimateTokens(s string) int { return (len(s) + 3) / 4 }

// call is one extraction: the request, the running token usage and the
// task it is for.
type call struct {
	client    *openai.Client
	observer  observer
	task      *countersign.TaskType
	compiled  *compiledTask
	content   string
	maxOutput int
	request   openai.ChatCompletionRequest
	usage     countersign.Usage
}

// answers asks for the samples and returns them, the unusable ones empty.
// A sample is usable when it has the answer's shape; within it, a value that
// breaks its field's schema takes no part in the vote, and a null (the
// document does not state the field) is an answer like any other, even for a
// required field. When no sample is usable, or some field has only values
// that break the schema, it makes one repair attempt, showing the model its
// answer and what was wrong with it. A repair that fails too leaves the
// samples as they were, values that break the schema included, for a person
// to correct; only when no sample had the answer's shape does the extraction
// fail for good.
func (c *call) answers(ctx context.Context) ([]answer, []string, error) {
	resp, err := c.complete(ctx, c.request)
	if err != nil {
		return nil, nil, err
	}
	answers := make([]answer, 0, c.request.N)
	var unusable, broken []string
	usable := 0
	for i, choice := range resp.Choices {
		a, err := c.parse(choice)
		if err != nil {
			c.observer.unusable(ctx, c.request.Model)
			unusable = append(unusable, fmt.Sprintf("sample %d: %v", i+1, err))
			answers = append(answers, answer{})
			continue
		}
		if len(a.broken) > 0 {
			c.observer.unusable(ctx, c.request.Model)
			broken = append(broken, fmt.Sprintf("sample %d: %s", i+1, a.brokenText(c.task.FieldOrder)))
		}
		answers = append(answers, a)
		usable++
	}
	if len(resp.Choices) == 0 {
		unusable = append(unusable, errNoChoices.Error())
	}
	var notes []string
	if n := len(resp.Choices); n > 0 && n < c.request.N {
		notes = append(notes, fmt.Sprintf("the endpoint returned %d of the %d samples asked for; agreement is over those returned", n, c.request.N))
	}
	if usable > 0 && len(unusable) > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d samples were unusable and take no part in the vote: %s", len(unusable), c.request.N, strings.Join(unusable, "; ")))
	}
	if len(broken) > 0 && c.request.N > 1 {
		notes = append(notes, "values that break the schema take no part in the vote: "+strings.Join(broken, "; "))
	}
	unanswered := onlyBroken(c.task.FieldOrder, answers)
	if usable > 0 && len(unanswered) == 0 {
		return padSamples(answers, c.request.N), notes, nil
	}

	// The repair shows the model the answer it is about: the first, or the
	// first whose broken values left a field without an answer.
	first, shown := "", firstContent(resp)
	if usable == 0 {
		first = unusable[0]
	} else {
		for i, a := range answers {
			if text := a.brokenText(unanswered); text != "" {
				first, shown = fmt.Sprintf("sample %d: %s", i+1, text), resp.Choices[i].Message.Content
				break
			}
		}
	}
	if c.request.N == 1 {
		first = strings.TrimPrefix(first, "sample 1: ")
	}
	repaired, why, err := c.repair(ctx, shown, first)
	if err != nil {
		return nil, nil, err
	}
	if why == nil {
		note := "the first answer was unusable (" + first + "); a repair attempt replaced it"
		if len(repaired.broken) > 0 {
			note += ", but still breaks the schema (" + repaired.brokenText(c.task.FieldOrder) + ")"
		}
		return padSamples([]answer{repaired}, c.request.N), []string{note}, nil
	}
	if usable == 0 {
		if errors.Is(why, errNoChoices) {
			return nil, nil, permanentf("the model's answer was unusable (%s), and the repair attempt returned no choices", first)
		}
		return nil, nil, permanentf("the model's answer was unusable (%s), and so was the repair attempt (%v)", first, why)
	}
	notes = append(notes, fmt.Sprintf("a repair attempt was unusable (%v); the values that break the schema stay in the draft for a person to correct", why))
	return padSamples(answers, c.request.N), notes, nil
}

// errNoChoices is an answer without choices.
var errNoChoices = errors.New("the endpoint returned no choices")

// repair asks once more, showing the model its answer and what was wrong
// with it. unusable says why the repaired answer cannot be used, when it
// cannot; err is a failed call (a temporary one is retried with the whole
// extraction).
func (c *call) repair(ctx context.Context, content, problem string) (a answer, unusable error, err error) {
	req := c.request
	req.N = 1
	req.Messages = append(append([]openai.ChatCompletionMessage(nil), c.request.Messages...),
		openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: content},
		openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: "Your answer could not be used: " + problem +
			". Answer again with one JSON object that follows the schema exactly: every field as {\"value\", \"quote\"} or null, quotes copied verbatim from the document, and nothing else."},
	)
	resp, err := c.complete(ctx, req)
	if err != nil {
		return answer{}, nil, err
	}
	if len(resp.Choices) == 0 {
		return answer{}, errNoChoices, nil
	}
	a, unusable = c.parse(resp.Choices[0])
	if unusable != nil {
		c.observer.unusable(ctx, c.request.Model)
		return answer{}, unusable, nil
	}
	if len(a.broken) > 0 {
		c.observer.unusable(ctx, c.request.Model)
	}
	return a, nil, nil
}

// onlyBroken lists the fields for which every usable sample gave a value
// that breaks the schema: the vote has nothing else to go on.
func onlyBroken(fields []string, answers []answer) []string {
	var out []string
	for _, name := range fields {
		broken, other := false, false
		for _, a := range answers {
			if !a.usable {
				continue
			}
			if _, ok := a.broken[name]; ok {
				broken = true
			} else {
				other = true
			}
		}
		if broken && !other {
			out = append(out, name)
		}
	}
	return out
}

// padSamples keeps the count of samples requested, so that samples an
// endpoint did not return count against agreement as unusable ones do: empty
// answers that do not vote.
func padSamples(answers []answer, n int) []answer {
	for len(answers) < n {
		answers = append(answers, answer{})
	}
	return answers
}

func firstContent(resp openai.ChatCompletionResponse) string {
	if len(resp.Choices) == 0 {
		return ""
	}
	return resp.Choices[0].Message.Content
}

func (c *call) complete(ctx context.Context, req openai.ChatCompletionRequest) (resp openai.ChatCompletionResponse, err error) {
	ctx, span := c.observer.start(ctx, req)
	began := time.Now()
	defer func() { c.observer.end(ctx, span, req, resp, err, time.Since(began)) }()
	var retryAfter retryAfterHint
	resp, err = c.client.CreateChatCompletion(withRetryAfter(ctx, &retryAfter), req)
	if err != nil {
		if ctx.Err() != nil {
			return resp, ctx.Err()
		}
		return resp, classifyWithHint(err, retryAfter)
	}
	c.usage.PromptTokens += resp.Usage.PromptTokens
	c.usage.CompletionTokens += resp.Usage.CompletionTokens
	return resp, nil
}

// answer is one sample in the answer's shape: per field, a value that fits
// the field's schema, a value that breaks it, or neither (the model answered
// null: the document does not state it), with its quote and the figures from
// the logprobs. The zero answer is an unusable sample.
type answer struct {
	usable bool
	values countersign.Fields
	// broken holds the values that break their field's schema, and
	// problems what is wrong with each.
	broken       countersign.Fields
	problems     map[string]string
	quotes       map[string]string
	pointers     map[string]string
	tokenProb    map[string]float64
	alternatives map[string]countersign.TokenAlternatives
	labelProb    map[string]countersign.LabelProbability
}

// brokenText says which of fields have values that break the schema, and
// how; empty when none has.
func (a answer) brokenText(fields []string) string {
	var parts []string
	for _, name := range fields {
		if problem, ok := a.problems[name]; ok {
			parts = append(parts, "field "+name+" breaks the schema: "+problem)
		}
	}
	return strings.Join(parts, "; ")
}

// sample is what the answer says of every field, as Draft.Samples keeps it:
// a value, null for a field it says the document does not state, and
// nothing for a field whose value broke the schema.
func (a answer) sample(fields []string) countersign.Fields {
	if !a.usable {
		return nil
	}
	out := countersign.Fields{}
	for _, name := range fields {
		if _, bad := a.broken[name]; bad {
			continue
		}
		out[name] = a.values[name]
	}
	return out
}

// parse turns a choice into an answer, or says why it cannot be used: it is
// cut off, refused, filtered, not a JSON object of {value, quote} pairs, or
// breaks the schema as a whole. A field the model left null is a missing
// field, not a broken answer, even when the schema requires it; a value that
// breaks its field's schema is kept apart, in broken.
func (c *call) parse(choice openai.ChatCompletionChoice) (answer, error) {
	msg := choice.Message
	switch {
	case msg.Refusal != "":
		return answer{}, fmt.Errorf("the model refused: %s", clip(msg.Refusal))
	case choice.FinishReason == openai.FinishReasonLength:
		return answer{}, fmt.Errorf("the answer was cut off at the %d-token limit (finish_reason length)", c.maxOutput)
	case choice.FinishReason == openai.FinishReasonContentFilter:
		return answer{}, errors.New("the answer was withheld by the endpoint's content filter")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(msg.Content), &raw); err != nil {
		return answer{}, fmt.Errorf("the answer is not a JSON object: %v", err)
	}
	a := answer{usable: true, values: countersign.Fields{}, quotes: map[string]string{}}
	for _, name := range c.task.FieldOrder {
		field, ok := raw[name]
		if !ok || string(field) == "null" {
			continue
		}
		var v struct {
			Value   any    `json:"value"`
			Quote   string `json:"quote"`
			Pointer string `json:"pointer"`
		}
		if err := json.Unmarshal(field, &v); err != nil {
			return answer{}, fmt.Errorf("field %s is not a {value, quote} object: %v", name, err)
		}
		if v.Value == nil {
			continue
		}
		a.values[name] = v.Value
		a.quotes[name] = v.Quote
		if p := strings.TrimSpace(v.Pointer); p != "" {
			if a.pointers == nil {
				a.pointers = map[string]string{}
			}
			a.pointers[name] = p
		}
	}
	if err := c.compiled.fields.Validate(a.values); err != nil {
		errs, ok := err.(schema.Errors)
		if !ok {
			return answer{}, fmt.Errorf("the answer breaks the schema: %v", err)
		}
		var whole []string
		for _, fe := range errs {
			value, present := a.values[fe.Field]
			switch {
			case fe.Field == "":
				whole = append(whole, fe.Message)
			case !present:
				// A field the model left out: missing, which scoring and
				// the reviewer deal with field by field.
			case a.problems[fe.Field] != "":
				a.problems[fe.Field] += "; " + fe.Message
			default:
				if a.broken == nil {
					a.broken, a.problems = countersign.Fields{}, map[string]string{}
				}
				a.broken[fe.Field], a.problems[fe.Field] = value, fe.Message
			}
		}
		if len(whole) > 0 {
			return answer{}, fmt.Errorf("the answer breaks the schema: %s", strings.Join(whole, "; "))
		}
		for name := range a.broken {
			delete(a.values, name)
		}
	}
	if choice.LogProbs != nil {
		if tokens := alignTokens(msg.Content, choice.LogProbs.Content, c.task.FieldOrder); tokens != nil {
			a.tokenProb = tokens.probabilities()
			a.alternatives = tokens.alternatives()
			a.labelProb = tokens.labelProbabilities(msg.Content, c.compiled.labels)
		}
	}
	return a, nil
}

// vote makes the draft from the samples: each field takes the value most
// samples gave, or none when most said the document does not state it (the
// earliest sample wins a tie), with that sample's quote and logprob figures.
// Only the samples that answered the field vote on it: not the unusable ones,
// nor those whose value breaks the field's schema. When no sample answered
// the field but some gave a value that breaks its schema, the draft keeps the
// first such value, for the reviewer to see and correct. With one sample the
// draft is that sample.
func vote(tt *countersign.TaskType, answers []answer, content string) *countersign.Draft {
	draft := &countersign.Draft{
		Fields:    countersign.Fields{},
		Evidence:  map[string]countersign.Evidence{},
		Extractor: countersign.ExtractorOpenAI,
	}
	answered := func(a answer, name string) bool {
		_, bad := a.broken[name]
		return a.usable && !bad
	}
	for _, name := range tt.FieldOrder {
		best, bestVotes := -1, 0
		for i, a := range answers {
			if !answered(a, name) {
				continue
			}
			value, ok := a.values[name]
			votes := 0
			for _, b := range answers {
				other, has := b.values[name]
				if answered(b, name) && has == ok && (!ok || countersign.Equivalent(value, other)) {
					votes++
				}
			}
			if votes > bestVotes {
				best, bestVotes = i, votes
			}
		}
		var from answer
		var value any
		var ok bool
		if best >= 0 {
			from = answers[best]
			value, ok = from.values[name]
		} else {
			for _, a := range answers {
				if value, ok = a.broken[name]; ok {
					from = a
					break
				}
			}
		}
		if !ok {
			// Most samples said the document does not state it: the
			// null's token figures, from the sample the vote took.
			if best >= 0 {
				recordTokens(draft, name, from)
			}
			continue
		}
		draft.Fields[name] = value
		quote := strings.TrimSpace(from.quotes[name])
		span, match := evidence.Locate(content, quote)
		if match == evidence.None {
			span = evidence.Span{Start: -1, End: -1}
		}
		draft.Evidence[name] = countersign.Evidence{Quote: quote, Start: span.Start, End: span.End, Pointer: from.pointers[name]}
		recordTokens(draft, name, from)
	}
	if len(answers) > 1 {
		for _, a := range answers {
			draft.Samples = append(draft.Samples, a.sample(tt.FieldOrder))
		}
	}
	return draft
}

// recordTokens copies a field's logprob figures (token probability,
// alternatives and label probability) from the sample the draft took the
// field from.
func recordTokens(draft *countersign.Draft, name string, from answer) {
	if p, ok := from.tokenProb[name]; ok {
		if draft.TokenProb == nil {
			draft.TokenProb = map[string]float64{}
		}
		draft.TokenProb[name] = p
	}
	if alt, ok := from.alternatives[name]; ok {
		if draft.Alternatives == nil {
			draft.Alternatives = map[string]countersign.TokenAlternatives{}
		}
		draft.Alternatives[name] = alt
	}
	if lp, ok := from.labelProb[name]; ok {
		if draft.LabelProb == nil {
			draft.LabelProb = map[string]countersign.LabelProbability{}
		}
		draft.LabelProb[name] = lp
	}
}

func clip(s string) string {
	const limit = 200
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return s
}
