package oversightbench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// Profile is the fake model's error profile: how often it gets a field
// wrong, in which ways, and how sure it says it is. Every rate is a
// probability per field of a document; the model draws them from the seed
// and the document, so a run is reproducible.
type Profile struct {
	// LookAlike is the chance, for a field whose document writes another
	// value of its kind (another date, amount, name, claim or policy
	// number, a sentence hinting at another incident type), of answering
	// that value, with a quote of where it stands: grounded, and wrong.
	LookAlike float64
	// Misread is the chance of answering a reference number, date, name
	// or amount one character or digit off, quoting the true text.
	Misread float64
	// Missing is the chance of answering null for a field the document
	// states.
	Missing float64
	// Invent is the chance, for a field the document does not state but
	// writes a value of its kind (an amount claimed when only a deductible
	// is given), of answering that value.
	Invent float64
	// Confident is the share of wrong answers (look-alikes, misreadings,
	// inventions) the model is as sure of as of right ones: its samples
	// agree and its top_logprobs do not hold the true value.
	Confident float64

	// The model's belief in a value is the probability that its samples
	// give it; its logit is drawn from a normal distribution, with these
	// means and spreads for right answers (and confident wrong ones) and
	// for the other wrong ones. Beliefs stay within [0.45, 0.9995].
	RightLogit, RightSpread float64
	WrongLogit, WrongSpread float64
	// Overconfidence and Boldness make the probability the token logprobs
	// state surer than the belief: the stated logit is the belief's times
	// Overconfidence, plus Boldness. The model then says it is surer than
	// its samples show, and than it is right.
	Overconfidence, Boldness float64
	// TrueAlternative is the share of wrong answers (other than confident
	// ones) whose runner-up, in top_logprobs and in the other samples, is
	// the true value; the rest have another wrong value there.
	TrueAlternative float64
	// RunnerUp is the share of the probability the model does not give its
	// value that goes to the runner-up; the rest goes to noise.
	RunnerUp float64
}

// DefaultProfile is the profile the benchmark runs with: about 3% of
// fields wrong, which leaves about a quarter of the documents with at least
// one wrong field, and about 2% with a confident error. A ranking that used
// the model's belief perfectly would send about 26% of documents to people
// at a 5% budget (a perfect oracle: 20%); at 1% it would send nearly all:
// there the confident errors must be told by other signals (context, rules,
// constraints). TestProfileLeavesTheGoalsReachable holds it to that.
func DefaultProfile() Profile {
	return Profile{
		LookAlike:       0.025,
		Misread:         0.008,
		Missing:         0.006,
		Invent:          0.25,
		Confident:       0.1,
		RightLogit:      4.0,
		RightSpread:     1.0,
		WrongLogit:      0.5,
		WrongSpread:     1.0,
		Overconfidence:  1.5,
		Boldness:        1.0,
		TrueAlternative: 0.7,
		RunnerUp:        0.8,
	}
}

// ErrorKind says how a planned answer is wrong; "" is right.
type ErrorKind string

// The ways the fake model gets a field wrong.
const (
	ErrLookAlike ErrorKind = "look-alike"
	ErrMisread   ErrorKind = "misread"
	ErrMissing   ErrorKind = "missing"
	ErrInvented  ErrorKind = "invented"
)

// FieldPlan is what the model believes about one field of one document:
// the value its first sample writes, its belief in it, and its runner-up.
type FieldPlan struct {
	Field string
	Error ErrorKind
	// Value is the answer (nil: null) and Quote its evidence.
	Value any
	Quote string
	// Belief is the probability of Value in the model's samples.
	Belief float64
	// Confident marks a wrong answer given a right one's belief.
	Confident bool
	// RunnerUp is the model's second choice (nil: null), with its quote.
	RunnerUp      any
	RunnerUpQuote string
}

// Stated is the probability the logprobs state for the value:
// the belief, sharpened by the profile's overconfidence.
func (p Profile) Stated(belief float64) float64 {
	return sigmoid(p.Overconfidence*logit(belief) + p.Boldness)
}

