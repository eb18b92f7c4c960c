package slackapp

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/countersign/countersign"
)

// Notifier tells reviewers about reviews in Slack; it is the
// countersign.Notifier of a worker with a bot token. A review opens as a
// message with the decision buttons; reminders reply in its thread,
// mention the reviewers Slack knows in the review's groups and write to
// each of them directly; an escalation replies in the thread and posts the
// review again where the next tier is; the close updates the message in
// place with who decided. Errors are returned for the caller to retry
// later: nothing about a decision waits on Slack.
type Notifier struct {
	Slack *Client
	// Channel is where reviews are posted when a notice names no channel.
	Channel string
	// Users are the linked Slack accounts, for mentions and direct
	// messages; nil mentions no one.
	Users SlackUsers
	// TaskTypes give the fields their titles and order; nil lists them by
	// confidence and name only.
	TaskTypes TaskTypes
	// Versions, when set, give a document the task type version it is
	// pinned to, for a comparison's rubric and mode; else TaskTypes do.
	Versions Versions
	Logger   *slog.Logger
}

// SlackUsers lists the linked Slack accounts.
type SlackUsers interface {
	SlackUsers(ctx context.Context) ([]countersign.SlackUser, error)
}

var _ countersign.Notifier = (*Notifier)(nil)

// maxDirect bounds the people a reminder writes to directly.
const maxDirect = 20

func (n *Notifier) logger() *slog.Logger {
	if n.Logger == nil {
		return slog.Default()
	}
	return n.Logger
}

// Notify delivers a notice; see countersign.Notifier. Only NoticeOpened
// returns a message.
func (n *Notifier) Notify(ctx context.Context, notice countersign.Notice) (*countersign.NoticeRef, error) {
	switch notice.Kind {
	case countersign.NoticeOpened:
		return n.post(ctx, notice, "")
	case countersign.NoticeReminder:
		return nil, n.remind(ctx, notice)
	case countersign.NoticeEscalation:
		return nil, n.escalate(ctx, notice)
	case countersign.NoticeClosed:
		return nil, n.close(ctx, notice)
	}
	return nil, fmt.Errorf("slack: unknown notice kind %q", notice.Kind)
}

// channel is where a notice goes.
func (n *Notifier) channel(notice countersign.Notice) (string, error) {
	if notice.To.Channel != "" {
		return notice.To.Channel, nil
	}
	if n.Channel != "" {
		return n.Channel, nil
	}
	return "", fmt.Errorf("slack: no channel for review %s: the task type names none and no default channel is configured", notice.Review.ID)
}

// taskType is the notice's task type: the version its document is pinned
// to when Versions can tell, else the one of that name now.
func (n *Notifier) taskType(ctx context.Context, notice countersign.Notice) *countersign.TaskType {
	if n.Versions != nil && notice.Document != nil && notice.Document.TaskTypeVersion != "" {
		if tt, err := n.Versions.Version(ctx, notice.Document.TaskTypeVersion); err == nil {
			return tt
		}
	}
	if n.TaskTypes == nil {
		return nil
	}
	tt, _ := n.TaskTypes.Get(notice.Review.TaskType)
	return tt
}

// post posts the review's message with its buttons, after a line of
// context when one is given.
func (n *Notifier) post(ctx context.Context, notice countersign.Notice, lead string) (*countersign.NoticeRef, error) {
	channel, err := n.channel(notice)
	if err != nil {
		return nil, err
	}
	blocks := reviewBlocks(notice, n.taskType(ctx, notice), true)
	text := summaryText(notice)
	if lead != "" {
		blocks = append([]slack.Block{slack.NewSectionBlock(mrkdwn(lead), nil, nil)}, blocks...)
		text = lead
	}
	id, ts, err := n.Slack.PostMessage(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionDisableLinkUnfurl())
	if err != nil {
		return nil, fmt.Errorf("post review %s: %w", notice.Review.ID, err)
	}
	return &countersign.NoticeRef{Channel: id, ID: ts}, nil
}

