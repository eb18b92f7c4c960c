package slackapp

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/countersign/countersign"
)

// Bounds of a comparison in a review's message. Responses are untrusted:
// each is escaped and cut to fit a section's 3000 characters whatever it
// holds (quotedWithin), and an item of MaxCandidatesLimit candidates
// stays inside Block Kit's 50 blocks with the rest of the message.
const (
	maxPromptChars   = 1500
	maxResponseChars = 700
	maxOptionChars   = 75
)

// comparison is a comparison item as Slack shows it and picks in it: the
// rubric and mode of the task type version the document is pinned to, the
// item, and the judge's draft (nil when there is none).
type comparison struct {
	spec  *countersign.Comparison
	item  *countersign.ComparisonItem
	draft countersign.Fields
}

// readComparison reads doc as an item of tt's comparison; nil when tt
// compares nothing or doc is no item of it.
func readComparison(tt *countersign.TaskType, doc *countersign.Document) *comparison {
	if tt == nil || tt.Comparison == nil || doc == nil {
		return nil
	}
	item, err := countersign.ReadDocumentItem(doc.Content, doc.Draft, tt.Comparison)
	if err != nil {
		return nil
	}
	c := &comparison{spec: tt.Comparison, item: item}
	if !doc.Draft.Failed() {
		c.draft = doc.Draft.Fields
	}
	return c
}

// pickRanking is the ranking a pick of best makes: [best] in pick_best
// mode, [best, other] when there are two candidates (pairs mode, or
// rank_all of two); nil when a pick cannot rank the item (rank_all of
// three or more, ranked on the web page).
func (c *comparison) pickRanking(best string) []any {
	ids := c.item.IDs()
	switch {
	case c.spec.Mode == countersign.ModePickBest:
		return []any{best}
	case len(ids) == 2:
		other := ids[0]
		if other == best {
			other = ids[1]
		}
		return []any{best, other}
	}
	return nil
}

// patch is the fields a pick of best sets, with the all-unacceptable code
// when one is given; nil when a pick cannot rank the item. A pick without
// a code says a candidate is acceptable, so it clears a code the judge
// drafted (the message shows it).
func (c *comparison) patch(best, code string) countersign.Fields {
	ranking := c.pickRanking(best)
	if ranking == nil {
		return nil
	}
	p := countersign.Fields{countersign.FieldRanking: ranking}
	if code != "" {
		p[countersign.FieldAllUnacceptable] = code
	} else if _, drafted := c.draft[countersign.FieldAllUnacceptable]; drafted {
		p[countersign.FieldAllUnacceptable] = nil
	}
	return p
}

// picks are the candidates whose pick makes a whole decision: the draft
// with the pick's ranking passes countersign.CheckComparison (every
// criterion scored, a candidate marked unsafe not picked over a safe one).
// problem says why none does, for the message.
func (c *comparison) picks() (ids []string, problem string) {
	for _, id := range c.item.IDs() {
		p := c.patch(id, "")
		if p == nil {
			return nil, fmt.Sprintf("ranking all %d candidates is done on the web page", len(c.item.Candidates))
		}
		err := countersign.CheckComparison(c.spec, c.item.IDs(), countersign.Correct(c.draft, p))
		if err != nil {
			if problem == "" {
				problem = "a pick here would not make a whole decision (" + err.Error() + "): rank the candidates on the web page"
			}
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) > 0 {
		problem = ""
	}
	return ids, problem
}

// decision is the decision a pick makes: an approval when it says what
// the draft says (the judge picked the same), else a correction of what
// it changes.
func (c *comparison) decision(best, code string) (countersign.Action, countersign.Fields) {
	changed := countersign.Fields{}
	for name, v := range c.patch(best, code) {
		if old, ok := c.draft[name]; !ok || !countersign.SameValue(old, v) {
			changed[name] = v
		}
	}
	if len(changed) == 0 {
		return countersign.ActionApprove, nil
	}
	return countersign.ActionCorrect, changed
}

// itemBlocks show the item: the prompt and each candidate's response
// with the judge's place and unsafe mark.
func itemBlocks(c *comparison) []slack.Block {
	blocks := []slack.Block{
		slack.NewDividerBlock(),
		slack.NewSectionBlock(mrkdwn("*Prompt*\n"+quotedWithin(c.item.Prompt, maxPromptChars)), nil, nil),
	}
	place, unsafe := c.judged()
	for _, cand := range c.item.Candidates {
		var b strings.Builder
		fmt.Fprintf(&b, "*Candidate `%s`*", escape(cand.ID))
		if cand.Model != "" {
			b.WriteString(" · " + escape(clip(cand.Model, 60)))
		}
		if p, ok := place[cand.ID]; ok {
			fmt.Fprintf(&b, " · judge: %s", p)
		}
		if code, ok := unsafe[cand.ID]; ok {
			b.WriteString(" · :warning: unsafe (" + escape(clip(code, 60)) + ")")
		}
		b.WriteString("\n" + quotedWithin(cand.Response, maxResponseChars))
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(b.String()), nil, nil))
	}
	if code, ok := c.draft[countersign.FieldAllUnacceptable].(string); ok && code != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(":warning: The judge marked every candidate unacceptable ("+escape(clip(code, 60))+"). A pick without a code says one is acceptable and clears it."), nil, nil))
	}
	return blocks
}