// Model is an OpenAI-compatible chat completions endpoint that drafts the
// benchmark's documents with a known error profile. It recognizes each
// document it was given by its text and answers the same request the same
// way every time.
type Model struct {
	Profile Profile
	Seed    uint64

	mu      sync.Mutex
	notices map[[32]byte]*Notice
	plans   map[[32]byte][]FieldPlan
	unknown int
	srv     *llmtest.Server
}

// NewModel returns a fake model with a profile and a seed.
func NewModel(seed uint64, p Profile) *Model {
	return &Model{Profile: p, Seed: seed, notices: map[[32]byte]*Notice{}, plans: map[[32]byte][]FieldPlan{}}
}

// Add makes notices known to the model.
func (m *Model) Add(notices ...*Notice) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range notices {
		m.notices[textKey(n.Text)] = n
	}
}

// Start serves the model over HTTP and returns its base URL (…/v1).
func (m *Model) Start() string {
	m.srv = llmtest.Start()
	m.srv.Models = []string{"fake-claims-1"}
	m.srv.Otherwise(m.Reply)
	return m.srv.BaseURL()
}

// Close stops serving.
func (m *Model) Close() {
	if m.srv != nil {
		m.srv.Close()
	}
}

// Unknown counts the requests about a document the model was not given.
func (m *Model) Unknown() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unknown
}

func textKey(text string) [32]byte { return sha256.Sum256([]byte(strings.TrimSpace(text))) }

// documentIn finds the document in a request: between the default user
// prompt's fences.
func documentIn(req openai.ChatCompletionRequest) (string, bool) {
	for _, msg := range req.Messages {
		_, rest, ok := strings.Cut(msg.Content, "<<<DOCUMENT\n")
		if !ok {
			continue
		}
		text, _, ok := strings.Cut(rest, "\nDOCUMENT>>>")
		if ok {
			return text, true
		}
	}
	return "", false
}

// Reply answers a chat completion request: as many samples as it asks for
// (n), each with token logprobs and their top_logprobs.
func (m *Model) Reply(req openai.ChatCompletionRequest) llmtest.Reply {
	text, ok := documentIn(req)
	var n *Notice
	var plan []FieldPlan
	if ok {
		key := textKey(text)
		m.mu.Lock()
		n = m.notices[key]
		if n != nil {
			if plan = m.plans[key]; plan == nil {
				plan = m.Plan(n)
				m.plans[key] = plan
			}
		}
		m.mu.Unlock()
	}
	if n == nil {
		m.mu.Lock()
		m.unknown++
		m.mu.Unlock()
		return llmtest.Reply{Status: 400, Code: "unknown_document"}
	}
	samples := max(req.N, 1)
	r := m.rand(n, "samples")
	reply := llmtest.Reply{}
	for k := range samples {
		reply.Choices = append(reply.Choices, m.sample(plan, k, r))
	}
	return reply
}

// rand is the model's random source for one purpose on one document.
func (m *Model) rand(n *Notice, purpose string) *rand.Rand {
	h := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%s", m.Seed, purpose, n.Text))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
}

// Plan draws what the model believes about each field of a notice.
func (m *Model) Plan(n *Notice) []FieldPlan {
	out := make([]FieldPlan, 0, len(Fields))
	for _, field := range Fields {
		out = append(out, m.planField(m.rand(n, "plan "+field), n, field))
	}
	return out
}

