package slackapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/fieldview"
)

// Handler answers what people do in Slack: the review message's buttons,
// the modals they open, and the /countersign command. It is the same
// whether Slack's requests come over HTTP (HTTP) or Socket Mode (Socket):
// each method returns the reply Slack expects in the response (nil for an
// empty one) and sends anything else through the Web API.
//
// Every request is checked the same way before anything is decided: the
// Slack account must be linked to a countersign user, whose role must allow
// deciding and whose groups must include the review's; the decision then
// goes through the Decider, where the workflow's validator has the last
// word. A refusal is shown to the person alone and reaches no workflow.
type Handler struct {
	Store Store
	// TaskTypes type a correction's fields and hold reviewers to their
	// review groups; nil types every field by its draft value and applies
	// no groups here (the Decider's own check still does).
	TaskTypes TaskTypes
	// Versions, when set, give a document the task type version it is
	// pinned to, for a comparison's mode when a person picks the best;
	// else TaskTypes do.
	Versions Versions
	Decider  Decider
	// Claims, when set, takes the Claim button and /countersign next.
	Claims Claimer
	Slack  *Client
	Logger *slog.Logger
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

// Interact answers an interaction; see Handler.
func (h *Handler) Interact(ctx context.Context, in *Interaction) any {
	p, refusal := h.principal(ctx, in.UserID)
	if refusal != "" {
		return h.refuse(ctx, in, refusal)
	}
	review, err := h.Store.GetReview(ctx, in.ReviewID)
	if err != nil {
		return h.refuse(ctx, in, h.explain(ctx, err, "review "+in.ReviewID))
	}
	if review.Status == countersign.ReviewClosed {
		return h.refuse(ctx, in, alreadyDecided(review))
	}
	if !p.Role.CanDecide() {
		return h.refuse(ctx, in, fmt.Sprintf("You act in countersign as %s, whose role %s may not decide reviews.", p.User, p.Role))
	}
	if err := h.mayReview(p, review.TaskType); err != nil {
		return h.refuse(ctx, in, err.Error())
	}
	switch in.Kind {
	case KindApprove:
		return h.decide(ctx, in, p, review, dispatch.Decision{Action: countersign.ActionApprove}, nil)
	case KindCorrect:
		return h.openCorrection(ctx, in, review)
	case KindReject:
		return h.open(ctx, in, rejectModal(review, viewMeta{Review: review.ID, Channel: in.Channel, TS: in.MessageTS}))
	case KindClaim:
		return h.claim(ctx, in, p, review)
	case KindPickBest:
		return h.pickBest(ctx, in, p, review)
	case KindUnacceptable:
		h.ephemeral(ctx, in, fmt.Sprintf("Noted for your pick: all unacceptable (%s). Now pick the best candidate: your pick decides review %s and carries the mark.",
			escape(clip(in.Choice, 75)), escape(review.ID)))
		return nil
	case KindSubmitCorrect:
		fields := h.fields(ctx, review)
		patch, problems := correction(fields, in.fieldInputs())
		if len(problems) > 0 {
			errs := map[string]string{}
			for name, problem := range problems {
				errs[fieldBlockPref+name] = problem
			}
			return slack.NewErrorsViewSubmissionResponse(errs)
		}
		return h.decide(ctx, in, p, review, dispatch.Decision{Action: countersign.ActionCorrect, Fields: patch}, fields)
	case KindSubmitReject:
		reason := strings.TrimSpace(in.Inputs[blockReason])
		if reason == "" {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{blockReason: "Say why the document is rejected."})
		}
		return h.decide(ctx, in, p, review, dispatch.Decision{Action: countersign.ActionReject, Reason: reason}, nil)
	}
	return nil
}

// claim holds the review for the person (see dispatch.Dispatcher.Claim)
// and tells them, or why not, in a line only they see.
func (h *Handler) claim(ctx context.Context, in *Interaction, p countersign.Principal, review *countersign.Review) any {
	if h.Claims == nil {
		return h.refuse(ctx, in, "Claims are not taken here; claim the review on the web page or with countersign review claim.")
	}
	held, err := h.Claims.Claim(ctx, review.ID, p, countersign.ChannelSlack)
	if err != nil {
		return h.refuse(ctx, in, "Not claimed: "+h.explain(ctx, err, "claim on review "+review.ID))
	}
	h.ephemeral(ctx, in, fmt.Sprintf("You hold review %s until %s: nobody else may decide it until then, unless an approver releases it. Click Claim again to renew it.", escape(review.ID), slackDate(*held.ClaimedUntil)))
	return nil
}