// pickBlocks are the pick of an open review: a select of the candidates
// whose pick decides (with a select of the all-unacceptable codes beside
// it), or, when no pick can, where the candidates are ranked instead.
func pickBlocks(c *comparison, reviewID, link string) []slack.Block {
	var blocks []slack.Block
	ids, problem := c.picks()
	if len(ids) == 0 || len(reviewID) > maxIDBytes {
		text := "*To decide:* " + problem + "."
		if problem == "" {
			text = "*To decide:* rank the candidates on the web page."
		}
		if link != "" && !strings.ContainsAny(link, "|<> \n") {
			text += " <" + strings.ReplaceAll(link, "&", "&amp;") + "|Rank them there>, or use countersign decide --ranking."
		} else {
			text += " Or use countersign decide --ranking, or the API."
		}
		return append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	options := make([]*slack.OptionBlockObject, 0, len(ids))
	for _, id := range ids {
		text := id
		if m := c.item.Candidate(id).Model; m != "" {
			text += " · " + m
		}
		options = append(options, slack.NewOptionBlockObject(id, plain(clip(text, maxOptionChars)), nil))
	}
	pick := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Pick the best"), ActionPickBest, options...).
		WithConfirm(slack.NewConfirmationBlockObject(plain("Pick this one as the best?"),
			plain("The candidate you picked is ranked best, and that decides the review."), plain("Pick"), plain("Cancel")))
	elements := []slack.BlockElement{pick}
	how := "Pick the best candidate: that decides the review."
	if len(c.spec.UnacceptableReasons) > 0 {
		var codes []*slack.OptionBlockObject
		for _, r := range c.spec.UnacceptableReasons {
			var desc *slack.TextBlockObject
			if r.Description != "" {
				desc = plain(clip(r.Description, maxOptionChars))
			}
			codes = append(codes, slack.NewOptionBlockObject(r.Code, plain(clip(r.Code, maxOptionChars)), desc))
		}
		elements = append(elements, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("All unacceptable…"), ActionUnacceptable, codes...))
		how += " If no candidate is acceptable, choose why under “All unacceptable…” first: your pick then carries it."
	}
	return append(blocks,
		slack.NewActionBlock(blockPick+"/"+reviewID, elements...),
		slack.NewContextBlock("", mrkdwn(how)))
}

// judged are the judge's place for each candidate it ranked ("1st",
// "tied 2nd") and its unsafe marks.
func (c *comparison) judged() (place map[string]string, unsafe map[string]string) {
	place = map[string]string{}
	tiers, err := countersign.Tiers(c.draft[countersign.FieldRanking])
	if err != nil {
		return place, countersign.UnsafeCandidates(c.draft)
	}
	for i, tier := range tiers {
		p := ordinal(i + 1)
		if len(tier) > 1 {
			p = "tied " + p
		}
		for _, id := range tier {
			place[id] = p
		}
	}
	return place, countersign.UnsafeCandidates(c.draft)
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// quotedWithin is text as a mrkdwn block quote of at most budget
// characters once escaped, each line marked: it is cut between characters
// of text, never inside an escape, and the cut is marked with "…".
func quotedWithin(text string, budget int) string {
	var b strings.Builder
	b.WriteString("&gt; ")
	used := len("&gt; ")
	runes := []rune(strings.TrimSpace(text))
	for i, r := range runes {
		var piece string
		switch r {
		case '&':
			piece = "&amp;"
		case '<':
			piece = "&lt;"
		case '>':
			piece = "&gt;"
		case '\n':
			piece = "\n&gt; "
		default:
			piece = string(r)
		}
		n := len([]rune(piece))
		last := i == len(runes)-1
		if used+n > budget || (!last && used+n > budget-1) {
			b.WriteString("…")
			break
		}
		b.WriteString(piece)
		used += n
	}
	return b.String()
}