func (m *Model) planField(r *rand.Rand, n *Notice, field string) FieldPlan {
	p := m.Profile
	stated, has := n.Stated[field]
	fp := FieldPlan{Field: field}
	uLook, uMisread, uMissing, uInvent, uConfident := r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64()
	alike := n.LookAlikes(field)
	r.Shuffle(len(alike), func(i, j int) { alike[i], alike[j] = alike[j], alike[i] })
	misread, canMisread := any(nil), false
	if has {
		misread, canMisread = misreadValue(r, field, stated.Value)
	}
	switch {
	case has && len(alike) > 0 && uLook < p.LookAlike:
		fp.Error, fp.Value, fp.Quote = ErrLookAlike, alike[0].Value, alike[0].Text
	case has && canMisread && uMisread < p.Misread:
		fp.Error, fp.Value, fp.Quote = ErrMisread, misread, stated.Text
	case has && uMissing < p.Missing:
		fp.Error = ErrMissing
	case has:
		fp.Value, fp.Quote = stated.Value, stated.Text
	case len(alike) > 0 && uInvent < p.Invent:
		fp.Error, fp.Value, fp.Quote = ErrInvented, alike[0].Value, alike[0].Text
	}
	wrong := fp.Error != "" && fp.Error != ErrMissing
	fp.Confident = wrong && uConfident < p.Confident
	mean, spread := p.RightLogit, p.RightSpread
	if fp.Error != "" && !fp.Confident {
		mean, spread = p.WrongLogit, p.WrongSpread
	}
	fp.Belief = min(max(sigmoid(mean+spread*r.NormFloat64()), 0.45), 0.9995)

	// The runner-up: the truth for most wrong answers; for right and
	// confident wrong ones, another value the document offers.
	truth, truthQuote := any(nil), ""
	if has {
		truth, truthQuote = stated.Value, stated.Text
	}
	switch {
	case fp.Error != "" && !fp.Confident && r.Float64() < p.TrueAlternative:
		fp.RunnerUp, fp.RunnerUpQuote = truth, truthQuote
	default:
		for _, a := range alike {
			if !countersign.Equivalent(a.Value, fp.Value) {
				fp.RunnerUp, fp.RunnerUpQuote = a.Value, a.Text
				break
			}
		}
		if fp.RunnerUp == nil && fp.Value != nil {
			if v, ok := misreadValue(r, field, fp.Value); ok {
				fp.RunnerUp, fp.RunnerUpQuote = v, fp.Quote
			}
		}
		if fp.RunnerUp != nil && (fp.Error == "" && countersign.Equivalent(fp.RunnerUp, truth) || fp.Error != "" && countersign.Equivalent(fp.RunnerUp, truth) && fp.Confident) {
			fp.RunnerUp, fp.RunnerUpQuote = nil, ""
		}
	}
	return fp
}

// sample writes the k-th sample of an answer: the first gives every
// planned value, the others draw each field from the model's belief.
func (m *Model) sample(plan []FieldPlan, k int, r *rand.Rand) llmtest.Choice {
	a := &answerWriter{}
	a.text("{")
	for i, fp := range plan {
		if i > 0 {
			a.text(", ")
		}
		key, _ := json.Marshal(fp.Field)
		a.text(string(key) + ": ")
		value, quote, stated, other := fp.Value, fp.Quote, m.Profile.Stated(fp.Belief), fp.RunnerUp
		if k > 0 {
			u := r.Float64()
			switch {
			case u < fp.Belief:
			case u < fp.Belief+(1-fp.Belief)*m.Profile.RunnerUp:
				value, quote, other = fp.RunnerUp, fp.RunnerUpQuote, fp.Value
				stated = (1 - stated) * m.Profile.RunnerUp
			default:
				value, quote, other = nil, "", fp.Value
				stated = (1 - stated) * (1 - m.Profile.RunnerUp)
			}
		}
		if value == nil {
			a.null(stated)
			continue
		}
		a.text(`{"value": `)
		a.value(r, value, stated, other, m.Profile.RunnerUp)
		q, _ := json.Marshal(quote)
		a.text(`, "quote": ` + string(q) + "}")
	}
	a.text("}")
	return llmtest.Choice{Content: a.content.String(), Tokens: a.tokens}
}

// answerWriter writes an answer and its tokens, with the logprob of each.
type answerWriter struct {
	content strings.Builder
	tokens  []llmtest.Token
}

// sure is the logprob of a token the model had no doubt about.
const sure = -1e-4

func (a *answerWriter) text(s string) {
	a.content.WriteString(s)
	for _, t := range llmtest.Tokenize(s) {
		a.tokens = append(a.tokens, llmtest.Token{Text: t, Logprob: sure})
	}
}

