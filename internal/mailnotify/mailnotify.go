// Package mailnotify tells reviewers about reviews by e-mail, over SMTP
// with STARTTLS and authentication: a second notifier beside Slack, with
// the same guarantee (a notice that cannot be delivered never holds up a
// review or a decision; activities.Notify retries it a few times, then
// records it as not delivered).
package mailnotify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/fieldview"
)

// Notifier sends notices as e-mail.
type Notifier struct {
	// Addr is the SMTP server, host:port (587 for submission).
	Addr string
	// From is the sender's address.
	From string
	// Username and Password authenticate (PLAIN, only over TLS); none when
	// Username is empty.
	Username, Password string
	// Insecure allows a server that does not offer STARTTLS, for a relay on
	// loopback; otherwise such a server is refused before anything is sent.
	Insecure bool
	// TLS, when set, is the TLS configuration for STARTTLS (tests give
	// their own roots); the system's roots and Addr's host otherwise.
	TLS *tls.Config
	// To are the addresses of a notice whose groups name none; Groups the
	// addresses of each reviewer group.
	To     []string
	Groups map[string][]string
	// TaskTypes give the fields their titles and order, and the rules
	// their descriptions; nil lists fields by name.
	TaskTypes interface {
		Get(name string) (*countersign.TaskType, error)
	}
	// Domain names the Message-IDs (countersign.local when empty).
	Domain string
	// Now stamps the Date header (time.Now when nil).
	Now func() time.Time
}

var _ countersign.Notifier = (*Notifier)(nil)

// Notify e-mails a notice to the addresses of its groups (or To); it never
// returns a message reference (Slack's is kept for threads; mail threads
// by Message-ID).
func (n *Notifier) Notify(ctx context.Context, notice countersign.Notice) (*countersign.NoticeRef, error) {
	to := n.recipients(notice.To)
	if len(to) == 0 {
		return nil, errors.New("no address to send the notice to: give --mail-to")
	}
	msg, err := n.message(notice, to)
	if err != nil {
		return nil, err
	}
	return nil, n.send(ctx, to, msg)
}

// recipients are the addresses of the audience's groups, or To when its
// groups name none, each once, sorted.
func (n *Notifier) recipients(a countersign.Audience) []string {
	var out []string
	for _, g := range a.Groups {
		out = append(out, n.Groups[g]...)
	}
	if len(out) == 0 {
		out = append(out, n.To...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Check reports a configuration that cannot work: no server, a sender or
// recipient that is not an address, no --mail-to for the notices of groups
// without addresses of their own (a notice must always have somewhere to go,
// or it would count as sent while going nowhere).
func (n *Notifier) Check() error {
	if _, _, err := net.SplitHostPort(n.Addr); err != nil {
		return fmt.Errorf("SMTP server %q is not host:port (such as smtp.example.com:587): %v", n.Addr, err)
	}
	if _, err := mail.ParseAddress(n.From); err != nil {
		return fmt.Errorf("mail sender %q is not an e-mail address: %v", n.From, err)
	}
	if len(n.To) == 0 {
		return errors.New("mail has no default recipients: give --mail-to, where the notices of groups without addresses in --mail-groups-file go")
	}
	all := slices.Clone(n.To)
	for _, addrs := range n.Groups {
		all = append(all, addrs...)
	}
	for _, a := range all {
		if _, err := mail.ParseAddress(a); err != nil {
			return fmt.Errorf("mail recipient %q is not an e-mail address: %v", a, err)
		}
	}
	return nil
}

// envelope is the bare address of an address as configured, which may
// carry a display name ("Review desk <desk@example.com>"); the SMTP
// envelope takes the address alone.
func envelope(a string) string {
	if parsed, err := mail.ParseAddress(a); err == nil {
		return parsed.Address
	}
	return a
}

// domain names the Message-IDs and the EHLO: Domain, else the sender's.
func (n *Notifier) domain() string {
	if n.Domain != "" {
		return n.Domain
	}
	if _, d, ok := strings.Cut(envelope(n.From), "@"); ok && d != "" {
		return d
	}
	return "countersign.local"
}

// messageID is the Message-ID of a notice of a review: the same for a
// retry (at is the notice's workflow time), so that a receiver may drop a
// second copy, and different for two notices of one kind (two escalations
// of one review). The opening's names no time: later notices reply to it,
// so that mail programs thread them.
func (n *Notifier) messageID(reviewID string, kind countersign.NoticeKind, at time.Time) string {
	id := strings.NewReplacer("/", ".", "<", "", ">", "", "@", "").Replace(reviewID) + "." + string(kind)
	if kind != countersign.NoticeOpened {
		id += "." + strconv.FormatInt(at.UnixNano(), 10)
	}
	return "<" + id + "@" + n.domain() + ">"
}

// message is the e-mail of a notice, headers and a quoted-printable
// plain-text body.
func (n *Notifier) message(notice countersign.Notice, to []string) ([]byte, error) {
	r := notice.Review
	var tt *countersign.TaskType
	if n.TaskTypes != nil {
		tt, _ = n.TaskTypes.Get(r.TaskType)
	}
	name := notice.Title
	if name == "" {
		name = r.TaskType
	}
	var subject string
	switch notice.Kind {
	case countersign.NoticeOpened:
		subject = "Review waiting: " + name + " " + r.ID
	case countersign.NoticeReminder:
		subject = "Reminder, still waiting: " + name + " " + r.ID
	case countersign.NoticeEscalation:
		subject = "Escalated, still waiting: " + name + " " + r.ID
	case countersign.NoticeClosed:
		subject = "Closed: " + name + " " + r.ID
		if notice.Outcome != "" {
			subject += " (" + notice.Outcome + ")"
		}
	default:
		subject = string(notice.Kind) + ": " + name + " " + r.ID
	}

	var body strings.Builder
	fmt.Fprintf(&body, "%s\n\n", subject)
	fmt.Fprintf(&body, "Review:     %s (%s)\nDocument:   %s\nConfidence: %.2f\nDue:        %s\n", r.ID, r.Kind, r.DocumentID, r.Confidence, r.DueAt.UTC().Format("2006-01-02 15:04 MST"))
	if notice.Outcome != "" {
		fmt.Fprintf(&body, "Outcome:    %s\n", notice.Outcome)
	}
	if why := fieldview.Explain(r.Reasons, tt); len(why) > 0 {
		body.WriteString("\nWhy a person decides:\n")
		for _, reason := range why {
			fmt.Fprintf(&body, "  - %s\n", reason.Text)
		}
	}
	if notice.Kind == countersign.NoticeOpened && notice.Document != nil {
		fields := fieldview.List(tt, notice.Document)
		if len(fields) > 8 {
			fields = fields[:8]
		}
		if len(fields) > 0 {
			body.WriteString("\nLeast certain fields first:\n")
		}
		for _, f := range fields {
			value := "(none)"
			if f.Present {
				value = fmt.Sprint(f.Value)
			}
			confidence := "not scored"
			if f.Confidence != nil {
				confidence = fmt.Sprintf("%.2f", *f.Confidence)
			}
			fmt.Fprintf(&body, "  %s: %s (%s)\n", f.Name, clip(value, 120), confidence)
		}
	}
	for _, d := range notice.Decisions {
		fmt.Fprintf(&body, "\n%s %s by %s (%s)", d.ID, d.Action.PastTense(), d.Actor, d.Role)
		if d.Reason != "" {
			fmt.Fprintf(&body, ": %s", clip(d.Reason, 300))
		}
	}
	if len(notice.Decisions) > 0 {
		body.WriteString("\n")
	}
	if notice.Link != "" {
		fmt.Fprintf(&body, "\nOpen it: %s\n", notice.Link)
	}
	body.WriteString("\nDecide on the web page, in Slack, with countersign decide or POST /v1/reviews/{id}/decision; replies to this message are not read.\n")

	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	var msg bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	header("From", n.From)
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", now().Format(time.RFC1123Z))
	header("Message-ID", n.messageID(r.ID, notice.Kind, notice.At))
	if notice.Kind != countersign.NoticeOpened {
		opened := n.messageID(r.ID, countersign.NoticeOpened, notice.At)
		header("In-Reply-To", opened)
		header("References", opened)
	}
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	msg.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&msg)
	if _, err := qp.Write([]byte(strings.ReplaceAll(body.String(), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return msg.Bytes(), nil
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// send delivers msg to the server: STARTTLS (refused without it unless
// Insecure), PLAIN authentication when a username is set, then the
// envelope and the message. The whole exchange keeps to ctx's deadline.
func (n *Notifier) send(ctx context.Context, to []string, msg []byte) error {
	host, _, err := net.SplitHostPort(n.Addr)
	if err != nil {
		return fmt.Errorf("SMTP server %q: %w", n.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.Addr)
	if err != nil {
		return fmt.Errorf("SMTP server %s: %w", n.Addr, err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	} else {
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("SMTP server %s: %w", n.Addr, err)
	}
	defer c.Close()
	if err := c.Hello(n.domain()); err != nil {
		return fmt.Errorf("SMTP server %s: %w", n.Addr, err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := n.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			var unverified *tls.CertificateVerificationError
			if errors.As(err, &unverified) {
				return fmt.Errorf("SMTP server %s: STARTTLS: %w (nothing was sent; a relay whose certificate a private CA signed needs that CA in the system's roots, or in the file SSL_CERT_FILE names: --smtp-insecure allows a relay that offers no TLS, it never skips checking one that does)", n.Addr, err)
			}
			return fmt.Errorf("SMTP server %s: STARTTLS: %w", n.Addr, err)
		}
	} else if !n.Insecure {
		return fmt.Errorf("SMTP server %s does not offer STARTTLS: nothing was sent (--smtp-insecure allows a relay without TLS)", n.Addr)
	}
	if n.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", n.Username, n.Password, host)); err != nil {
			return fmt.Errorf("SMTP server %s: authentication as %s: %w", n.Addr, n.Username, err)
		}
	}
	if err := c.Mail(envelope(n.From)); err != nil {
		return fmt.Errorf("SMTP server %s: sender %s: %w", n.Addr, n.From, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(envelope(rcpt)); err != nil {
			return fmt.Errorf("SMTP server %s: recipient %s: %w", n.Addr, rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP server %s: %w", n.Addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("SMTP server %s: %w", n.Addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP server %s: the message was refused: %w", n.Addr, err)
	}
	// The server took the message: a failed goodbye must not have it sent
	// again.
	_ = c.Quit()
	return nil
}
