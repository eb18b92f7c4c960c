package slackapp

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/fieldview"
)

// Bounds that keep a message inside Block Kit's limits (3000 characters a
// section, 50 blocks a message, 100 a modal) and short enough to read.
const (
	maxMessageFields = 8
	maxModalFields   = 90
	maxReasons       = 5
	maxValueChars    = 300
	maxQuoteChars    = 400
	maxInputChars    = 3000
	maxBlockIDBytes  = 200
)

// escape makes text safe inside mrkdwn: &, < and > are the only characters
// Slack reads as markup (links, mentions, @channel), so text from a
// document or a model can neither ping people nor fake a link.
func escape(text string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
}

// clip shortens text to at most n characters, marking the cut.
func clip(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	runes := []rune(text)
	return string(runes[:n-1]) + "…"
}

// quoted is text as a mrkdwn block quote, every line marked.
func quoted(text string) string {
	return "&gt; " + strings.ReplaceAll(escape(text), "\n", "\n&gt; ")
}

// mrkdwn is a mrkdwn text object marked verbatim, so that Slack does not
// turn bare URLs, channel names or @names in it into links and mentions:
// much of it comes from documents, and a link there would be posted under
// the bot's name. Links and mentions countersign writes itself use the
// <…> syntax, which verbatim text still reads; escape keeps documents from
// writing that syntax.
func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
}

func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

// percent is a confidence as people read it.
func percent(c float64) string { return fmt.Sprintf("%d%%", int(math.Round(c*100))) }

// slackDate shows t in the reader's own time zone, with a fallback for
// clients that cannot.
func slackDate(t time.Time) string {
	if t.IsZero() {
		return "not set"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// title is the heading of a review's message: the task type's title, or
// its name.
func title(n countersign.Notice) string {
	if n.Title != "" {
		return n.Title
	}
	return n.Review.TaskType
}

// summaryText is a notice's plain text, what notifications and screen
// readers show of the message.
func summaryText(n countersign.Notice) string {
	return fmt.Sprintf("Review waiting: %s, document %s, confidence %s", title(n), n.Review.DocumentID, percent(n.Review.Confidence))
}

// reviewBlocks is the review's message: what it is about, why it needs a
// person, the least certain fields with their evidence, the link to the
// document, and then either the decision buttons (open) or how the review
// ended (closed).
func reviewBlocks(n countersign.Notice, tt *countersign.TaskType, open bool) []slack.Block {
	r := n.Review
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip(title(n), 150))),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mrkdwn("*Task type*\n`" + escape(r.TaskType) + "`"),
			mrkdwn("*Confidence*\n" + percent(r.Confidence)),
			mrkdwn("*Document*\n`" + escape(r.DocumentID) + "`"),
			mrkdwn("*Due*\n" + slackDate(r.DueAt)),
		}, nil),
	}
	if len(r.Reasons) > 0 {
		var b strings.Builder
		b.WriteString("*Why a person decides*")
		for i, reason := range fieldview.Explain(r.Reasons, tt) {
			if i == maxReasons {
				fmt.Fprintf(&b, "\n… and %d more", len(r.Reasons)-maxReasons)
				break
			}
			b.WriteString("\n• " + escape(clip(reason.Text, 300)))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(b.String()), nil, nil))
	}
	if n.Document != nil && n.Document.Draft.Failed() {
		reason := "no draft was made"
		if n.Document.Draft != nil {
			reason = n.Document.Draft.Error
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*No draft:* "+escape(clip(reason, 500))+"\nThe fields are for a person to fill."), nil, nil))
	}
	fields := fieldview.List(tt, n.Document)
	if len(fields) > 0 {
		blocks = append(blocks, slack.NewDividerBlock(), slack.NewContextBlock("", mrkdwn("Fields, least certain first")))
	}
	for i, f := range fields {
		if i == maxMessageFields {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more fields: open the document to see them all.", len(fields)-maxMessageFields))))
			break
		}
		text := fieldText(f)
		if page := fieldPage(n, f); page > 0 {
			text += "\n<" + linkURL(n.Link) + "#pbox-" + strconv.Itoa(f.Index) + "|See it on page " + strconv.Itoa(page) + ">"
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	if n.Link != "" && !strings.ContainsAny(n.Link, "|<> \n") {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("<"+linkURL(n.Link)+"|Open the document>"), nil, nil))
	}
	if open {
		return append(blocks, decisionButtons(r.ID))
	}
	return append(blocks, slack.NewDividerBlock(), slack.NewSectionBlock(mrkdwn(closedText(n)), nil, nil))
}

// linkURL is link as a Slack link's address.
func linkURL(link string) string { return strings.ReplaceAll(link, "&", "&amp;") }

// fieldPage is the page of a PDF document that f's evidence starts on,
// for a link to the review page's box of it; 0 for a document submitted as
// text, a field without evidence, or no link to make.
func fieldPage(n countersign.Notice, f fieldview.Field) int {
	if n.Link == "" || strings.ContainsAny(n.Link, "|<> \n#") || n.Document == nil || n.Document.OriginalSHA256 == "" || f.Evidence == nil || f.Evidence.End <= f.Evidence.Start {
		return 0
	}
	return countersign.PageOf(n.Document.Content, f.Evidence.Start)
}

// fieldText is one field of the message: its name and confidence, the
// draft's value, the evidence quote and the first reason to look.
func fieldText(f fieldview.Field) string {
	name := f.Name
	if f.Title != "" {
		name = f.Title
	}
	score := "no score"
	if f.Confidence != nil {
		score = percent(*f.Confidence)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* · %s\n", escape(clip(name, 100)), score)
	if f.Present && f.Value != nil {
		b.WriteString("`" + escape(strings.ReplaceAll(clip(countersign.ValueText(f.Value), maxValueChars), "`", "'")) + "`")
	} else {
		b.WriteString("_no value_")
	}
	if f.Quote() != "" {
		b.WriteString("\n" + quoted(clip(f.Quote(), maxQuoteChars)))
	}
	if len(f.Reasons) > 0 {
		b.WriteString("\n_" + escape(clip(f.Reasons[0], 200)) + "_")
	}
	return b.String()
}

// decisionButtons are Approve, Correct and Reject; each carries the review
// ID. Approving asks for confirmation, as it accepts the draft as it is.
func decisionButtons(reviewID string) *slack.ActionBlock {
	approve := slack.NewButtonBlockElement(ActionApprove, reviewID, plain("Approve")).WithStyle(slack.StylePrimary).
		WithConfirm(slack.NewConfirmationBlockObject(plain("Approve the draft?"),
			plain("The document is accepted with the drafted fields as they are."), plain("Approve"), plain("Cancel")))
	correct := slack.NewButtonBlockElement(ActionCorrect, reviewID, plain("Correct"))
	reject := slack.NewButtonBlockElement(ActionReject, reviewID, plain("Reject")).WithStyle(slack.StyleDanger)
	claim := slack.NewButtonBlockElement(ActionClaim, reviewID, plain("Claim"))
	return slack.NewActionBlock(blockDecide, approve, correct, reject, claim)
}

// closedText says how a review ended and who decided.
func closedText(n countersign.Notice) string {
	icon := map[countersign.Action]string{
		countersign.ActionApprove: ":white_check_mark:",
		countersign.ActionCorrect: ":pencil2:",
		countersign.ActionReject:  ":x:",
	}[n.Review.Outcome]
	if icon == "" {
		icon = ":black_square_for_stop:"
	}
	outcome := n.Outcome
	if outcome == "" {
		outcome = "closed"
		if n.Review.Outcome != "" {
			outcome = string(n.Review.Outcome)
		}
		if n.Review.ClosedBy != "" {
			outcome += " by " + n.Review.ClosedBy
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s *Decided: %s*", icon, escape(clip(outcome, 300)))
	for _, d := range n.Decisions {
		if d.ReviewID != "" && d.ReviewID != n.Review.ID {
			continue
		}
		fmt.Fprintf(&b, "\n• %s: %s (%s, %s)", escape(d.Actor), d.Action.PastTense(), d.Channel, slackDate(d.At))
		if d.Reason != "" {
			b.WriteString(": " + escape(clip(d.Reason, 200)))
		}
	}
	return b.String()
}

// viewMeta is what a modal remembers in its private metadata: the review,
// and the message it was opened from, for the answer after submission.
type viewMeta struct {
	Review  string `json:"review"`
	Channel string `json:"channel,omitempty"`
	TS      string `json:"ts,omitempty"`
}

func (m viewMeta) encode() string {
	raw, _ := json.Marshal(m)
	return string(raw)
}

// correctModal asks for the corrected fields, one text input per field,
// filled with the draft's values, the least certain first.
func correctModal(review *countersign.Review, fields []fieldview.Field, meta viewMeta) slack.ModalViewRequest {
	blocks := []slack.Block{
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Review `%s`, document `%s`. Change what is wrong; an emptied field is removed. Least certain first.",
			escape(review.ID), escape(review.DocumentID)))),
	}
	left := 0
	for _, f := range fields {
		if len(blocks) > maxModalFields || len(f.Name) > maxBlockIDBytes {
			left++
			continue
		}
		label := f.Name
		if f.Title != "" {
			label = f.Title + " (" + f.Name + ")"
		}
		if f.Confidence != nil {
			label += " · " + percent(*f.Confidence)
		}
		var hint *slack.TextBlockObject
		if h := fieldHint(f); h != "" {
			hint = plain(clip(h, 2000))
		}
		blocks = append(blocks, slack.NewInputBlock(fieldBlockPref+f.Name, plain(clip(label, 2000)), hint, fieldInput(f)).WithOptional(true))
	}
	if left > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%d more fields are not shown here: correct them on the web page or through the API.", left))))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      ViewCorrect,
		Title:           plain("Correct the draft"),
		Submit:          plain("Correct"),
		Close:           plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: blocks},
		PrivateMetadata: meta.encode(),
	}
}

// fieldInput is a field's input: a select of its choices when the schema
// lists them (a verdict's label), several when it is a list of choices (its
// reason codes), else text filled with the draft's value.
func fieldInput(f fieldview.Field) slack.BlockElement {
	if options := choices(f.Enum); options != nil {
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose"), inputAction, options...)
		for _, o := range options {
			if f.Present && o.Value == countersign.ValueText(f.Value) {
				sel = sel.WithInitialOption(o)
			}
		}
		return sel
	}
	if f.Kind() == "array" && f.Items != nil {
		if options := choices(f.Items.Enum); options != nil {
			sel := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeStatic, plain("Choose"), inputAction, options...)
			chosen, _ := f.Value.([]any)
			var initial []*slack.OptionBlockObject
			for _, o := range options {
				for _, c := range chosen {
					if o.Value == countersign.ValueText(c) {
						initial = append(initial, o)
					}
				}
			}
			if f.Present && len(initial) > 0 {
				sel = sel.WithInitialOptions(initial...)
			}
			return sel
		}
	}
	input := slack.NewPlainTextInputBlockElement(nil, inputAction).WithMaxLength(maxInputChars)
	text := ""
	if f.Present {
		text = countersign.ValueText(f.Value)
	}
	if utf8.RuneCountInString(text) <= maxInputChars {
		input = input.WithInitialValue(text)
	}
	if len(text) > 60 || f.Kind() == "object" || f.Kind() == "array" {
		input = input.WithMultiline(true)
	}
	return input
}

// choices are a schema's enum as select options, or nil when it has none
// or Slack could not show them: only text, at most 100, each short enough
// to be an option's text and value.
func choices(enum []any) []*slack.OptionBlockObject {
	if len(enum) == 0 || len(enum) > 100 {
		return nil
	}
	out := make([]*slack.OptionBlockObject, 0, len(enum))
	for _, e := range enum {
		s, ok := e.(string)
		if !ok || s == "" || utf8.RuneCountInString(s) > 75 || len(s) > 150 {
			return nil
		}
		out = append(out, slack.NewOptionBlockObject(s, plain(s), nil))
	}
	return out
}

// fieldHint is what a field's input says under it: the type expected and
// the evidence the draft quoted.
func fieldHint(f fieldview.Field) string {
	var parts []string
	switch f.Kind() {
	case "integer":
		parts = append(parts, "A whole number.")
	case "number":
		parts = append(parts, "A number.")
	case "boolean":
		parts = append(parts, "true or false.")
	case "object", "array":
		parts = append(parts, "JSON.")
	}
	if f.Quote() != "" {
		parts = append(parts, "Evidence: “"+clip(f.Quote(), maxQuoteChars)+"”")
	}
	return strings.Join(parts, " ")
}

// rejectModal asks why the document is rejected.
func rejectModal(review *countersign.Review, meta viewMeta) slack.ModalViewRequest {
	reason := slack.NewPlainTextInputBlockElement(plain("Why the document is rejected"), inputAction).WithMultiline(true).WithMaxLength(maxInputChars)
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: ViewReject,
		Title:      plain("Reject the document"),
		Submit:     plain("Reject"),
		Close:      plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Review `%s`, document `%s`.", escape(review.ID), escape(review.DocumentID)))),
			slack.NewInputBlock(blockReason, plain("Reason"), nil, reason),
		}},
		PrivateMetadata: meta.encode(),
	}
}