// value writes a field's value. Its probability sits on the token where it
// parts from the runner-up (other), whose token gets share of the rest,
// and noise the remainder; the value's other tokens are near certain.
func (a *answerWriter) value(r *rand.Rand, value any, p float64, other any, share float64) {
	raw, _ := json.Marshal(value)
	a.content.Write(raw)
	mine := llmtest.Tokenize(string(raw))
	theirs := []string{"null"}
	if other != nil {
		o, _ := json.Marshal(other)
		theirs = llmtest.Tokenize(string(o))
	}
	at := len(mine) - 1
	for i := range mine {
		if i >= len(theirs) || mine[i] != theirs[i] {
			at = i
			break
		}
	}
	p = min(max(p, 1e-6), 1-1e-9)
	for i, t := range mine {
		tok := llmtest.Token{Text: t, Logprob: -0.0005 * r.Float64()}
		if i == at {
			tok.Logprob = math.Log(p)
			mass := map[string]float64{}
			noise := noiseToken(t)
			if at < len(theirs) && theirs[at] != t {
				mass[theirs[at]] += (1 - p) * share
				mass[noise] += (1 - p) * (1 - share)
			} else {
				mass[noise] += 1 - p
			}
			tok.Top = map[string]float64{}
			for other, q := range mass {
				tok.Top[other] = math.Log(q)
			}
		}
		a.tokens = append(a.tokens, tok)
	}
}

// null writes the null of a field the model says the document does not
// state, with probability p; the rest goes to starting a value instead.
func (a *answerWriter) null(p float64) {
	a.content.WriteString("null")
	p = min(max(p, 1e-6), 1-1e-9)
	a.tokens = append(a.tokens, llmtest.Token{Text: "null", Logprob: math.Log(p), Top: map[string]float64{`{"`: math.Log(1 - p)}})
}

// noiseToken is a token a model might have weighed instead of t: the
// same with its last character changed.
func noiseToken(t string) string {
	if t == "" {
		return "0"
	}
	last := t[len(t)-1]
	switch {
	case last >= '0' && last <= '8':
		return t[:len(t)-1] + string(last+1)
	case last == '9':
		return t[:len(t)-1] + "0"
	case last >= 'a' && last <= 'y':
		return t[:len(t)-1] + string(last+1)
	}
	return t + "s"
}

// misreadValue returns v read one character or digit off, as a tired eye
// or a bad scan reads it; false for kinds that are not read that way.
func misreadValue(r *rand.Rand, field string, v any) (any, bool) {
	switch FieldKind[field] {
	case KindClaimNumber, KindPolicyNumber:
		s, _ := v.(string)
		return changeDigit(r, s, 0)
	case KindDate:
		s, _ := v.(string)
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, false
		}
		shift := []int{-10, -1, 1, 10, 30}[r.IntN(5)]
		return t.AddDate(0, 0, shift).Format(time.DateOnly), true
	case KindName:
		s, _ := v.(string)
		return changeLetter(r, s)
	case KindAmount:
		f, _ := v.(float64)
		switch r.IntN(3) {
		case 0:
			return math.Round(f*10*100) / 100, true
		case 1:
			return math.Round(f/10*100) / 100, true
		}
		cents := int64(math.Round(f * 100))
		if alt, ok := changeDigit(r, fmt.Sprint(cents), 0); ok {
			var c int64
			fmt.Sscan(alt.(string), &c)
			return float64(c) / 100, true
		}
		return math.Round((f+9)*100) / 100, true
	}
	return nil, false
}

// changeDigit changes one digit of s at or after from.
func changeDigit(r *rand.Rand, s string, from int) (any, bool) {
	var at []int
	for i := from; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil, false
	}
	i := at[r.IntN(len(at))]
	d := byte('0' + (int(s[i]-'0')+1+r.IntN(9))%10)
	return s[:i] + string(d) + s[i+1:], true
}

// confusable letters: what a misread letter becomes.
var confusable = map[byte]byte{'a': 'e', 'e': 'a', 'i': 'y', 'y': 'i', 'o': 'u', 'u': 'o', 'n': 'm', 'm': 'n', 's': 'z', 'z': 's', 'l': 'i', 'r': 'n', 'c': 'e', 'h': 'b', 't': 'f', 'd': 'b', 'k': 'h'}

// changeLetter changes one lower-case letter of the last word of s.
func changeLetter(r *rand.Rand, s string) (any, bool) {
	start := strings.LastIndex(s, " ") + 2
	var at []int
	for i := start; i < len(s); i++ {
		if _, ok := confusable[s[i]]; ok {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil, false
	}
	i := at[r.IntN(len(at))]
	return s[:i] + string(confusable[s[i]]) + s[i+1:], true
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }
