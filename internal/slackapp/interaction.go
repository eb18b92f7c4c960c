package slackapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/slack-go/slack"
)

// Kind is what a person did in Slack that countersign answers.
type Kind string

// Interaction kinds: a click on one of the review message's buttons, or
// the submission of one of the modals they open.
const (
	KindApprove Kind = "approve"
	KindCorrect Kind = "correct"
	KindReject  Kind = "reject"
	KindClaim   Kind = "claim"
	// KindPickBest is a pick of a comparison's best candidate (Choice),
	// with an all-unacceptable code (Unacceptable) when one was chosen
	// in the message first.
	KindPickBest Kind = "pick_best"
	// KindUnacceptable is the choice of an all-unacceptable code alone:
	// it decides nothing until the best is picked.
	KindUnacceptable  Kind = "unacceptable"
	KindSubmitCorrect Kind = "submit_correct"
	KindSubmitReject  Kind = "submit_reject"
)

// Interaction is what countersign takes from one of Slack's interaction
// payloads; ParseInteraction makes it.
type Interaction struct {
	Kind Kind
	// UserID is the Slack member who acted; ReviewID the review.
	UserID   string
	ReviewID string
	// TriggerID lets a click open a modal.
	TriggerID string
	// Channel and MessageTS are where the review's message is, for an
	// answer only the person sees.
	Channel   string
	MessageTS string
	// Inputs are a submitted modal's inputs by block ID, "field:NAME" for
	// the fields of a correction and "reason" for a rejection.
	Inputs map[string]string
	// Choice is what a comparison's select chose: the candidate ID picked
	// as the best, or the all-unacceptable code.
	Choice string
	// Unacceptable is, on a pick, the all-unacceptable code chosen in the
	// same message (read from the message's state), or empty.
	Unacceptable string
	// Key identifies this interaction among a person's interactions with
	// the review, for the Decider's idempotency key: the same click or
	// submission arriving twice decides once. Empty when Slack sent no ID.
	Key string
}

// errIgnored marks a payload countersign has nothing to do with: a click on
// the link, a modal closed, a shortcut. Slack gets a plain 200.
var errIgnored = errors.New("not a countersign interaction")

// maxIDBytes bounds a review ID as a button carries it.
const maxIDBytes = 200

// ParseInteraction reads the JSON of an interaction payload (the payload
// form field over HTTP, the envelope's payload over Socket Mode). It returns
// errIgnored for payloads that are not countersign's, and an error for
// payloads that are malformed: no user, no review, a review ID that is no ID.
func ParseInteraction(payload []byte) (*Interaction, error) {
	var ic slack.InteractionCallback
	if err := json.Unmarshal(payload, &ic); err != nil {
		return nil, fmt.Errorf("interaction payload: %w", err)
	}
	in := &Interaction{UserID: ic.User.ID, TriggerID: ic.TriggerID}
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		if !parseClick(&ic, in) {
			return nil, errIgnored
		}
	case slack.InteractionTypeViewSubmission:
		if !parseSubmission(&ic, in) {
			return nil, errIgnored
		}
	default:
		return nil, errIgnored
	}
	if !validID(in.UserID) {
		return nil, fmt.Errorf("interaction payload: no valid user ID")
	}
	if !validID(in.ReviewID) {
		return nil, fmt.Errorf("interaction payload: %q is not a review ID", clip(in.ReviewID, 40))
	}
	return in, nil
}

// parseClick reads the first of countersign's buttons in a block_actions
// payload.
func parseClick(ic *slack.InteractionCallback, in *Interaction) bool {
	kinds := map[string]Kind{ActionApprove: KindApprove, ActionCorrect: KindCorrect, ActionReject: KindReject, ActionClaim: KindClaim,
		ActionPickBest: KindPickBest, ActionUnacceptable: KindUnacceptable}
	for _, a := range ic.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		kind, ok := kinds[a.ActionID]
		if !ok {
			continue
		}
		in.Kind, in.ReviewID = kind, a.Value
		if kind == KindPickBest || kind == KindUnacceptable {
			// A select: the review is in the block's ID, the choice in
			// the option; a pick reads the code chosen beside it.
			review, ok := strings.CutPrefix(a.BlockID, blockPick+"/")
			if !ok {
				return false
			}
			in.ReviewID, in.Choice = review, a.SelectedOption.Value
			if kind == KindPickBest && ic.BlockActionState != nil {
				in.Unacceptable = ic.BlockActionState.Values[a.BlockID][ActionUnacceptable].SelectedOption.Value
			}
		}
		in.Channel = ic.Channel.ID
		if in.Channel == "" {
			in.Channel = ic.Container.ChannelID
		}
		in.MessageTS = ic.Container.MessageTs
		if in.MessageTS == "" {
			in.MessageTS = ic.Message.Timestamp
		}
		if a.ActionTs != "" {
			in.Key = "click/" + a.ActionTs
		}
		return true
	}
	return false
}

// parseSubmission reads a correction or rejection modal's submission.
func parseSubmission(ic *slack.InteractionCallback, in *Interaction) bool {
	switch ic.View.CallbackID {
	case ViewCorrect:
		in.Kind = KindSubmitCorrect
	case ViewReject:
		in.Kind = KindSubmitReject
	default:
		return false
	}
	var meta viewMeta
	if err := json.Unmarshal([]byte(ic.View.PrivateMetadata), &meta); err != nil {
		return false
	}
	in.ReviewID, in.Channel, in.MessageTS = meta.Review, meta.Channel, meta.TS
	in.Inputs = map[string]string{}
	if ic.View.State != nil {
		for blockID, actions := range ic.View.State.Values {
			a, ok := actions[inputAction]
			if !ok {
				continue
			}
			switch string(a.Type) {
			case slack.OptTypeStatic:
				// A select of the field's choices: the choice, or empty.
				in.Inputs[blockID] = a.SelectedOption.Value
			case slack.MultiOptTypeStatic:
				// Several choices: read back as a JSON list, as a text
				// input of a list is; none chosen empties the field.
				var chosen []string
				for _, o := range a.SelectedOptions {
					chosen = append(chosen, o.Value)
				}
				if len(chosen) > 0 {
					raw, _ := json.Marshal(chosen)
					in.Inputs[blockID] = string(raw)
				} else {
					in.Inputs[blockID] = ""
				}
			default:
				in.Inputs[blockID] = a.Value
			}
		}
	}
	if ic.View.ID != "" {
		in.Key = "view/" + ic.View.ID + "/" + ic.View.Hash
	}
	return true
}

// validID accepts the IDs Slack and countersign make: printable, no white
// space, not too long.
func validID(id string) bool {
	return id != "" && len(id) <= maxIDBytes && !strings.ContainsFunc(id, func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r)
	})
}

// fieldInputs are a correction's inputs by field name.
func (in *Interaction) fieldInputs() map[string]string {
	out := map[string]string{}
	for blockID, value := range in.Inputs {
		if name, ok := strings.CutPrefix(blockID, fieldBlockPref); ok {
			out[name] = value
		}
	}
	return out
}
