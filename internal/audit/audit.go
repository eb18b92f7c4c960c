// Package audit defines how audit events are encoded, chained and verified.
//
// An event's hash is the hex SHA-256 of, in this order, each written as its
// length in bytes, a colon and its bytes:
//
//	"countersign-audit-v1", seq (decimal), id, document_id, type, actor,
//	channel, at (RFC 3339 UTC with microseconds), trace_id, prev_hash, data
//
// where data is the event's canonical JSON (object keys sorted, no
// insignificant white space) exactly as stored, and prev_hash is the previous
// event's hash (64 zeros for the first event). The encoding is unambiguous
// and simple enough for an auditor to recompute with any tool.
//
// A chain only shows it was not changed by someone who did not recompute
// it. Signed checkpoints (Checkpoint) record a point of the chain out of
// the database's reach, and Verify holds the chain to them. VerifyStore
// also holds the rows people read (documents' status and final records,
// decisions) to the events that recorded them.
package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/countersign/countersign"
)

// Genesis is the prev_hash of the first event of a chain.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// TimeLayout is how event times are written when hashed. Stores keep
// microseconds, so times are truncated to them before hashing.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Time normalizes an event time to what stores keep and hashes cover.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Canonical encodes v as canonical JSON: object keys sorted, numbers as
// written, no HTML escaping and no insignificant white space.
func Canonical(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Hash computes e's hash from its fields and PrevHash (its Hash is ignored).
func Hash(e countersign.AuditEvent) string {
	h := sha256.New()
	for _, part := range []string{
		"countersign-audit-v1",
		strconv.FormatInt(e.Seq, 10),
		e.ID,
		e.DocumentID,
		e.Type,
		e.Actor,
		string(e.Channel),
		Time(e.At).Format(TimeLayout),
		e.TraceID,
		e.PrevHash,
		string(e.Data),
	} {
		fmt.Fprintf(h, "%d:%s", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seal links e after head (nil for the first event): it sets Seq, PrevHash
// and Hash, and normalizes At.
func Seal(e *countersign.AuditEvent, head *countersign.AuditEvent) {
	e.At = Time(e.At)
	e.Seq, e.PrevHash = 1, Genesis
	if head != nil {
		e.Seq, e.PrevHash = head.Seq+1, head.Hash
	}
	e.Hash = Hash(*e)
}

// Verifier recomputes a chain event by event, in order, and remembers the
// first event that does not verify. Given checkpoints, it also holds the
// chain to them: the event of each must still have the hash it recorded.
type Verifier struct {
	report countersign.ChainReport
	last   *countersign.AuditEvent
	// ahead are the checkpoints not reached yet, in chain order; held is the
	// last one reached (0 before any).
	ahead []countersign.ChainPoint
	held  int64
}

// NewVerifier returns a verifier at the start of a chain, holding it to the
// given checkpoints.
func NewVerifier(checkpoints ...countersign.ChainPoint) *Verifier {
	v := &Verifier{report: countersign.ChainReport{OK: true, Head: Genesis}}
	if len(checkpoints) > 0 {
		v.report.Checkpoints = slices.Clone(checkpoints)
		v.ahead = slices.Clone(checkpoints)
		slices.SortStableFunc(v.ahead, func(a, b countersign.ChainPoint) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	return v
}

// Add checks the next event. It returns false once the chain is broken;
// later events are then not checked.
func (v *Verifier) Add(e countersign.AuditEvent) bool {
	if !v.report.OK {
		return false
	}
	if reason := v.link(e); reason != "" {
		return v.fail(e, reason, v.report.Events)
	}
	if reason := v.hold(e); reason != "" {
		// Whatever was rewritten lies after the last checkpoint that held:
		// only the events up to it are known to be the original ones.
		return v.fail(e, reason, v.held)
	}
	v.report.Events++
	v.report.Head = e.Hash
	ev := e
	v.last = &ev
	return true
}

// link checks e follows the events before it and matches its own hash.
func (v *Verifier) link(e countersign.AuditEvent) string {
	wantSeq, wantPrev := int64(1), Genesis
	if v.last != nil {
		wantSeq, wantPrev = v.last.Seq+1, v.last.Hash
	}
	switch {
	case e.Seq < wantSeq:
		return fmt.Sprintf("sequence number %d repeats or goes back (expected %d)", e.Seq, wantSeq)
	case e.Seq > wantSeq:
		return fmt.Sprintf("events %d to %d are missing", wantSeq, e.Seq-1)
	case e.PrevHash != wantPrev:
		return fmt.Sprintf("prev_hash %s does not match the hash of event %d (%s): events were removed, inserted or reordered", short(e.PrevHash), wantSeq-1, short(wantPrev))
	case Hash(e) != e.Hash:
		return fmt.Sprintf("content does not match its hash %s: the event was changed", short(e.Hash))
	}
	return ""
}

// hold checks e, which links, against the checkpoints that name it. An
// attacker who rewrites events and recomputes every hash after them makes
// a chain that links; only a hash recorded before can tell.
func (v *Verifier) hold(e countersign.AuditEvent) string {
	for len(v.ahead) > 0 && v.ahead[0].Seq <= e.Seq {
		p := v.ahead[0]
		v.ahead = v.ahead[1:]
		if p.Seq < e.Seq {
			return fmt.Sprintf("a checkpoint names event %d, which no chain has", p.Seq)
		}
		if p.Hash != e.Hash {
			return fmt.Sprintf("hash %s is not %s, the hash a checkpoint recorded: events %d to %d were rewritten and the hashes after them recomputed",
				short(e.Hash), short(p.Hash), v.held+1, e.Seq)
		}
		v.held = p.Seq
	}
	return ""
}

func (v *Verifier) fail(e countersign.AuditEvent, reason string, verified int64) bool {
	v.report.OK = false
	v.report.Events = verified
	v.report.Broken = &countersign.ChainBreak{Seq: e.Seq, ID: e.ID, Reason: reason}
	return false
}

// Report is the verification result so far.
func (v *Verifier) Report() countersign.ChainReport { return v.report }

// Finish ends the chain after the last event added and returns the final
// report: a checkpoint beyond that event means events were removed from the
// end of the chain.
func (v *Verifier) Finish() countersign.ChainReport {
	if v.report.OK && len(v.ahead) > 0 {
		furthest := v.ahead[len(v.ahead)-1].Seq
		v.report.OK = false
		v.report.Broken = &countersign.ChainBreak{
			Seq:    v.report.Events + 1,
			Reason: fmt.Sprintf("events %d to %d are missing: the chain ends at event %d, but a checkpoint vouches for event %d", v.report.Events+1, furthest, v.report.Events, furthest),
		}
		v.ahead = nil
	}
	return v.report
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12] + "…"
	}
	return hash
}

// errStop ends a scan early once the chain is known to be broken.
var errStop = errors.New("stop")

// Verify recomputes the whole chain in log and reports the first broken
// event. Given checkpoints (see Checkpoint), it holds the chain to them too,
// which detects a rewritten chain whose hashes were all recomputed and a
// chain cut short.
func Verify(ctx context.Context, log countersign.AuditLog, checkpoints ...countersign.ChainPoint) (countersign.ChainReport, error) {
	v := NewVerifier(checkpoints...)
	err := log.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		if !v.Add(e) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return countersign.ChainReport{}, fmt.Errorf("verify audit chain: %w", err)
	}
	return v.Finish(), nil
}
