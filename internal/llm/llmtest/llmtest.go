// Package llmtest is an OpenAI-compatible chat completions server for tests:
// real HTTP and the real wire format (choices, finish reasons, refusals,
// token logprobs with their top_logprobs, usage, error bodies, Retry-After),
// answering from a script.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode"

	openai "github.com/sashabaranov/go-openai"
)

// Reply is one scripted answer to a chat completion request.
type Reply struct {
	// Status, when not 0 or 200, answers with an OpenAI error body.
	Status     int
	RetryAfter string
	Code       string // the error code, e.g. context_length_exceeded
	Choices    []Choice
}

// Choice is one choice of a successful answer.
type Choice struct {
	Content      string
	FinishReason string // default "stop"
	Refusal      string
	// Logprob is every token's logprob (default -0.001), except tokens
	// listed in TokenLogprobs.
	Logprob       float64
	TokenLogprobs map[string]float64
	// NoLogprobs leaves logprobs out, as some endpoints do.
	NoLogprobs bool
	// Alternatives scripts top_logprobs: for a token of the content (by
	// its text, as Tokenize splits it; every occurrence), other tokens and
	// their logprobs. When the request asks for top_logprobs, each token's
	// list holds the token itself and its alternatives, likeliest first, as
	// many as the request asks for.
	Alternatives map[string]map[string]float64
	// NoTopLogprobs sends every token's top_logprobs empty even when asked
	// for, as endpoints that do not support them do.
	NoTopLogprobs bool
	// Tokens, when set, are the answer's tokens as sent, each with its own
	// logprob and alternatives, in place of Tokenize(Content) with Logprob,
	// TokenLogprobs and Alternatives: for a fake model that states how sure
	// it was of each value. They must spell Content.
	Tokens []Token
}

// Token is one scripted token of an answer.
type Token struct {
	Text    string
	Logprob float64
	// Top are other tokens the model weighed at this position, with their
	// logprobs; the token itself is added to top_logprobs.
	Top map[string]float64
}

// Doubt returns content's tokens, as Tokenize splits it, each written with
// no doubt (logprob 0) but the one that starts at byte offset at: the model
// gave it probability p and each token of top its probability there. For
// a fake model that hesitated at one place of its answer, as Choice.Tokens.
func Doubt(content string, at int, p float64, top map[string]float64) []Token {
	var out []Token
	offset := 0
	for _, text := range Tokenize(content) {
		t := Token{Text: text}
		if offset == at {
			t.Logprob = math.Log(p)
			t.Top = map[string]float64{}
			for other, q := range top {
				t.Top[other] = math.Log(q)
			}
		}
		out = append(out, t)
		offset += len(text)
	}
	return out
}

// Answer returns a reply with one choice per content.
func Answer(contents ...string) Reply {
	r := Reply{}
	for _, c := range contents {
		r.Choices = append(r.Choices, Choice{Content: c})
	}
	return r
}

// Fail returns an error reply.
func Fail(status int) Reply { return Reply{Status: status} }

// Server is the test endpoint. Its base URL ends in /v1.
type Server struct {
	*httptest.Server
	// Models is what GET /v1/models lists.
	Models []string

	mu       sync.Mutex
	script   []Reply
	fallback func(openai.ChatCompletionRequest) Reply
	requests []openai.ChatCompletionRequest
	auth     []string
}

// New starts a server that the test closes.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside a test (a benchmark's fake model); the
// caller closes it.
func Start() *Server {
	s := &Server{Models: []string{"test-model"}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL is the endpoint to configure (…/v1).
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Enqueue adds replies, used in order, one per request.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Otherwise answers requests once the script is used up.
func (s *Server) Otherwise(f func(openai.ChatCompletionRequest) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = f
}

// Requests returns the chat completion requests received so far.
func (s *Server) Requests() []openai.ChatCompletionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openai.ChatCompletionRequest(nil), s.requests...)
}

// Authorizations returns the Authorization header of each chat completion
// request received so far ("" when there was none), in order.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		var list openai.ModelsList
		for _, id := range s.Models {
			list.Models = append(list.Models, openai.Model{ID: id, Object: "model", OwnedBy: "test"})
		}
		writeJSON(w, http.StatusOK, list)
		return
	case r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions":
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req openai.ChatCompletionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid request body: "+err.Error())
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	var reply Reply
	switch {
	case len(s.script) > 0:
		reply, s.script = s.script[0], s.script[1:]
	case s.fallback != nil:
		reply = s.fallback(req)
	default:
		s.mu.Unlock()
		writeError(w, http.StatusInternalServerError, "", "the test script has no reply left")
		return
	}
	s.mu.Unlock()

	if reply.Status != 0 && reply.Status != http.StatusOK {
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
		writeError(w, reply.Status, reply.Code, http.StatusText(reply.Status))
		return
	}
	resp := response{ID: "chatcmpl-test", Object: "chat.completion", Created: 1, Model: req.Model, Choices: []choice{}}
	for i, c := range reply.Choices {
		finish := openai.FinishReasonStop
		if c.FinishReason != "" {
			finish = openai.FinishReason(c.FinishReason)
		}
		ch := choice{
			Index:        i,
			Message:      openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: c.Content, Refusal: c.Refusal},
			FinishReason: finish,
		}
		if req.LogProbs && !c.NoLogprobs && c.Refusal == "" {
			top := req.TopLogProbs
			if c.NoTopLogprobs {
				top = 0
			}
			ch.LogProbs = &logprobsContent{Content: logprobs(c, top)}
		}
		resp.Choices = append(resp.Choices, ch)
		resp.Usage.CompletionTokens += len(Tokenize(c.Content))
	}
	for _, m := range req.Messages {
		resp.Usage.PromptTokens += len(Tokenize(m.Content))
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	writeJSON(w, http.StatusOK, resp)
}

