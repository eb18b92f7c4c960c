package slackapp

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/countersign/countersign"
)

// acks records Socket Mode acknowledgements.
type acks struct {
	mu   sync.Mutex
	got  map[string][]any
	done chan string
}

func (a *acks) Ack(req socketmode.Request, payload ...any) error {
	a.mu.Lock()
	a.got[req.EnvelopeID] = payload
	a.mu.Unlock()
	a.done <- req.EnvelopeID
	return nil
}

// TestSocketModeAnswersLikeHTTP sends Socket Mode requests through the
// event loop: they reach the same Handler as HTTP requests, and its reply
// goes back in the acknowledgement.
func TestSocketModeAnswersLikeHTTP(t *testing.T) {
	slackAPI := newFakeSlack(t)
	fx := newFixture(t)
	decider := &fakeDecider{}
	client, _ := newClient(slackAPI)
	s := NewSocket(&Handler{Store: fx.store, TaskTypes: testTypes, Decider: decider, Slack: client}, client)
	events := make(chan socketmode.Event)
	ack := &acks{got: map[string][]any{}, done: make(chan string, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.serve(ctx, events, ack)

	send := func(envelope string, kind socketmode.EventType, payload any, data any) []any {
		t.Helper()
		raw, _ := json.Marshal(payload)
		events <- socketmode.Event{Type: kind, Data: data, Request: &socketmode.Request{EnvelopeID: envelope, Payload: raw}}
		select {
		case id := <-ack.done:
			if id != envelope {
				t.Fatalf("acknowledged %s, want %s", id, envelope)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was never acknowledged", envelope)
		}
		ack.mu.Lock()
		defer ack.mu.Unlock()
		return ack.got[envelope]
	}

	if payload := send("e1", socketmode.EventTypeInteractive, click("URITA", ActionApprove, "doc1-r1"), nil); len(payload) != 0 {
		t.Errorf("approve click acknowledged with %v, want a bare acknowledgement", payload)
	}
	if calls := decider.received(); len(calls) != 1 || calls[0].Caller.User != "rita" || calls[0].Req.Action != countersign.ActionApprove || calls[0].Channel != countersign.ChannelSlack {
		t.Fatalf("decisions %+v, want rita's approval from Slack", calls)
	}

	payload := send("e2", socketmode.EventTypeInteractive, submission("URITA", ViewCorrect, "doc1-r1", map[string]string{"field:term_months": "soon"}), nil)
	reply, ok := payload[0].(*slack.ViewSubmissionResponse)
	if len(payload) != 1 || !ok || reply.Errors["field:term_months"] == "" {
		t.Errorf("bad correction acknowledged with %v, want the modal's errors", payload)
	}

	payload = send("e3", socketmode.EventTypeInteractive, click("UNOBODY", ActionApprove, "doc1-r1"), nil)
	if len(payload) != 0 || len(decider.received()) != 1 {
		t.Errorf("unlinked click: acknowledged with %v, %d decisions; want a bare acknowledgement and no decision", payload, len(decider.received()))
	}

	cmd := slack.SlashCommand{Command: "/countersign", Text: "queue", UserID: "UPAT"}
	payload = send("e4", socketmode.EventTypeSlashCommand, cmd, cmd)
	msg, ok := payload[0].(*slack.Msg)
	if len(payload) != 1 || !ok || msg.ResponseType != slack.ResponseTypeEphemeral || !strings.Contains(msg.Text, "doc2-r1") || strings.Contains(msg.Text, "doc1-r1") {
		t.Errorf("queue command acknowledged with %+v, want pat's queue, ephemeral", payload)
	}

	if payload := send("e5", socketmode.EventTypeInteractive, map[string]any{"type": "view_closed", "user": map[string]any{"id": "URITA"}}, nil); len(payload) != 0 {
		t.Errorf("a closed modal acknowledged with %v, want a bare acknowledgement", payload)
	}
}
