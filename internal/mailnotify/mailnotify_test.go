package mailnotify

import (
	"context"
	"crypto/tls"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/mailnotify/mailtest"
)

var t0 = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

func notice(kind countersign.NoticeKind, groups ...string) countersign.Notice {
	doc := &countersign.Document{ID: "d1", TaskType: "contract-review", Draft: &countersign.Draft{Fields: countersign.Fields{"party_a": "Acme Corp"}},
		Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{"party_a": {Score: 0.41}}}}
	return countersign.Notice{
		Kind: kind, Title: "Contract review", Document: doc, At: t0,
		Review: countersign.Review{ID: "d1-r1", DocumentID: "d1", TaskType: "contract-review", Kind: countersign.ReviewGate, DueAt: t0.Add(48 * time.Hour),
			Confidence: 0.41, Reasons: []string{`risk rule "high value" matched: fields.value > 1000000`}},
		To:   countersign.Audience{Groups: groups},
		Link: "https://countersign.example.com/ui/reviews/d1-r1",
	}
}

// TestMailOverSTARTTLS: a notice goes to its groups' addresses over
// STARTTLS, authenticated, with the review's reasons in words, its least
// certain fields and the link; a later notice of the same review replies
// to the first, so mail programs thread them; a group with no addresses
// falls back to the default recipients.
func TestMailOverSTARTTLS(t *testing.T) {
	box := mailtest.Start(t, true)
	n := &Notifier{Addr: box.Addr, From: "Countersign <countersign@example.com>", Username: "countersign", Password: "s3cret",
		TLS:    &tls.Config{RootCAs: box.Roots, ServerName: "127.0.0.1"},
		To:     []string{"Review desk <review-desk@example.com>"},
		Groups: map[string][]string{"legal": {"lena@example.com", "lars@example.com"}, "contracts": {"lena@example.com"}},
		Domain: "countersign.example.com", Now: func() time.Time { return t0 }}
	if err := n.Check(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if ref, err := n.Notify(ctx, notice(countersign.NoticeOpened, "legal", "contracts")); err != nil || ref != nil {
		t.Fatalf("opened: %v, %v", ref, err)
	}
	if _, err := n.Notify(ctx, notice(countersign.NoticeReminder, "nobody-here")); err != nil {
		t.Fatal(err)
	}
	got := box.Messages()
	if len(got) != 2 || !got[0].TLS || !got[1].TLS {
		t.Fatalf("%d messages %+v, want 2 over TLS", len(got), got)
	}
	first := got[0]
	if first.User != mailtest.User || first.From != "countersign@example.com" || strings.Join(first.To, ",") != "lars@example.com,lena@example.com" {
		t.Fatalf("envelope = %+v; want countersign's, to legal's and contracts' addresses once each", first)
	}
	msg, err := mail.ReadMessage(strings.NewReader(first.Data))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Review waiting: Contract review d1-r1", "Risk rule “high value” matched", "party_a: Acme Corp (0.41)",
		"Open it: https://countersign.example.com/ui/reviews/d1-r1"} {
		if !strings.Contains(string(body), want) && !strings.Contains(msg.Header.Get("Subject"), want) {
			t.Errorf("message lacks %q:\n%s", want, body)
		}
	}
	if id := msg.Header.Get("Message-ID"); id != "<d1-r1.opened@countersign.example.com>" {
		t.Errorf("Message-ID = %q", id)
	}
	reminder, err := mail.ReadMessage(strings.NewReader(got[1].Data))
	if err != nil {
		t.Fatal(err)
	}
	if reminder.Header.Get("In-Reply-To") != "<d1-r1.opened@countersign.example.com>" || strings.Join(got[1].To, ",") != "review-desk@example.com" ||
		reminder.Header.Get("To") != "Review desk <review-desk@example.com>" {
		t.Errorf("reminder: In-Reply-To %q, to %v (header %q); want the opening's ID, to the default address", reminder.Header.Get("In-Reply-To"), got[1].To, reminder.Header.Get("To"))
	}
	// Two notices of one kind (two escalations) are two messages to a
	// receiver that drops repeated Message-IDs; a retry of one is the same.
	one, two := notice(countersign.NoticeEscalation), notice(countersign.NoticeEscalation)
	two.At = one.At.Add(time.Hour)
	a, _ := n.message(one, []string{"x@example.com"})
	b, _ := n.message(two, []string{"x@example.com"})
	again, _ := n.message(one, []string{"x@example.com"})
	idOf := func(raw []byte) string {
		m, err := mail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		return m.Header.Get("Message-ID")
	}
	if idOf(a) == idOf(b) || idOf(a) != idOf(again) {
		t.Errorf("escalation Message-IDs %s, %s, retry %s: want two, and the retry the same", idOf(a), idOf(b), idOf(again))
	}
}