// next claims the best review for the caller (see dispatch.Dispatcher.Next)
// and says which.
func (h *Handler) next(ctx context.Context, cmd slack.SlashCommand) string {
	p, refusal := h.principal(ctx, cmd.UserID)
	if refusal != "" {
		return refusal
	}
	if !p.Role.CanDecide() {
		return fmt.Sprintf("You act in countersign as %s, whose role %s may not decide reviews.", p.User, p.Role)
	}
	if h.Claims == nil {
		return "Claims are not taken here; take the next review on the web page or with countersign next."
	}
	f := countersign.ReviewFilter{}
	if h.TaskTypes != nil {
		if f.TaskTypes, _ = h.reviewable(p); len(f.TaskTypes) == 0 {
			return noTaskTypes
		}
	}
	r, err := h.Claims.Next(ctx, p, countersign.ChannelSlack, f)
	if err != nil {
		return h.explain(ctx, err, "taking the next review")
	}
	if r == nil {
		return "Nothing is waiting for you: every pending review is held by someone else, is of a document you submitted, or you decided it already."
	}
	return fmt.Sprintf("You hold review `%s` (%s, %s, due %s) until %s. Decide it with the buttons on its message, or on the web page.",
		escape(r.ID), escape(r.TaskType), percent(r.Confidence), slackDate(r.DueAt), slackDate(*r.ClaimedUntil))
}

// noTaskTypes answers someone whose review groups open no task type.
const noTaskTypes = "No task type is open to your review groups, so no review waits for you."

// reviewable names the task types configured now that p may review, and
// says how many are configured.
func (h *Handler) reviewable(p countersign.Principal) (names []string, all int) {
	types := h.TaskTypes.All()
	for _, tt := range types {
		if p.MayReview(tt) {
			names = append(names, tt.Name)
		}
	}
	return names, len(types)
}

// principal is the countersign user a Slack account acts as, or why it
// acts as no one.
func (h *Handler) principal(ctx context.Context, slackUserID string) (countersign.Principal, string) {
	u, err := h.Store.SlackUser(ctx, slackUserID)
	if errors.Is(err, countersign.ErrNotFound) {
		return countersign.Principal{}, fmt.Sprintf("Your Slack account is not linked to a countersign user, so countersign cannot act on it. "+
			"Ask an admin to link it: countersign user link --slack %s --user YOUR_NAME --role reviewer", slackUserID)
	}
	if err != nil {
		h.logger().ErrorContext(ctx, "slack: looking up a Slack user", "slack_user", slackUserID, "error", err)
		return countersign.Principal{}, "countersign could not check who you are just now; try again in a moment."
	}
	return u.Principal(), ""
}

// mayReview refuses a reviewer the reviews of a task type whose review
// groups they are in none of, as the REST API does.
func (h *Handler) mayReview(p countersign.Principal, taskType string) error {
	if h.TaskTypes == nil {
		return nil
	}
	tt, err := h.TaskTypes.Get(taskType)
	if err != nil || p.MayReview(tt) {
		return nil
	}
	return fmt.Errorf("%s may not review %s documents: they are for the review groups %s", p.User, taskType, strings.Join(tt.ReviewGroups, ", "))
}

// fields are the review's fields as the correction modal lists them.
func (h *Handler) fields(ctx context.Context, review *countersign.Review) []fieldview.Field {
	doc, err := h.Store.GetDocument(ctx, review.DocumentID)
	if err != nil {
		h.logger().WarnContext(ctx, "slack: reading a review's document", "review", review.ID, "error", err)
		return nil
	}
	var tt *countersign.TaskType
	if h.TaskTypes != nil {
		tt, _ = h.TaskTypes.Get(review.TaskType)
	}
	return fieldview.List(tt, doc)
}

func (h *Handler) openCorrection(ctx context.Context, in *Interaction, review *countersign.Review) any {
	fields := h.fields(ctx, review)
	if len(fields) == 0 {
		return h.refuse(ctx, in, "This review has no fields to correct here; approve or reject it, or correct it on the web page.")
	}
	return h.open(ctx, in, correctModal(review, fields, viewMeta{Review: review.ID, Channel: in.Channel, TS: in.MessageTS}))
}

// open opens a modal for the click in.
func (h *Handler) open(ctx context.Context, in *Interaction, view slack.ModalViewRequest) any {
	if err := h.Slack.OpenView(ctx, in.TriggerID, view); err != nil {
		h.logger().WarnContext(ctx, "slack: opening a modal", "review", in.ReviewID, "error", err)
		return h.refuse(ctx, in, "Slack did not open the form; click the button again.")
	}
	return nil
}

// decide sends the decision through the Decider and tells the person how
// it went: a line only they see after a click, errors in the modal after
// a submission (on the field the refusal names, if any).
func (h *Handler) decide(ctx context.Context, in *Interaction, p countersign.Principal, review *countersign.Review, req dispatch.Decision, fields []fieldview.Field) any {
	resp, err := h.Decider.Decide(ctx, review.ID, p, countersign.ChannelSlack, req, in.Key)
	if err != nil {
		message := h.explain(ctx, err, "decision on review "+review.ID)
		if countersign.ErrorCode(err) == countersign.CodeConflict {
			if latest, lookupErr := h.Store.GetReview(ctx, review.ID); lookupErr == nil && latest.Status == countersign.ReviewClosed {
				message = alreadyDecided(latest)
			}
		}
		if in.Kind == KindSubmitCorrect || in.Kind == KindSubmitReject {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{errorBlock(in, fields, message): clip("Not decided: "+message, 500)})
		}
		return h.refuse(ctx, in, "Not decided: "+message)
	}
	h.logger().InfoContext(ctx, "slack: decision", "review", review.ID, "action", req.Action, "user", p.User, "slack_user", in.UserID)
	text := fmt.Sprintf("You %s review %s; document %s is now %s.", resp.Decision.Action.PastTense(), review.ID, resp.DocumentID, resp.Status)
	if resp.Status == countersign.StatusAwaitingReview {
		text = fmt.Sprintf("You %s review %s; it waits for further decisions.", resp.Decision.Action.PastTense(), review.ID)
	}
	if in.Kind == KindPickBest {
		text = fmt.Sprintf("You picked %s as the best: %s", escape(in.Choice), strings.TrimPrefix(text, "You "))
	}
	h.ephemeral(ctx, in, text)
	return nil
}

// pickBest decides a comparison by the pick of its best candidate: the
// ranking the pick makes in the mode of the task type version the
// document is pinned to ([best] in pick_best, the pair's order for two
// candidates), with the all-unacceptable code chosen beside it. It goes
// through the Decider like every decision, where dispatch checks it
// against the item (countersign.CheckComparison) and the workflow's
// validator has the last word.
func (h *Handler) pickBest(ctx context.Context, in *Interaction, p countersign.Principal, review *countersign.Review) any {
	doc, err := h.Store.GetDocument(ctx, review.DocumentID)
	if err != nil {
		return h.refuse(ctx, in, h.explain(ctx, err, "reading document "+review.DocumentID))
	}
	c := readComparison(h.pinned(ctx, doc), doc)
	switch {
	case c == nil:
		return h.refuse(ctx, in, "Not decided: document "+escape(doc.ID)+" is not a comparison item, so there is no best to pick.")
	case c.item.Candidate(in.Choice) == nil:
		return h.refuse(ctx, in, fmt.Sprintf("Not decided: %s is not a candidate of item %s (%s).", escape(strings.TrimSpace(clip(in.Choice, 64))), escape(c.item.ID), escape(strings.Join(c.item.IDs(), ", "))))
	case c.patch(in.Choice, "") == nil:
		return h.refuse(ctx, in, fmt.Sprintf("Not decided: this task type ranks all %d candidates, which a pick cannot do: rank them on the web page, or with countersign decide --ranking.", len(c.item.Candidates)))
	}
	action, fields := c.decision(in.Choice, in.Unacceptable)
	return h.decide(ctx, in, p, review, dispatch.Decision{Action: action, Fields: fields}, nil)
}

// pinned is the task type version doc is pinned to, when Versions can
// tell, else the task type of its name now.
func (h *Handler) pinned(ctx context.Context, doc *countersign.Document) *countersign.TaskType {
	if h.Versions != nil {
		if tt, err := h.Versions.Version(ctx, doc.TaskTypeVersion); err == nil {
			return tt
		}
	}
	if h.TaskTypes == nil {
		return nil
	}
	tt, _ := h.TaskTypes.Get(doc.TaskType)
	return tt
}

// errorBlock is the input a refused submission's error shows under: the
// field the refusal names, else the modal's first input.
func errorBlock(in *Interaction, fields []fieldview.Field, message string) string {
	if in.Kind == KindSubmitReject {
		return blockReason
	}
	var named string
	for _, f := range fields {
		if _, shown := in.Inputs[fieldBlockPref+f.Name]; !shown {
			continue
		}
		if named == "" {
			named = f.Name
		}
		if regexp.MustCompile(`(^|[^\w])` + regexp.QuoteMeta(f.Name) + `($|[^\w])`).MatchString(message) {
			return fieldBlockPref + f.Name
		}
	}
	if named == "" {
		for blockID := range in.Inputs {
			if named == "" || blockID < fieldBlockPref+named {
				named = strings.TrimPrefix(blockID, fieldBlockPref)
			}
		}
	}
	return fieldBlockPref + named
}

// explain is an error as the person should read it: refusals as they are,
// failures without their insides (the log has those).
func (h *Handler) explain(ctx context.Context, err error, what string) string {
	switch countersign.ErrorCode(err) {
	case countersign.CodeInternal:
		h.logger().ErrorContext(ctx, "slack: "+what, "error", err)
		return "countersign failed to do it; the server log has the details."
	case countersign.CodeUnavailable:
		h.logger().WarnContext(ctx, "slack: "+what, "error", err)
		return "countersign is unavailable just now; try again in a moment."
	}
	return err.Error()
}

// alreadyDecided answers a click on a review that closed.
func alreadyDecided(r *countersign.Review) string {
	who := r.ClosedBy
	if who == "" {
		who = "someone else"
	}
	if r.Outcome != "" {
		return fmt.Sprintf("Already decided: %s %s this review.", who, r.Outcome.PastTense())
	}
	return fmt.Sprintf("This review is already closed by %s.", who)
}

// refuse tells the person why nothing was done: in the modal after a
// submission, as a line only they see after a click.
func (h *Handler) refuse(ctx context.Context, in *Interaction, message string) any {
	if in.Kind == KindSubmitCorrect || in.Kind == KindSubmitReject {
		block := blockReason
		if in.Kind == KindSubmitCorrect {
			block = errorBlock(in, nil, message)
		}
		return slack.NewErrorsViewSubmissionResponse(map[string]string{block: clip(message, 500)})
	}
	h.ephemeral(ctx, in, message)
	return nil
}

// ephemeral shows text to the person alone, in the channel of the message
// they clicked. The text is escaped: refusals may quote what a document or
// a person wrote.
func (h *Handler) ephemeral(ctx context.Context, in *Interaction, text string) {
	if in.Channel == "" {
		h.logger().WarnContext(ctx, "slack: nowhere to answer", "slack_user", in.UserID, "review", in.ReviewID)
		return
	}
	if err := h.Slack.PostEphemeral(ctx, in.Channel, in.UserID, slack.MsgOptionText(text, true)); err != nil {
		h.logger().WarnContext(ctx, "slack: answering a person", "slack_user", in.UserID, "review", in.ReviewID, "error", err)
	}
}

// queueRoles may list the queue, as GET /v1/reviews admits them.
var queueRoles = []countersign.Role{countersign.RoleReviewer, countersign.RoleApprover, countersign.RoleAuditor, countersign.RoleAdmin}

// maxQueue is how many pending reviews /countersign queue lists.
const maxQueue = 20

// Command answers a /countersign command with a message only its sender
// sees: "queue" (the default) lists their pending reviews, "help" says
// what there is.
func (h *Handler) Command(ctx context.Context, cmd slack.SlashCommand) any {
	verb, _, _ := strings.Cut(strings.TrimSpace(cmd.Text), " ")
	switch strings.ToLower(verb) {
	case "", "queue":
		return ephemeralReply(h.queue(ctx, cmd))
	case "next":
		return ephemeralReply(h.next(ctx, cmd))
	case "help":
		return ephemeralReply(help(cmd.Command))
	}
	return ephemeralReply(fmt.Sprintf("I do not know %s.\n%s", escape(strconv.Quote(clip(verb, 40))), help(cmd.Command)))
}

func help(command string) string {
	if command == "" {
		command = "/countersign"
	}
	return fmt.Sprintf("`%s queue` lists the reviews waiting for you; `%s next` claims the next one for you. Decide them with the buttons on their messages; Claim holds one for you while you work on it.", escape(command), escape(command))
}

func ephemeralReply(text string) *slack.Msg {
	return &slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

// queue lists the caller's pending reviews: those of the task types their
// review groups open to them.
func (h *Handler) queue(ctx context.Context, cmd slack.SlashCommand) string {
	p, refusal := h.principal(ctx, cmd.UserID)
	if refusal != "" {
		return refusal
	}
	if !slices.Contains(queueRoles, p.Role) {
		return fmt.Sprintf("You act in countersign as %s, whose role %s does not see the review queue.", p.User, p.Role)
	}
	f := countersign.ReviewFilter{Status: countersign.ReviewPending, Limit: maxQueue}
	if h.TaskTypes != nil && p.Role == countersign.RoleReviewer {
		open, all := h.reviewable(p)
		if len(open) == 0 {
			return noTaskTypes
		}
		if len(open) < all {
			f.TaskTypes = open
		}
	}
	page, err := h.Store.ListReviews(ctx, f)
	if err != nil {
		return h.explain(ctx, err, "listing the queue")
	}
	if len(page.Reviews) == 0 {
		return "No review waits for you."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Reviews waiting for you, oldest first:")
	for _, r := range page.Reviews {
		fmt.Fprintf(&b, "\n• `%s` · %s · %s · due %s", escape(r.ID), escape(r.TaskType), percent(r.Confidence), slackDate(r.DueAt))
		if len(r.Reasons) > 0 {
			b.WriteString(" · " + escape(clip(r.Reasons[0], 120)))
		}
	}
	if page.NextCursor != "" {
		fmt.Fprintf(&b, "\n… and more: `countersign reviews` or the web page lists them all.")
	}
	return b.String()
}
