package slackapp

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// FuzzParseInteraction feeds the payload parser anything: it must never
// panic, and whatever it accepts must be an interaction countersign can
// act on safely: a known kind, a user, and IDs that are IDs.
func FuzzParseInteraction(f *testing.F) {
	for _, payload := range []any{
		click("URITA", ActionApprove, "doc1-r1"),
		click("URITA", ActionCorrect, "doc1-r1"),
		submission("URITA", ViewCorrect, "doc1-r1", map[string]string{"field:term_months": "24"}),
		submission("USAM", ViewReject, "doc1-r1", map[string]string{blockReason: "unsigned"}),
		map[string]any{"type": "view_closed"},
	} {
		raw, _ := json.Marshal(payload)
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"block_actions","actions":[{"block_id":"x","action_id":"countersign_reject","value":"a b"}],"user":{"id":"U1"}}`))
	f.Add([]byte(`{"type":"view_submission","view":{"callback_id":"countersign_correct","private_metadata":"{\"review\":\"r\"}","state":{"values":{"field:a":{"value":{"value":"1"}}}}},"user":{"id":"U1"}}`))
	kinds := []Kind{KindApprove, KindCorrect, KindReject, KindSubmitCorrect, KindSubmitReject}
	f.Fuzz(func(t *testing.T, payload []byte) {
		in, err := ParseInteraction(payload)
		if err != nil {
			if in != nil {
				t.Fatalf("error %v with an interaction %+v", err, in)
			}
			if errors.Is(err, errIgnored) && !json.Valid(payload) {
				t.Fatalf("invalid JSON %q was ignored, not refused", payload)
			}
			return
		}
		if !slices.Contains(kinds, in.Kind) || !validID(in.UserID) || !validID(in.ReviewID) {
			t.Fatalf("accepted %+v from %q", in, payload)
		}
		if (in.Kind == KindSubmitCorrect || in.Kind == KindSubmitReject) != (in.Inputs != nil) {
			t.Fatalf("inputs %v on a %s", in.Inputs, in.Kind)
		}
	})
}