// TestMailRefusesWhatIsNotSafe: a server without STARTTLS gets nothing
// (unless allowed); wrong credentials and an unreachable server are
// errors naming the server, for the activity to retry and then record.
func TestMailRefusesWhatIsNotSafe(t *testing.T) {
	plain := mailtest.Start(t, false)
	n := &Notifier{Addr: plain.Addr, From: "countersign@example.com", To: []string{"desk@example.com"}}
	if _, err := n.Notify(context.Background(), notice(countersign.NoticeOpened)); err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("a server without STARTTLS: %v", err)
	}
	if len(plain.Messages()) != 0 {
		t.Fatal("a message went out without TLS")
	}
	n.Insecure = true
	if _, err := n.Notify(context.Background(), notice(countersign.NoticeOpened)); err != nil || len(plain.Messages()) != 1 {
		t.Fatalf("allowed without TLS: %v, %d messages", err, len(plain.Messages()))
	}

	box := mailtest.Start(t, true)
	bad := &Notifier{Addr: box.Addr, From: "countersign@example.com", Username: "countersign", Password: "wrong",
		TLS: &tls.Config{RootCAs: box.Roots, ServerName: "127.0.0.1"}, To: []string{"desk@example.com"}}
	if _, err := bad.Notify(context.Background(), notice(countersign.NoticeOpened)); err == nil || !strings.Contains(err.Error(), "authentication as countersign") {
		t.Fatalf("wrong password: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := l.Addr().String()
	l.Close()
	down := &Notifier{Addr: gone, From: "countersign@example.com", To: []string{"desk@example.com"}}
	if _, err := down.Notify(context.Background(), notice(countersign.NoticeOpened)); err == nil || !strings.Contains(err.Error(), gone) {
		t.Fatalf("no server: %v", err)
	}
	for _, c := range []*Notifier{
		{Addr: "smtp.example.com", From: "a@example.com", To: []string{"b@example.com"}},
		{Addr: "smtp.example.com:587", From: "not an address", To: []string{"b@example.com"}},
		{Addr: "smtp.example.com:587", From: "a@example.com"},
	} {
		if err := c.Check(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// TestUnverifiedRelayIsRefused: a relay that offers STARTTLS with a
// certificate the roots do not vouch for gets nothing, even with Insecure
// (which allows only a relay without TLS), and the error says how to trust
// a private CA.
func TestUnverifiedRelayIsRefused(t *testing.T) {
	box := mailtest.Start(t, true)
	n := &Notifier{Addr: box.Addr, From: "countersign@example.com", Insecure: true,
		TLS: &tls.Config{ServerName: "127.0.0.1"}, To: []string{"desk@example.com"}, Now: func() time.Time { return t0 }}
	_, err := n.Notify(context.Background(), notice(countersign.NoticeOpened, "legal"))
	if err == nil || !strings.Contains(err.Error(), "SSL_CERT_FILE") || !strings.Contains(err.Error(), "never skips") {
		t.Fatalf("err = %v; want a refused certificate that says how to trust a private CA", err)
	}
	if got := box.Messages(); len(got) != 0 {
		t.Fatalf("%d messages reached an unverified relay", len(got))
	}
}
