package llm

import (
	"context"
	"errors"
	"net/url"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/countersign/countersign/internal/telemetry"
)

// observer traces chat completions and counts their tokens and errors. It
// records what was asked of which model and what it cost, never the messages
// or the answers: they hold the document.
type observer struct {
	tracer  trace.Tracer
	metrics *telemetry.Metrics
	// server is the endpoint's host, for server.address.
	server string
}

// The GenAI semantic conventions' attributes that the spans carry.
const (
	attrOperation     = "gen_ai.operation.name"
	attrSystem        = "gen_ai.system"
	attrProvider      = "gen_ai.provider.name"
	attrRequestModel  = "gen_ai.request.model"
	attrResponseModel = "gen_ai.response.model"
	attrResponseID    = "gen_ai.response.id"
	attrMaxTokens     = "gen_ai.request.max_tokens"
	attrTemperature   = "gen_ai.request.temperature"
	attrSeed          = "gen_ai.request.seed"
	attrChoiceCount   = "gen_ai.request.choice.count"
	attrFinishReasons = "gen_ai.response.finish_reasons"
	attrInputTokens   = "gen_ai.usage.input_tokens"
	attrOutputTokens  = "gen_ai.usage.output_tokens"
	attrServerAddress = "server.address"
	attrErrorType     = "error.type"
)

// genAISystem is the API the extractor speaks, whichever server answers it.
const genAISystem = "openai"

func newObserver(cfg OpenAIConfig, baseURL string) observer {
	tp := cfg.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	o := observer{tracer: tp.Tracer(telemetry.Scope), metrics: cfg.Metrics}
	if u, err := url.Parse(baseURL); err == nil {
		o.server = u.Hostname()
	}
	return o
}

// start opens the span of one chat completion, named "chat <model>" as the
// conventions ask.
func (o observer) start(ctx context.Context, req openai.ChatCompletionRequest) (context.Context, trace.Span) {
	attrs := []attribute.KeyValue{
		attribute.String(attrOperation, "chat"),
		attribute.String(attrSystem, genAISystem),
		attribute.String(attrProvider, genAISystem),
		attribute.String(attrRequestModel, req.Model),
		attribute.Int(attrMaxTokens, req.MaxCompletionTokens),
		attribute.Float64(attrTemperature, float64(req.Temperature)),
		attribute.Int(attrChoiceCount, max(req.N, 1)),
	}
	if req.Seed != nil {
		attrs = append(attrs, attribute.Int(attrSeed, *req.Seed))
	}
	if o.server != "" {
		attrs = append(attrs, attribute.String(attrServerAddress, o.server))
	}
	return o.tracer.Start(ctx, "chat "+req.Model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// end closes the span of a completion with its usage, or its error, and
// records the metrics.
func (o observer) end(ctx context.Context, span trace.Span, req openai.ChatCompletionRequest, resp openai.ChatCompletionResponse, err error, took time.Duration) {
	defer span.End()
	if err != nil {
		kind := errorKind(err)
		span.SetAttributes(attribute.String(attrErrorType, kind))
		// The error's text is ours (classify), not the endpoint's body,
		// which could echo the prompt.
		span.SetStatus(codes.Error, kind)
		o.metrics.ModelError(ctx, req.Model, kind)
		return
	}
	reasons := make([]string, 0, len(resp.Choices))
	for _, c := range resp.Choices {
		reasons = append(reasons, string(c.FinishReason))
	}
	span.SetAttributes(
		attribute.String(attrResponseModel, resp.Model),
		attribute.String(attrResponseID, resp.ID),
		attribute.StringSlice(attrFinishReasons, reasons),
		attribute.Int(attrInputTokens, resp.Usage.PromptTokens),
		attribute.Int(attrOutputTokens, resp.Usage.CompletionTokens),
	)
	o.metrics.ModelCall(ctx, req.Model, resp.Usage.PromptTokens, resp.Usage.CompletionTokens, took)
}

// unusable counts an answer the extractor could not use.
func (o observer) unusable(ctx context.Context, model string) {
	o.metrics.ModelError(ctx, model, "unusable_answer")
}

// errorKind names a failed call for error.type and the error counter.
func errorKind(err error) string {
	var e *Error
	if errors.As(err, &e) && e.kind != "" {
		return e.kind
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "timeout"
	}
	return "other"
}

// statusKind names an HTTP status the endpoint answered.
func statusKind(status int) string {
	switch {
	case status == 429:
		return "rate_limited"
	case status == 408:
		return "timeout"
	case status == 401 || status == 403:
		return "unauthorized"
	case status == 0:
		return "no_status"
	case status >= 500:
		return "server_error"
	}
	return "client_error"
}
