package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
)

// TestCLIWalkthrough runs the README's walk-through with the real binary
// against a real `countersign dev`: the CLI finds the server and the admin
// token in the data dir by itself.
func TestCLIWalkthrough(t *testing.T) {
	bin := binary(t)
	dataDir := t.TempDir()
	startDev(t, bin, dataDir)
	examples := filepath.Join("..", "..", "examples")
	cli := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, append(args, "--data-dir", dataDir)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if exit, ok := err.(*exec.ExitError); ok {
			return string(out) + string(exit.Stderr), err
		}
		return string(out), err
	}
	mustCLI := func(args ...string) string {
		t.Helper()
		out, err := cli("", args...)
		if err != nil {
			t.Fatalf("countersign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	out := mustCLI("submit", "--type", "contract-review", filepath.Join(examples, "contract-review", "samples"))
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.Contains(lines[0], "\tprocessing\t") {
		t.Fatalf("submit printed:\n%s", out)
	}
	out = mustCLI("submit", "--type", "pii-extraction", "--wait", filepath.Join(examples, "pii-extraction", "samples", "email-maria-gonzalez.txt"))
	if !strings.Contains(out, "\taccepted\t") {
		t.Fatalf("submit --wait printed:\n%s", out)
	}
	jsonl := `{"external_id":"T-1","content":"From: Ann Lee <ann@example.org>\nMy phone is 555-010-9999.","metadata":{"queue":"vip"}}` + "\n"
	if out, err := cli(jsonl, "submit", "--type", "pii-extraction", "-"); err != nil || !strings.Contains(out, "stdin:1") {
		t.Fatalf("submit from stdin: %v\n%s", err, out)
	}

	var reviews []countersign.Review
	var raw string
	for range 100 {
		raw = mustCLI("reviews", "--json", "--type", "contract-review")
		if err := json.Unmarshal([]byte(raw), &reviews); err != nil {
			t.Fatalf("reviews --json: %v\n%s", err, raw)
		}
		if len(reviews) == 4 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(reviews) != 4 {
		t.Fatalf("reviews: %s", raw)
	}
	if table := mustCLI("reviews"); !strings.Contains(table, "REVIEW") || !strings.Contains(table, reviews[0].ID) {
		t.Fatalf("reviews table:\n%s", table)
	}
	shown := mustCLI("review", "show", reviews[0].ID)
	for _, want := range []string{"review " + reviews[0].ID + ": contract-review", "why a person", "FIELD", "party_a *", "decide: countersign decide " + reviews[0].ID} {
		if !strings.Contains(shown, want) {
			t.Fatalf("review show lacks %q:\n%s", want, shown)
		}
	}
	var view api.ReviewView
	if err := json.Unmarshal([]byte(mustCLI("review", "show", reviews[0].ID, "--json")), &view); err != nil || view.Review.ID != reviews[0].ID || len(view.Fields) == 0 {
		t.Fatalf("review show --json: %+v, %v", view, err)
	}
	if out, err := cli("", "review", "show", reviews[0].DocumentID); err == nil || !strings.Contains(out, "is a document; its reviews are "+reviews[0].ID) {
		t.Fatalf("review show with a document ID: %v %s; want its review named", err, out)
	}
	if out, err := cli("", "reviews", "--type", "contracts"); err == nil || !strings.Contains(out, `unknown task type "contracts"`) {
		t.Fatalf("reviews of a misspelt task type: %v %s; want a failure naming it", err, out)
	}

	// The admin submitted the documents, so a reviewer decides them:
	// whoever submits a document may not decide it.
	out = mustCLI("token", "create", "--user", "rita", "--role", "reviewer")
	fields := strings.Fields(out)
	token := fields[len(fields)-1]
	if !strings.HasPrefix(token, "cs_") {
		t.Fatalf("token create printed %q", out)
	}
	if out, err := cli("", "decide", reviews[0].ID, "approve"); err == nil || !strings.Contains(out, "admin submitted document "+reviews[0].DocumentID+", so may not decide it") {
		t.Fatalf("the submitter deciding: %v %s", err, out)
	}
	if out := mustCLI("decide", reviews[0].ID, "approve", "--token", token); !strings.Contains(out, "approved by rita") || !strings.Contains(out, "is accepted") {
		t.Fatalf("decide approve: %s", out)
	}
	if out := mustCLI("decide", reviews[1].ID, "correct", "--field", "term_months=18", "--field", `governing_law="New York"`, "--token", token); !strings.Contains(out, "corrected by rita") {
		t.Fatalf("decide correct: %s", out)
	}
	// Claims: rita takes the next review; the list says she holds it;
	// nobody else may decide it until an admin releases it; she claims it
	// again.
	out = mustCLI("next", "--type", "contract-review", "--token", token)
	held := ""
	for _, r := range reviews[2:] {
		if strings.Contains(out, "claimed review "+r.ID+" until") && strings.Contains(out, "review "+r.ID+": contract-review") {
			held = r.ID
		}
	}
	if held == "" {
		t.Fatalf("next claimed none of the open reviews:\n%s", out)
	}
	if table := mustCLI("reviews", "--type", "contract-review"); !strings.Contains(table, "pending (claimed by rita)") {
		t.Fatalf("reviews table does not say rita holds %s:\n%s", held, table)
	}
	if out, err := cli("", "decide", held, "reject", "--reason", "not mine"); err == nil || !strings.Contains(out, "is claimed by rita until") {
		t.Fatalf("deciding rita's claimed review: %v %s", err, out)
	}
	if out := mustCLI("review", "release", held); !strings.Contains(out, "released review "+held) {
		t.Fatalf("review release: %s", out)
	}
	if out := mustCLI("review", "claim", held, "--token", token); !strings.Contains(out, "claimed review "+held+" until") {
		t.Fatalf("review claim: %s", out)
	}
	// Assignment: the admin assigns another open review to rita, not to
	// themself (they submitted it); the list and the review say so.
	other := reviews[2].ID
	if other == held {
		other = reviews[3].ID
	}
	if out, err := cli("", "review", "assign", other, "admin"); err == nil || !strings.Contains(out, "separation of duties") {
		t.Fatalf("assigning to the submitter: %v %s", err, out)
	}
	if out := mustCLI("review", "assign", other, "rita"); !strings.Contains(out, "assigned review "+other+" to rita") {
		t.Fatalf("review assign: %s", out)
	}
	if table := mustCLI("reviews", "--type", "contract-review"); !strings.Contains(table, "pending (assigned to rita)") {
		t.Fatalf("reviews table does not say %s is assigned to rita:\n%s", other, table)
	}
	if out := mustCLI("review", "show", other); !strings.Contains(out, "assigned to rita") {
		t.Fatalf("review show does not name the assignee:\n%s", out)
	}
	if out, err := cli("", "decide", reviews[2].ID, "reject", "--token", token); err == nil || !strings.Contains(out, "reject needs a reason") {
		t.Fatalf("reject without a reason: %v %s", err, out)
	}
	if out, err := cli("", "decide", reviews[0].ID, "approve", "--token", token); err == nil || !strings.Contains(out, "already closed") {
		t.Fatalf("second decision: %v %s", err, out)
	}
	if out, err := cli("", "decide", reviews[2].ID, "maybe", "--token", token); err == nil || !strings.Contains(out, `unknown action "maybe"`) {
		t.Fatalf("unknown action: %v %s", err, out)
	} else if code := err.(*exec.ExitError).ExitCode(); code != 2 {
		t.Fatalf("unknown action exit code %d, want 2", code)
	}

	// Two reviewed documents are too few to calibrate on, and the refusal
	// says what is needed; the policy can be replayed over them already.
	if out, err := cli("", "calibrate", "--type", "contract-review"); err == nil || !strings.Contains(out, "are not enough: a calibration needs at least 30") {
		t.Fatalf("calibrate with two documents: %v\n%s", err, out)
	}
	out = mustCLI("policy", "simulate", "--type", "contract-review", "--threshold", "0.9953")
	for _, want := range []string{"2 documents it did not train on (0 it did, left out); 0 counted for the error rates", "4 reviewed documents whose review is not due yet (decided or still open) left out", "0.9953 *", "TO A PERSON", "UPPER 95%", "n/a"} {
		if !strings.Contains(out, want) {
			t.Fatalf("policy simulate lacks %q:\n%s", want, out)
		}
	}
	// Two reviewed documents are far too few to certify on, and neither
	// counts before its review is due (review_due, a day here): the
	// refusal says so, and how many a clean record needs; the command
	// exits 1.
	if out, err := cli("", "policy", "certify", "--type", "contract-review", "--error-budget", "0.05"); err == nil || !strings.Contains(out, "are left out until their review is due") || !strings.Contains(out, "it needs at least 65") {
		t.Fatalf("certify with two documents: %v\n%s", err, out)
	} else if code := err.(*exec.ExitError).ExitCode(); code != 1 {
		t.Fatalf("certify refused: exit code %d, want 1", code)
	}
	// A policy version by hand, in force without a restart, in stats.
	out = mustCLI("policy", "set", "--type", "contract-review", "--mode", "hotl", "--threshold", "0.9995", "--reason", "walk-through")
	if !strings.Contains(out, "policy version contract-review/v1 of contract-review in force") || !strings.Contains(out, "auto-accept at or above 0.9995") {
		t.Fatalf("policy set: %s", out)
	}
	if out := mustCLI("stats", "--type", "contract-review"); !strings.Contains(out, "+contract-review/v1, mode hotl: auto-accept at or above 0.9995") || !strings.Contains(out, "policy version contract-review/v1 in force since") {
		t.Fatalf("stats after policy set:\n%s", out)
	}
	if out := mustCLI("policy", "versions", "--type", "contract-review"); !strings.Contains(out, "contract-review/v1") || !strings.Contains(out, "walk-through") {
		t.Fatalf("policy versions:\n%s", out)
	}
	// tasktype validate needs no server.
	validate := func(path string) (string, error) {
		out, err := exec.Command(bin, "tasktype", "validate", path).CombinedOutput()
		return string(out), err
	}
	if out, err := validate(examples); err != nil || strings.Count(out, "ok ") != 5 || !strings.Contains(out, "contract-review") || !strings.Contains(out, "response-ranking") || !strings.Contains(out, "soc-webhook-triage") {
		t.Fatalf("tasktype validate examples: %v\n%s", err, out)
	}
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(broken, []byte("name: broken\nfields: {type: object, properties: {a: {type: string}}}\npolicy: {mode: hotl, auto_accept_threshold: 0.9, risk_rules: [{name: r, when: 'fields.a >'}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := validate(broken); err == nil || !strings.Contains(out, broken+": policy.risk_rules[0].when: ") {
		t.Fatalf("tasktype validate of a broken file: %v\n%s", err, out)
	} else if code := err.(*exec.ExitError).ExitCode(); code != 1 {
		t.Fatalf("tasktype validate exit code %d, want 1", code)
	}

	trail := mustCLI("audit", "show", reviews[1].DocumentID)
	for _, want := range []string{"document.received", "draft.created", "confidence.scored", "route.decided", "review.opened", "decision.recorded", "document.finalized", "cli"} {
		if !strings.Contains(trail, want) {
			t.Fatalf("audit show lacks %q:\n%s", want, trail)
		}
	}
	if out := mustCLI("audit", "verify"); !strings.HasPrefix(out, "audit chain OK: ") {
		t.Fatalf("audit verify: %s", out)
	}

	if out, err := cli("", "reviews", "--token", token); err != nil || !strings.Contains(out, reviews[2].ID) {
		t.Fatalf("reviews with the new reviewer token: %v\n%s", err, out)
	}
	if out, err := cli("", "audit", "verify", "--token", token); err == nil || !strings.Contains(out, "rita (role reviewer) may not verify the audit log") || !strings.Contains(out, "needs the approver, auditor or admin role") {
		t.Fatalf("a reviewer verifying the chain: %v %s", err, out)
	}
	if out, err := cli("", "calibrate", "--type", "contract-review", "--token", token); err == nil || !strings.Contains(out, "rita (role reviewer) may not") {
		t.Fatalf("a reviewer calibrating: %v %s", err, out)
	}
}
