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
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
// first event that does not verify.
type Verifier struct {
	report countersign.ChainReport
	last   *countersign.AuditEvent
}

// NewVerifier returns a verifier at the start of a chain.
func NewVerifier() *Verifier {
	return &Verifier{report: countersign.ChainReport{OK: true, Head: Genesis}}
}

// Add checks the next event. It returns false once the chain is broken;
// later events are then not checked.
func (v *Verifier) Add(e countersign.AuditEvent) bool {
	if !v.report.OK {
		return false
	}
	wantSeq, wantPrev := int64(1), Genesis
	if v.last != nil {
		wantSeq, wantPrev = v.last.Seq+1, v.last.Hash
	}
	var reason string
	switch {
	case e.Seq < wantSeq:
		reason = fmt.Sprintf("sequence number %d repeats or goes back (expected %d)", e.Seq, wantSeq)
	case e.Seq > wantSeq:
		reason = fmt.Sprintf("events %d to %d are missing", wantSeq, e.Seq-1)
	case e.PrevHash != wantPrev:
		reason = fmt.Sprintf("prev_hash %s does not match the hash of event %d (%s): events were removed, inserted or reordered", short(e.PrevHash), wantSeq-1, short(wantPrev))
	case Hash(e) != e.Hash:
		reason = fmt.Sprintf("content does not match its hash %s: the event was changed", short(e.Hash))
	}
	if reason != "" {
		v.report.OK = false
		v.report.Broken = &countersign.ChainBreak{Seq: e.Seq, ID: e.ID, Reason: reason}
		return false
	}
	v.report.Events++
	v.report.Head = e.Hash
	ev := e
	v.last = &ev
	return true
}

// Report is the verification result so far.
func (v *Verifier) Report() countersign.ChainReport { return v.report }

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12] + "…"
	}
	return hash
}

// errStop ends a scan early once the chain is known to be broken.
var errStop = errors.New("stop")

// Verify recomputes the whole chain in log and reports the first broken event.
func Verify(ctx context.Context, log countersign.AuditLog) (countersign.ChainReport, error) {
	v := NewVerifier()
	err := log.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		if !v.Add(e) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return countersign.ChainReport{}, fmt.Errorf("verify audit chain: %w", err)
	}
	return v.Report(), nil
}
