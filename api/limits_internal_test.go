package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/rest"
)

// fuzzLimit is the field and metadata key limit of the fuzz targets, and
// fuzzLimits the decision limits, small so that the fuzzer reaches them.
const fuzzLimit = 4

var fuzzLimits = inputLimits{fields: fuzzLimit, sizes: countersign.DecisionLimits{ReasonBytes: 16, FieldValueBytes: 16}}

// checkRefusal fails unless err is one of the API's coded errors with a
// 4xx status and a message.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	code := countersign.ErrorCode(err)
	status := rest.Status(code)
	if status < 400 || status >= 500 || err.Error() == "" {
		t.Fatalf("refusal %q has code %q (status %d): want a 4xx coded error", err, code, status)
	}
}

// FuzzDecisionBody: whatever the body, parseDecision does not panic; it
// refuses with a 4xx coded error or accepts a decision within the limits,
// which encodes to JSON that parses back to the same decision.
func FuzzDecisionBody(f *testing.F) {
	for _, seed := range []string{
		`{"action":"approve"}`,
		`{"action":"correct","fields":{"amount":12.5,"parties":["a","b"],"signed":true,"note":null}}`,
		`{"action":"reject","reason":"not a contract"}`,
		`{"action":"correct","fields":{"a":1,"b":2,"c":3,"d":4,"e":5}}`,
		`{"ACTION":"approve","Fields":{}}`,
		`{"action":"approve"} {}`,
		`{"action":1}`,
		`{"verdict":"approve"}`,
		`{"action":"correct","fields":{"x":1e400}}`,
		`{"reason":"\ud800 \u0000 <b>&amp;</b>"}`,
		`{"action":"reject","reason":"seventeen bytes!!"}`,
		`{"action":"correct","fields":{"a":"fifteen bytes!!"}}`,
		`[]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseDecision(bytes.NewReader(body), fuzzLimits)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if len(req.Fields) > fuzzLimit {
			t.Fatalf("accepted %d fields past the limit of %d", len(req.Fields), fuzzLimit)
		}
		if len(req.Reason) > fuzzLimits.sizes.ReasonBytes {
			t.Fatalf("accepted a reason of %d bytes past the limit of %d", len(req.Reason), fuzzLimits.sizes.ReasonBytes)
		}
		for name, value := range req.Fields {
			if raw, _ := json.Marshal(value); len(raw) > fuzzLimits.sizes.FieldValueBytes {
				t.Fatalf("accepted field %q of %d bytes past the limit of %d", name, len(raw), fuzzLimits.sizes.FieldValueBytes)
			}
		}
		checkRoundTrip(t, req, func(raw []byte) (any, error) { return parseDecision(bytes.NewReader(raw), fuzzLimits) })
	})
}

// FuzzSubmitBody: the same for parseSubmit and the metadata key limit.
func FuzzSubmitBody(f *testing.F) {
	for _, seed := range []string{
		`{"task_type":"contract-review","content":"This agreement..."}`,
		`{"task_type":"contract-review","external_id":"c-1","content":"x","metadata":{"source":"email","kind":"nda"}}`,
		`{"task_type":"t","content":"x","metadata":{"a":"1","b":"2","c":"3","d":"4","e":"5"}}`,
		`{"task_type":"t","content":"x","metadata":{"a":1}}`,
		`{"task_type":"t","content":"\u0000\ud800","metadata":null}`,
		`{"task_type":"t","content":42}`,
		`{"task-type":"t"}`,
		`{"task_type":"t"}garbage`,
		`null`,
		`{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseSubmit(bytes.NewReader(body), fuzzLimit)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if len(req.Metadata) > fuzzLimit {
			t.Fatalf("accepted %d metadata keys past the limit of %d", len(req.Metadata), fuzzLimit)
		}
		checkRoundTrip(t, req, func(raw []byte) (any, error) { return parseSubmit(bytes.NewReader(raw), fuzzLimit) })
	})
}

// checkRoundTrip encodes an accepted request as the API's clients do and
// checks that it parses back to the same request: its encoding is the
// same. (Encodings are compared, not values, because an empty map and a
// missing one are the same request.)
func checkRoundTrip(t *testing.T, req any, parse func([]byte) (any, error)) {
	t.Helper()
	encoded, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("accepted %#v, which does not encode: %v", req, err)
	}
	again, err := parse(encoded)
	if err != nil {
		t.Fatalf("accepted %#v, but not its encoding %s: %v", req, encoded, err)
	}
	reencoded, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encoded, reencoded) {
		t.Fatalf("round trip changed the request:\n%s\n%s", encoded, reencoded)
	}
}

func TestRefusalsAreCoded(t *testing.T) {
	cases := map[string]countersign.Code{
		`{"action":"approve"} {}`: countersign.CodeBadRequest,
		`{"action":1}`:            countersign.CodeBadRequest,
		`{"verdict":"approve"}`:   countersign.CodeBadRequest,
		`{"action":"correct","fields":{"a":1,"b":2,"c":3,"d":4,"e":5}}`: countersign.CodeInvalid,
		`{"action":"correct","fields":{"x":1e400}}`:                     countersign.CodeBadRequest,
		`{"action":"reject","reason":"seventeen bytes!!"}`:              countersign.CodeTooLarge,
		`{"action":"correct","fields":{"a":"fifteen bytes!!"}}`:         countersign.CodeTooLarge,
		``:   countersign.CodeBadRequest,
		`[]`: countersign.CodeBadRequest,
	}
	for body, want := range cases {
		_, err := parseDecision(strings.NewReader(body), fuzzLimits)
		if countersign.ErrorCode(err) != want {
			t.Errorf("%q: %v (code %s), want %s", body, err, countersign.ErrorCode(err), want)
		}
	}
}

func TestRateLimiterSweepsFullBuckets(t *testing.T) {
	l := newRateLimiter(10, 20) // a bucket refills in 2 s
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range minSweep - 1 {
		l.take(fmt.Sprint("idle-", i), t0)
	}
	l.take("busy", t0.Add(time.Second))
	if len(l.buckets) != minSweep {
		t.Fatalf("%d buckets before the sweep", len(l.buckets))
	}
	// The next new key sweeps: the idle buckets are full again by then,
	// the busy one is not.
	l.take("new", t0.Add(2*time.Second))
	if len(l.buckets) != 2 || l.buckets["busy"] == nil || l.buckets["new"] == nil {
		t.Fatalf("after the sweep: %d buckets", len(l.buckets))
	}
	if l.sweepAt != minSweep {
		t.Fatalf("next sweep at %d, want %d", l.sweepAt, minSweep)
	}
	// A bucket is the same after a sweep as before: the burst, then the rate.
	for i := range 20 {
		if d := l.take("fresh", t0.Add(10*time.Second)); d != 0 {
			t.Fatalf("request %d of the burst waits %s", i+1, d)
		}
	}
	if d := l.take("fresh", t0.Add(10*time.Second)); d != 100*time.Millisecond {
		t.Fatalf("past the burst: wait %s, want 100ms", d)
	}
}
