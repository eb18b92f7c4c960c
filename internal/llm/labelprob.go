package llm

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/countersign/countersign"
)

// fieldLabels returns, per field of tt whose schema is a closed set of two
// strings or more (an enum of strings, such as a verdict's label), those
// strings in declared order. A null in the enum (an optional field) is not
// a label; an enum holding anything else than strings and null is not a
// label set.
func fieldLabels(tt *countersign.TaskType) map[string][]string {
	var doc struct {
		Properties map[string]struct {
			Enum []any `json:"enum"`
		} `json:"properties"`
	}
	if json.Unmarshal(tt.Schema, &doc) != nil {
		return nil
	}
	out := map[string][]string{}
	for name, p := range doc.Properties {
		var labels []string
		closed := true
		for _, v := range p.Enum {
			switch v := v.(type) {
			case string:
				labels = append(labels, v)
			case nil:
			default:
				closed = false
			}
		}
		if closed && len(labels) >= 2 {
			out[name] = labels
		}
	}
	return out
}

// labelProbabilities returns, per field of labels that the answer gives a
// declared label, how the model's probability was shared among the labels
// where it wrote the value (see countersign.LabelProbability). It reads the
// tokens that spell the value, quotes included, in order; before each, the
// text written so far is a prefix of the drafted label's JSON text, and
// each top_logprobs entry other than the token written, appended to it,
// spells the beginning of some labels' JSON text, or runs past the end of
// one (a closing quote and a comma), or fits none:
//
//   - an entry that fits no label is probability outside the set (a null,
//     another word);
//   - an entry that fits only other labels counts for them, once, however
//     many share it: the model would have written one of them;
//   - an entry that fits only the drafted label (another tokenisation of
//     it, `"}` for `",` after its closing quote) counts for it;
//   - an entry that fits the drafted label and others (another
//     tokenisation of a prefix they share) is taken to go on as the written
//     tokens did: its probability joins theirs.
//
// Each entry's probability is weighed by that of the tokens written before
// it, and what reaches the end of the value is the drafted label's. Two
// approximations stand in for the tokens the model did not write: an entry
// that begins other labels is taken to finish one of them (having written
// `"false`, it would have written `_positive"`), and one at a shared prefix
// written in other tokens to go on as the written tokens did. What the
// endpoint's top_logprobs leave out (five entries a token) is left out of
// both sides of the ratio. Where two labels share a prefix (true_positive and
// true_positive_confirmed), their probability stays together until the
// token where they part (the closing quote or _confirmed), so none is
// counted twice. An entry that differs from the written token before the
// value starts (` "` against `"`) is about the JSON around the value and is
// left out.
//
// A field gets nothing when any token of its value came without
// top_logprobs: the endpoint did not say what else the model weighed.
func (a *answerTokens) labelProbabilities(content string, labels map[string][]string) map[string]countersign.LabelProbability {
	out := map[string]countersign.LabelProbability{}
	for name, set := range labels {
		span, ok := a.spans[name]
		if !ok {
			continue
		}
		if lp, ok := a.labelProbability(content, span, set); ok {
			out[name] = lp
		}
	}
	return out
}

// labelProbability is labelProbabilities for one field's value at span.
func (a *answerTokens) labelProbability(content string, span [2]int, set []string) (countersign.LabelProbability, bool) {
	written := content[span[0]:span[1]]
	var chosen string
	if json.Unmarshal([]byte(written), &chosen) != nil || !slices.Contains(set, chosen) {
		return countersign.LabelProbability{}, false
	}
	texts := make([]string, len(set))
	for i, label := range set {
		texts[i] = labelText(label)
		if label == chosen {
			texts[i] = written // as the model wrote it
		}
	}
	var drafted, outside float64
	others := map[string]float64{}
	flow := 1.0 // the probability of the tokens written so far
	indexes := a.overlapping(span)
	if len(indexes) == 0 {
		return countersign.LabelProbability{}, false
	}
	for _, i := range indexes {
		t := a.tokens[i]
		if len(t.TopLogProbs) == 0 {
			return countersign.LabelProbability{}, false
		}
		token := tokenText(t.Token, t.Bytes)
		from := max(span[0]-a.starts[i], 0)
		before, prefix := token[:from], content[span[0]:max(a.starts[i], span[0])]
		goesOn := math.Exp(t.LogProb)
		for _, top := range t.TopLogProbs {
			other := tokenText(top.Token, top.Bytes)
			if other == token || !strings.HasPrefix(other, before) {
				continue
			}
			p := math.Exp(top.LogProb)
			fits := fitting(prefix+other[from:], set, texts)
			switch {
			case len(fits) == 0:
				outside += flow * p
			case !slices.Contains(fits, chosen):
				others[strings.Join(fits, "\x00")] += flow * p
			case len(fits) == 1:
				drafted += flow * p
			default:
				goesOn += p
			}
		}
		flow *= min(goesOn, 1)
	}
	drafted += flow
	total := drafted
	var rival []string
	rivalProb := 0.0
	for _, key := range slices.Sorted(maps.Keys(others)) {
		total += others[key]
		if others[key] > rivalProb {
			rival, rivalProb = strings.Split(key, "\x00"), others[key]
		}
	}
	return countersign.LabelProbability{
		Prob:      round4(drafted / total),
		Rival:     rival,
		RivalProb: round4(rivalProb / total),
		Outside:   round4(min(outside, 1)),
	}, true
}

// fitting returns the labels of set whose JSON text (texts, in the same
// order) text begins, or runs past the end of.
func fitting(text string, set, texts []string) []string {
	var out []string
	for i, t := range texts {
		if strings.HasPrefix(t, text) || strings.HasPrefix(text, t) {
			out = append(out, set[i])
		}
	}
	return out
}

// labelText is a label as a model writes it in JSON: quoted, with no more
// escapes than JSON needs.
func labelText(label string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(label) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
