package llm

import (
	"math"

	"github.com/countersign/countersign"
)

// topLogprobs is how many of the likeliest tokens the extractor asks for at
// each position of the answer, for the alternatives signal. Five is what
// every OpenAI-compatible server that sends top_logprobs at all accepts.
const topLogprobs = 5

// alternatives returns, per field, the position of the value where the
// model's top_logprobs held the most probability for tokens other than the
// one it wrote, with that mass. A field none of whose tokens came with
// top_logprobs gets nothing: the endpoint did not say.
//
// At a token that straddles the value's edge (a closing quote and the comma
// after it, say), another token counts only when it differs from the written
// one inside the value: `"}` instead of `",` changes the JSON, not the value.
func (a *answerTokens) alternatives() map[string]countersign.TokenAlternatives {
	out := map[string]countersign.TokenAlternatives{}
	for name, span := range a.spans {
		best, seen := countersign.TokenAlternatives{}, false
		for _, i := range a.overlapping(span) {
			t := a.tokens[i]
			if len(t.TopLogProbs) == 0 {
				continue
			}
			written := tokenText(t.Token, t.Bytes)
			from := max(span[0]-a.starts[i], 0)
			to := min(span[1]-a.starts[i], len(written))
			straddles := from > 0 || to < len(written)
			here := countersign.TokenAlternatives{Token: written}
			for _, top := range t.TopLogProbs {
				other := tokenText(top.Token, top.Bytes)
				if other == written || straddles && part(other, from, to) == written[from:to] {
					continue
				}
				p := math.Exp(top.LogProb)
				here.Mass += p
				if p > here.OtherProb {
					here.Other, here.OtherProb = other, p
				}
			}
			if !seen || here.Mass > best.Mass {
				best, seen = here, true
			}
		}
		if !seen {
			continue
		}
		best.Mass = round4(min(best.Mass, 1))
		best.OtherProb = round4(best.OtherProb)
		out[name] = best
	}
	return out
}

// part is s[from:to], cut short where s is.
func part(s string, from, to int) string {
	if from >= len(s) {
		return ""
	}
	return s[from:min(to, len(s))]
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
