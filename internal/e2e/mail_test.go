package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/mailnotify/mailtest"
)

// TestReviewNoticesByMail: a worker configured with an SMTP server (a real
// one on loopback) e-mails a review's opening and its close to the
// configured address, the reasons in words and the close threaded under
// the opening, and records each notice.
func TestReviewNoticesByMail(t *testing.T) {
	box := mailtest.Start(t, false)
	a := startAppWith(t, config.Config{
		// A relay on loopback without TLS, as --smtp-insecure allows (the
		// mailnotify tests cover STARTTLS and authentication).
		SMTPAddr: box.Addr, SMTPInsecure: true,
		MailFrom: "countersign@example.com", MailTo: "review-desk@example.com",
	}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	review := submitAndWait(t, u, "contract-review", "msa-northwind-harbor.txt")
	waitUntil(t, "the opening's mail", func() (bool, string) {
		return len(box.Messages()) >= 1, fmt.Sprintf("%d messages", len(box.Messages()))
	})
	if _, err := u.approver.Decide(context.Background(), review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the close's mail", func() (bool, string) {
		return len(box.Messages()) >= 2, fmt.Sprintf("%d messages", len(box.Messages()))
	})
	got := box.Messages()
	opened, closed := got[0], got[1]
	if strings.Join(opened.To, ",") != "review-desk@example.com" ||
		!strings.Contains(opened.Data, "Review waiting: Contract review "+review.ID) || !strings.Contains(opened.Data, "Risk rule =E2=80=9Chigh value=E2=80=9D") {
		t.Fatalf("the opening's mail: %+v", opened)
	}
	if !strings.Contains(closed.Data, "Closed: Contract review "+review.ID) || !strings.Contains(closed.Data, "In-Reply-To: <"+review.ID+".opened@") {
		t.Fatalf("the close's mail:\n%s", closed.Data)
	}
	events, err := u.reviewer.Audit(context.Background(), review.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	notified := lastEvent(t, events, countersign.EventReviewNotified)
	if !strings.Contains(string(notified.Data), `"notified":true`) {
		t.Fatalf("review.notified = %s, want notified", notified.Data)
	}
}
