package llm

import (
	"encoding/json"
	"slices"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
)

// firstPlace reads, from one judgement's logprobs, how sure the judge was
// of the candidate it ranked first: how its probability was shared among
// the labels of the order (labels, each shown over the candidate of shown
// at the same index) where it wrote the first label of its "ranking"
// array, as labelProbability shares a verdict's among its labels, with the
// rival named by candidate ID. It is nil when the answer came without
// logprobs or top_logprobs at that label, or its tokens do not spell it:
// the endpoint did not say, which is no figure rather than a guessed one.
func firstPlace(choice openai.ChatCompletionChoice, labels, shown []string) *countersign.LabelProbability {
	if choice.LogProbs == nil {
		return nil
	}
	content := choice.Message.Content
	a := spellTokens(content, choice.LogProbs.Content)
	spans := rankingSpans(content)
	if a == nil || len(spans) == 0 {
		return nil
	}
	lp, ok := a.labelProbability(content, spans[0], labels)
	if !ok {
		return nil
	}
	for i, label := range lp.Rival {
		lp.Rival[i] = shown[slices.Index(labels, label)]
	}
	return &lp
}

// judgedFirstPlace is firstPlace when the label the spans found is the
// candidate the judgement's ranking puts first (first), else nil: the
// judgement was read with keys matched regardless of case, the spans by
// the exact key, and a figure must never speak for another label than the
// one the ranking holds.
func judgedFirstPlace(choice openai.ChatCompletionChoice, labels, shown []string, first string) *countersign.LabelProbability {
	spans := rankingSpans(choice.Message.Content)
	if len(spans) == 0 {
		return nil
	}
	var label string
	if json.Unmarshal([]byte(choice.Message.Content[spans[0][0]:spans[0][1]]), &label) != nil {
		return nil
	}
	if i := slices.Index(labels, label); i < 0 || i >= len(shown) || shown[i] != first {
		return nil
	}
	return firstPlace(choice, labels, shown)
}

// rankingSpans returns the byte spans of the labels of a judgement's
// top-level "ranking" array, each with its quotes, best first: where the
// verdict's tokens are. A label elsewhere (a key of "scores", "Response A"
// in a reason, a "ranking" inside another value) is not one of them. When
// the key is given twice the last one counts, as it does when the answer
// is read. Nil when the answer is no object with such an array of strings.
func rankingSpans(content string) [][2]int {
	dec := json.NewDecoder(strings.NewReader(content))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var spans [][2]int
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		if key != "ranking" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return nil
		}
		spans = nil
		for dec.More() {
			start := int(dec.InputOffset())
			tok, err := dec.Token()
			if _, ok := tok.(string); err != nil || !ok {
				return nil
			}
			end := int(dec.InputOffset())
			for start < end && strings.IndexByte(" \t\r\n,", content[start]) >= 0 {
				start++
			}
			spans = append(spans, [2]int{start, end})
		}
		if _, err := dec.Token(); err != nil { // the closing bracket
			return nil
		}
	}
	return spans
}

// recordFirstPlaces adds to each of the draft's orders the first-place
// probabilities of its judgements, in the order the order keeps their
// rankings (its first usable judgement's as Ranking, the others' as
// Samples, as aggregate does); an order none of whose answers had
// logprobs gets none.
func recordFirstPlaces(orders []countersign.JudgeOrder, runs []judgeRun) {
	for i := range orders {
		var probs []*countersign.LabelProbability
		read := false
		for _, r := range runs {
			if slices.Equal(r.order, orders[i].Order) {
				probs = append(probs, r.firstPlace)
				read = read || r.firstPlace != nil
			}
		}
		if read {
			orders[i].FirstPlace = probs
		}
	}
}