// remind replies in the review's thread, mentioning the reviewers of its
// groups, and writes to each of them; without the first message it posts
// the review again.
func (n *Notifier) remind(ctx context.Context, notice countersign.Notice) error {
	people := n.reviewers(ctx, notice)
	text := fmt.Sprintf(":alarm_clock: Reminder: this review still waits for a decision; it is due %s.", slackDate(notice.Review.DueAt))
	if len(notice.To.Groups) > 0 {
		text += " Review groups: " + escape(strings.Join(notice.To.Groups, ", ")) + "."
	}
	text += mentions(people)
	if notice.Ref == nil {
		if _, err := n.post(ctx, notice, text); err != nil {
			return err
		}
	} else if _, _, err := n.Slack.PostMessage(ctx, notice.Ref.Channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(notice.Ref.ID)); err != nil {
		return fmt.Errorf("remind of review %s: %w", notice.Review.ID, err)
	}
	direct := fmt.Sprintf("A %s review waits for you: document `%s`, due %s.", escape(title(notice)), escape(notice.Review.DocumentID), slackDate(notice.Review.DueAt))
	if notice.Link != "" && !strings.ContainsAny(notice.Link, "|<> \n") {
		direct += " <" + strings.ReplaceAll(notice.Link, "&", "&amp;") + "|Open it>, or use the buttons on its message."
	}
	for _, id := range people[:min(len(people), maxDirect)] {
		// Direct messages are a courtesy on top of the thread: one that
		// fails is logged, not retried with the whole reminder.
		dm, err := n.Slack.OpenDM(ctx, id)
		if err == nil {
			_, _, err = n.Slack.PostMessage(ctx, dm, slack.MsgOptionText(direct, false))
		}
		if err != nil {
			n.logger().WarnContext(ctx, "slack: reminding a reviewer directly", "review", notice.Review.ID, "slack_user", id, "error", err)
		}
	}
	return nil
}

// escalate tells the next tier: a reply in the review's thread, and the
// review posted with its buttons where the tier is, mentioning its people.
// When the tier's channel is the review's own, the reply is also sent to
// the channel instead.
func (n *Notifier) escalate(ctx context.Context, notice countersign.Notice) error {
	channel, err := n.channel(notice)
	if err != nil {
		return err
	}
	people := mentions(n.reviewers(ctx, notice))
	if notice.Ref != nil {
		text := ":rotating_light: Escalated: this review is still undecided past its due time."
		var options []slack.MsgOption
		if channel == notice.Ref.Channel {
			text += people
			options = append(options, slack.MsgOptionBroadcast())
		} else {
			text += " The next tier has been told."
		}
		options = append(options, slack.MsgOptionText(text, false), slack.MsgOptionTS(notice.Ref.ID))
		if _, _, err := n.Slack.PostMessage(ctx, notice.Ref.Channel, options...); err != nil {
			return fmt.Errorf("escalate review %s: %w", notice.Review.ID, err)
		}
		if channel == notice.Ref.Channel {
			return nil
		}
	}
	_, err = n.post(ctx, notice, ":rotating_light: *Escalated:* this review is still undecided past its due time."+people)
	return err
}

// close updates the review's message in place: the buttons give way to
// how the review ended and who decided. With no message there is nothing
// to update.
func (n *Notifier) close(ctx context.Context, notice countersign.Notice) error {
	if notice.Ref == nil {
		return nil
	}
	blocks := reviewBlocks(notice, n.taskType(ctx, notice), false)
	text := fmt.Sprintf("Review %s: %s", notice.Review.ID, closedText(notice))
	if err := n.Slack.UpdateMessage(ctx, notice.Ref.Channel, notice.Ref.ID, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		return fmt.Errorf("update the message of review %s: %w", notice.Review.ID, err)
	}
	return nil
}

// reviewers are the Slack accounts of the people who may decide the
// review and are in one of the notice's groups, leaving out whoever
// already decided it. With no groups named, no one in particular.
func (n *Notifier) reviewers(ctx context.Context, notice countersign.Notice) []string {
	if n.Users == nil || len(notice.To.Groups) == 0 {
		return nil
	}
	users, err := n.Users.SlackUsers(ctx)
	if err != nil {
		n.logger().WarnContext(ctx, "slack: listing linked Slack users", "error", err)
		return nil
	}
	var ids []string
	for _, u := range users {
		decided := slices.ContainsFunc(notice.Decisions, func(d countersign.Decision) bool {
			return d.Actor == u.User && (d.ReviewID == "" || d.ReviewID == notice.Review.ID)
		})
		inGroup := slices.ContainsFunc(u.Groups, func(g string) bool { return slices.Contains(notice.To.Groups, g) })
		if u.Role.CanDecide() && inGroup && !decided {
			ids = append(ids, u.SlackUserID)
		}
	}
	return ids
}

// mentions is a list of people as Slack mentions, after a space; empty
// for no one.
func mentions(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(" <@" + id + ">")
	}
	return b.String()
}