// response, choice and the logprob types are the chat completion answer as
// OpenAI writes it: among others, a token's bytes are an array of numbers,
// not the base64 string encoding/json would make of a []byte.
type response struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []choice     `json:"choices"`
	Usage   openai.Usage `json:"usage"`
}

type choice struct {
	Index        int                          `json:"index"`
	Message      openai.ChatCompletionMessage `json:"message"`
	FinishReason openai.FinishReason          `json:"finish_reason"`
	LogProbs     *logprobsContent             `json:"logprobs"`
}

type logprobsContent struct {
	Content []tokenLogprob `json:"content"`
}

type tokenLogprob struct {
	Token       string        `json:"token"`
	Logprob     float64       `json:"logprob"`
	Bytes       []int         `json:"bytes"`
	TopLogprobs []topLogprobs `json:"top_logprobs"`
}

type topLogprobs struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

func logprobs(c Choice, top int) []tokenLogprob {
	if len(c.Tokens) > 0 {
		return scripted(c.Tokens, top)
	}
	base := c.Logprob
	if base == 0 {
		base = -0.001
	}
	var out []tokenLogprob
	for _, tok := range Tokenize(c.Content) {
		lp := base
		if v, ok := c.TokenLogprobs[tok]; ok {
			lp = v
		}
		entry := tokenLogprob{Token: tok, Logprob: lp, Bytes: byteValues(tok), TopLogprobs: []topLogprobs{}}
		if top > 0 {
			list := []topLogprobs{{Token: tok, Logprob: lp, Bytes: byteValues(tok)}}
			for other, olp := range c.Alternatives[tok] {
				list = append(list, topLogprobs{Token: other, Logprob: olp, Bytes: byteValues(other)})
			}
			sortTop(list)
			entry.TopLogprobs = list[:min(top, len(list))]
		}
		out = append(out, entry)
	}
	return out
}

// scripted sends tokens as given, each with the top of its alternatives.
func scripted(tokens []Token, top int) []tokenLogprob {
	out := make([]tokenLogprob, 0, len(tokens))
	for _, t := range tokens {
		entry := tokenLogprob{Token: t.Text, Logprob: t.Logprob, Bytes: byteValues(t.Text), TopLogprobs: []topLogprobs{}}
		if top > 0 {
			list := []topLogprobs{{Token: t.Text, Logprob: t.Logprob, Bytes: byteValues(t.Text)}}
			for other, lp := range t.Top {
				list = append(list, topLogprobs{Token: other, Logprob: lp, Bytes: byteValues(other)})
			}
			sortTop(list)
			entry.TopLogprobs = list[:min(top, len(list))]
		}
		out = append(out, entry)
	}
	return out
}

func sortTop(list []topLogprobs) {
	sort.Slice(list, func(i, j int) bool {
		if list[i].Logprob != list[j].Logprob {
			return list[i].Logprob > list[j].Logprob
		}
		return list[i].Token < list[j].Token
	})
}

func byteValues(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}

// Tokenize splits text the way the server's tokens fall: runs of letters and
// digits, runs of spaces, and every other character on its own.
func Tokenize(s string) []string {
	var out []string
	var cur strings.Builder
	kind := 0 // 1 word, 2 space
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		k := 3
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			k = 1
		case r == ' ':
			k = 2
		}
		if k != kind || k == 3 {
			flush()
		}
		kind = k
		cur.WriteRune(r)
	}
	flush()
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	body := map[string]any{"error": map[string]any{"message": message, "type": "test_error", "code": nilIfEmpty(code)}}
	writeJSON(w, status, body)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Field is one field of a scripted answer.
type Field struct {
	Value any
	Quote string
	// Pointer, when set, is the JSON Pointer into an alert the quote is
	// the value of.
	Pointer string
}

// Fields writes an answer object: each field as {"value", "quote"} (and
// "pointer" when the Field has one), or null
// for a nil *Field. Keys keep the given order.
func Fields(pairs ...any) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		key, _ := json.Marshal(pairs[i])
		b.Write(key)
		b.WriteString(": ")
		f, _ := pairs[i+1].(*Field)
		if f == nil {
			b.WriteString("null")
			continue
		}
		value, _ := json.Marshal(f.Value)
		quote, _ := json.Marshal(f.Quote)
		if f.Pointer != "" {
			pointer, _ := json.Marshal(f.Pointer)
			fmt.Fprintf(&b, `{"value": %s, "quote": %s, "pointer": %s}`, value, quote, pointer)
			continue
		}
		fmt.Fprintf(&b, `{"value": %s, "quote": %s}`, value, quote)
	}
	b.WriteString("}")
	return b.String()
}
