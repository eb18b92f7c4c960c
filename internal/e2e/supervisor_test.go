package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/worker"
	"github.com/countersign/countersign/workflows"
)

// supervisedPolicy supervises with Wilson at a 10% budget: 25 clean audits
// are the fewest that can meet it, so 30 clean ones at confidence 0.97 meet
// it, and escaped ones at 0.91 soon breach it; the threshold then rises to
// 0.92, where the clean audits still meet it.
const supervisedPolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.9
  review_due: 24h
  audit_sample_rate: 0.1
  supervision:
    error_budget: 0.1
    level: 0.95
    bound: wilson
    on_breach: raise_threshold
`

// certifiedPolicy supervises with the confidence sequence at a 5% budget,
// from the certificates the test applies.
const certifiedPolicy = `policy:
  mode: hotl
  auto_accept_threshold: 0.8
  review_due: 24h
  audit_sample_rate: 0.1
  supervision:
    error_budget: 0.05
    level: 0.95
    bound: confidence-sequence
    on_breach: raise_threshold
`

// TestSupervisorHistories runs the supervisor workflow on the embedded
// Temporal server through the shapes of its life: audits read from the
// store in the order drawn and judged, among forged reports that only wake
// it, a tightening, an approver's reset through the API; a window that
// starts from the certificate of the policy in force, audits that refute
// it, a second certificate applied, a reset, and an audit of the first
// certificate's version passed; and a run long enough to continue as new. The audits are real: each audited
// document is stored with its closed audit review and decision, as the
// review workflow leaves it, and reported as the review workflow reports
// it. With make histories, each run is recorded for the replay tests.
func TestSupervisorHistories(t *testing.T) {
	const taskType, certified, long = "pii-extraction", "pii-certified", "pii-long"
	dir := piiWithPolicy(t, supervisedPolicy)
	addRenamedPII(t, dir, certified, certifiedPolicy)
	addRenamedPII(t, dir, long, strings.Replace(supervisedPolicy, "error_budget: 0.1", "error_budget: 0.5", 1))
	a := startAppWith(t, config.Config{TaskTypesDir: dir, ReconcileInterval: time.Hour},
		app.Roles{Embedded: true, Worker: true, API: true})
	ctx := context.Background()
	u := newUsers(t, a)
	report := func(o countersign.AuditOutcome) {
		t.Helper()
		if err := (worker.Supervisors{Client: a.Temporal}).Report(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	state := func(taskType string) workflows.Supervision {
		t.Helper()
		v, err := a.Temporal.QueryWorkflow(ctx, workflows.SupervisorWorkflowID(taskType), "", workflows.SupervisionQuery)
		if err != nil {
			t.Fatal(err)
		}
		var s workflows.Supervision
		if err := v.Get(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// waitAudits waits for the supervisor to count n audits and pass
	// passed, an estimate judging them all.
	waitAudits := func(taskType string, n, passed int) workflows.Supervision {
		t.Helper()
		var s workflows.Supervision
		waitUntil(t, fmt.Sprintf("the supervisor of %s to count %d audits and pass %d", taskType, n, passed), func() (bool, string) {
			s = state(taskType)
			return s.All.Audits == n && s.Ignored == passed && len(s.Pending) == 0 && s.Estimate != nil && s.Estimate.Audits == s.Window.Total().Audits,
				fmt.Sprintf("%+v, ignored %d", s.All, s.Ignored)
		})
		return s
	}

	// The reconciler starts a supervisor for each supervised task type,
	// before any audit is decided: audits nobody decides count too.
	waitUntil(t, "the reconciler to start the supervisor of "+long, func() (bool, string) {
		resp, err := a.Temporal.DescribeWorkflowExecution(ctx, workflows.SupervisorWorkflowID(long), "")
		if err != nil {
			return false, err.Error()
		}
		status := resp.GetWorkflowExecutionInfo().GetStatus()
		return status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, status.String()
	})

	var firstAudit countersign.AuditOutcome
	audit := func(n int, confidence float64, escaped bool) {
		t.Helper()
		o := storeAudit(t, a.Store, taskType, fmt.Sprintf("audited-%04d", n), confidence, escaped, "")
		if n == 0 {
			firstAudit = o
		}
		report(o)
	}
	n := 0
	for ; n < 30; n++ {
		audit(n, 0.97, false)
		// Made-up clean audits of documents that do not exist.
		report(countersign.AuditOutcome{DocumentID: fmt.Sprintf("forged-%04d", n), TaskType: taskType, Confidence: 0.99, Auditor: "mallory"})
	}
	report(firstAudit) // a retried report counts once
	if s := waitAudits(taskType, 30, 0); !s.DrawOrder || s.Override != nil || s.Estimate.Breached {
		t.Fatalf("after 30 clean audits: %+v", s)
	}
	for ; n < 34; n++ {
		audit(n, 0.91, true)
	}
	s := waitAudits(taskType, 34, 0)
	if s.Override == nil || s.Override.Threshold != 0.92 {
		t.Fatalf("after 4 escaped audits of 34: override %+v, estimate %+v; want the threshold raised to 0.92", s.Override, s.Estimate)
	}
	if _, err := u.approver.ResetPolicy(ctx, taskType, "prompt fixed"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	for ; n < 36; n++ {
		audit(n, 0.95, false)
	}
	if s := waitAudits(taskType, 36, 0); s.Override != nil || s.Window.Total().Audits != 2 {
		t.Fatalf("after the reset and 2 more audits: %+v", s)
	}
	// An audit nobody decides holds back the one drawn after it, decided
	// and reported, until it is due (in 3 seconds here): then both count,
	// the open one as escaped, with no report of it.
	storeOpenAudit(t, a.Store, taskType, fmt.Sprintf("audited-%04d", n), 0.95, false, "", 3*time.Second)
	n++
	audit(n, 0.95, false)
	n++
	waitUntil(t, "the supervisor to wait for the open audit", func() (bool, string) {
		s := state(taskType)
		if s.Waiting == "audited-0036" && s.All.Audits != 36 {
			t.Fatalf("with an audit open and one decided after it: counted %+v; want 36, the decided one held back", s.All)
		}
		return s.Waiting == "audited-0036" || s.All.Audits > 36, fmt.Sprintf("%+v, waiting for %q", s.All, s.Waiting)
	})
	if s := waitAudits(taskType, 38, 0); s.Overdue != 1 || s.All.Escaped != 5 || s.Window.Total().Audits != 4 {
		t.Fatalf("once the open audit was due: %+v; want it counted as escaped, and the one after it", s)
	}
	checkSupervisorHistory(t, a, "supervisor_tighten", workflows.SupervisorWorkflowID(taskType), "")

	// The policy in force of a second task type was applied from a
	// certificate: the window starts from its evidence, one audit in four
	// is wrong, and the audits refute it at the 28th.
	_, v1 := applyCertificate(t, a.Store, certified, 0.9, 400, 8)
	for i := range 28 {
		report(storeAudit(t, a.Store, certified, fmt.Sprintf("certified-%04d", i), 0.95, i%4 == 3, v1))
	}
	s = waitAudits(certified, 28, 0)
	if s.Override == nil || s.Estimate.Rule != quality.RuleRefute || s.Estimate.Start == nil || s.Estimate.Start.Audits != 400 {
		t.Fatalf("after 7 wrong audits of 28 from a certificate of 8 wrong in 400: override %+v, estimate %+v", s.Override, s.Estimate)
	}
	c2, v2 := applyCertificate(t, a.Store, certified, 0.95, 300, 3)
	if err := a.Temporal.SignalWorkflow(ctx, workflows.SupervisorWorkflowID(certified), "", workflows.PolicySignal, nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a new window from the second certificate", func() (bool, string) {
		s := state(certified)
		return s.Basis != nil && s.Basis.Certificate != nil && s.Basis.Certificate.ID == c2 && s.Window.Total().Audits == 0, fmt.Sprintf("%+v", s.Basis)
	})
	if _, err := u.approver.ResetPolicy(ctx, certified, "prompt fixed"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	report(storeAudit(t, a.Store, certified, "certified-late", 0.95, false, v1))
	report(storeAudit(t, a.Store, certified, "certified-v2", 0.97, false, v2))
	if s := waitAudits(certified, 29, 1); s.Override != nil || s.Basis.Certificate.ID != c2 || s.Estimate.Start.Audits != 300 || s.Window.Total().Audits != 1 {
		t.Fatalf("after the reset and an audit of each version: %+v", s)
	}
	// A new audit rate through the API keeps the certificate and its
	// threshold, so the window goes on, now counting that version's
	// documents too; the API tells the supervisor.
	rate := 0.2
	set, err := u.approver.SetPolicy(ctx, api.PolicySetRequest{TaskType: certified, AuditSampleRate: &rate, Reason: "more audits"})
	if err != nil {
		t.Fatalf("policy set: %v", err)
	}
	v3 := set.PolicyVersion.ID
	waitUntil(t, "the supervisor to follow the new version", func() (bool, string) {
		s := state(certified)
		return s.Basis != nil && slices.Equal(s.Basis.Versions, []string{v2, v3}), fmt.Sprintf("%+v", s.Basis)
	})
	report(storeAudit(t, a.Store, certified, "certified-v3", 0.97, true, v3))
	if s := waitAudits(certified, 30, 1); s.Window.Total().Audits != 2 || s.Window.Total().Escaped != 1 || s.Basis.Certificate.ID != c2 {
		t.Fatalf("after an audit of the new version: %+v", s)
	}
	stats, err := u.auditor.Stats(ctx, certified)
	if err != nil {
		t.Fatal(err)
	}
	if sup := stats.Supervision; sup.Basis == nil || sup.Basis.Certificate == nil || sup.Basis.Certificate.ID != c2 || sup.IgnoredReports != 1 || !sup.DrawOrder ||
		sup.Estimate == nil || sup.Estimate.Start == nil || sup.Estimate.Start.Audits != 300 || sup.Estimate.Rule != quality.RuleRefute {
		t.Fatalf("GET /v1/stats supervision = %+v; want the window from %s (300 certified), judged by refutation, in draw order, 1 audit of another version passed", sup, c2)
	}
	checkSupervisorHistory(t, a, "supervisor_certified", workflows.SupervisorWorkflowID(certified), "")

	// A third task type's supervisor runs long enough to continue as new.
	longID := workflows.SupervisorWorkflowID(long)
	// The run continues as new after its 500th audit, with whatever
	// arrived meanwhile; a few more go to the next run.
	const before, total = 505, 510
	longAudit := func(i int) {
		t.Helper()
		report(storeAudit(t, a.Store, long, fmt.Sprintf("long-%04d", i), 0.95, (i+1)%50 == 0, ""))
	}
	for i := range before {
		longAudit(i)
	}
	var first string
	waitUntil(t, "the long supervisor to continue as new", func() (bool, string) {
		resp, err := a.Temporal.DescribeWorkflowExecution(ctx, longID, "")
		if err != nil {
			t.Fatal(err)
		}
		info := resp.GetWorkflowExecutionInfo()
		first = info.GetFirstRunId()
		return first != "" && first != info.GetExecution().GetRunId(), info.GetStatus().String()
	})
	for i := before; i < total; i++ {
		longAudit(i)
	}
	if s := waitAudits(long, total, 0); s.Override != nil {
		t.Fatalf("the long supervisor tightened: %+v", s.Override)
	}
	checkSupervisorHistory(t, a, "supervisor_continued", longID, first)
	checkSupervisorHistory(t, a, "supervisor_continuing", longID, "")
}

// applyCertificate stores a certificate of taskType at threshold (budget
// 5%, level 95%) of accepted documents, wrong of them, and puts a policy
// version applied from it in force; it returns both IDs.
func applyCertificate(t *testing.T, s countersign.Store, taskType string, threshold float64, accepted, wrong int) (string, string) {
	t.Helper()
	ctx := context.Background()
	c := &countersign.Certificate{TaskType: taskType, Budget: 0.05, Level: 0.95, Threshold: threshold, Accepted: accepted, Wrong: wrong,
		Documents: 2 * accepted, Since: time.Now().Add(-30 * 24 * time.Hour), Until: time.Now(), CreatedAt: time.Now(), CreatedBy: "anna"}
	if err := s.PutCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	previous := ""
	if v, err := s.PolicyInForce(ctx, taskType); err != nil {
		t.Fatal(err)
	} else if v != nil {
		previous = v.ID
	}
	v := &countersign.PolicyVersion{TaskType: taskType, Previous: previous, Mode: countersign.ModeHOTL, Threshold: &threshold,
		Certificate: c.ID, Reason: "certified", CreatedBy: "anna", CreatedAt: time.Now()}
	if err := s.PutPolicyVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	return c.ID, v.ID
}

// addRenamedPII adds to dir the pii-extraction example as task type name,
// with policy in place of its own.
func addRenamedPII(t *testing.T, dir, name, policy string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(piiWithPolicy(t, policy), "pii-extraction.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(raw), "name: pii-extraction\n", "name: "+name+"\n", 1)
	if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
}

// storeAudit stores an auto-accepted document of taskType, routed under
// the policy version policyVersion (empty: the task type's own), whose audit
// a reviewer has closed, approving it or, when escaped, correcting it, as
// the review workflow leaves it before it reports the outcome; and returns
// the outcome it reports.
func storeAudit(t *testing.T, s countersign.Store, taskType, id string, confidence float64, escaped bool, policyVersion string) countersign.AuditOutcome {
	t.Helper()
	o, d := storeOpenAudit(t, s, taskType, id, confidence, escaped, policyVersion, 24*time.Hour)
	if err := s.RecordDecision(context.Background(), d, true); err != nil {
		t.Fatal(err)
	}
	return o
}

// storeOpenAudit is storeAudit up to the audit review opened, due in due:
// the decision that would close it is returned, not recorded.
func storeOpenAudit(t *testing.T, s countersign.Store, taskType, id string, confidence float64, escaped bool, policyVersion string, due time.Duration) (countersign.AuditOutcome, *countersign.Decision) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	route := "e2e"
	if policyVersion != "" {
		route += "+" + policyVersion
	}
	fields := countersign.Fields{"email": "someone@example.com"}
	final := &countersign.Final{Fields: fields, Outcome: countersign.OutcomeAutoAcceptWithAudit, DecidedBy: countersign.SystemActor, DecidedAt: now, AuditedBy: "rita"}
	action := countersign.ActionApprove
	var correction countersign.Fields
	if escaped {
		action, correction = countersign.ActionCorrect, countersign.Fields{"email": "someone.else@example.com"}
		final.Fields, final.CorrectedAfterAudit = correction, true
	}
	doc := &countersign.Document{
		ID: id, TaskType: taskType, TaskTypeVersion: "e2e", Content: "audited " + id,
		ContentSHA256: countersign.ContentSHA256("audited " + id), Status: countersign.StatusAccepted,
		SubmittedBy: "sam", CreatedAt: now,
		Draft:      &countersign.Draft{Fields: fields, Extractor: "rules"},
		Confidence: &countersign.Confidence{Overall: confidence},
		Route:      &countersign.Route{Outcome: countersign.OutcomeAutoAcceptWithAudit, Mode: countersign.ModeHOTL, Threshold: 0.9, PolicyVersion: route},
		Final:      final,
	}
	if _, created, err := s.CreateDocument(ctx, doc); err != nil || !created {
		t.Fatalf("storing audited document %s: created %v, %v", id, created, err)
	}
	// A document is created as received; the rest comes as it goes.
	if err := s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Draft: doc.Draft, Confidence: doc.Confidence, Route: doc.Route, Final: final}); err != nil {
		t.Fatal(err)
	}
	review := &countersign.Review{
		ID: countersign.ReviewID(id, 1), DocumentID: id, TaskType: taskType, Kind: countersign.ReviewAudit,
		// Opened a little before it is stored: the supervisor waits a few
		// minutes for reviews opened moments ago
		// (activities.DefaultAuditSettle), which a test need not.
		Status: countersign.ReviewPending, CreatedAt: now.Add(-activities.DefaultAuditSettle - time.Minute), DueAt: now.Add(due), Confidence: confidence,
	}
	if err := s.OpenReview(ctx, review); err != nil {
		t.Fatal(err)
	}
	d := &countersign.Decision{ID: review.ID + "-d1", ReviewID: review.ID, DocumentID: id, Action: action, Fields: correction,
		Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: now}
	o := countersign.AuditOutcome{DocumentID: id, TaskType: taskType, Confidence: confidence, Threshold: 0.9, Escaped: escaped, Auditor: "rita", At: now}
	if escaped {
		o.Fields = []string{"email"}
	}
	return o, d
}

// checkSupervisorHistory replays a supervisor run's history, as it stands,
// against the current workflow code, and records it for the replay tests
// when asked to (make histories). An empty runID is the latest run, still
// open: a supervisor never ends on its own.
func checkSupervisorHistory(t *testing.T, a *app.App, name, workflowID, runID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := a.Temporal.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	history := &historypb.History{}
	for iter.HasNext() {
		event, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		history.Events = append(history.Events, event)
	}
	replayer := sdkworker.NewWorkflowReplayer()
	(&workflows.Workflows{}).Register(replayer)
	// Under its own workflow ID, which the supervisor checks.
	opts := sdkworker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: workflowID, RunID: runID}}
	if err := replayer.ReplayWorkflowHistoryWithOptions(sdklog.NewStructuredLogger(quietLogger()), history, opts); err != nil {
		t.Fatalf("replaying the %s run: %v", name, err)
	}
	if os.Getenv(recordEnv) == "" {
		return
	}
	raw, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(history)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "workflows", "testdata", "histories", name+".json")
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s (%d events)", path, len(history.Events))
}

// TestReconcilerReplacesWhatIsNoSupervisor: anyone who can start workflows
// can take a supervisor's workflow ID with a run that never supervises (a
// start delayed by a day, a workflow type no worker runs, another task
// queue), which would keep the reconciler from starting the supervisor for
// good. Each is terminated and a supervisor started in its place, on the
// real Temporal server; a supervisor it started itself is left alone.
func TestReconcilerReplacesWhatIsNoSupervisor(t *testing.T) {
	const taskType = "pii-extraction"
	a := startAppWith(t, config.Config{TaskTypesDir: piiWithPolicy(t, supervisedPolicy), ReconcileInterval: time.Hour},
		app.Roles{Embedded: true, Worker: true})
	ctx := context.Background()
	d := &dispatch.Dispatcher{Temporal: a.Temporal, Store: a.Store, TaskTypes: a.TaskTypes}
	id := workflows.SupervisorWorkflowID(taskType)
	supervising := func(what string) string {
		t.Helper()
		var run string
		waitUntil(t, "a supervisor of "+taskType+" "+what, func() (bool, string) {
			desc, err := a.Temporal.DescribeWorkflowExecution(ctx, id, "")
			if err != nil {
				return false, err.Error()
			}
			info := desc.GetWorkflowExecutionInfo()
			run = info.GetExecution().GetRunId()
			return info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && info.GetType().GetName() == workflows.SupervisorWorkflowType &&
				!info.GetExecutionTime().AsTime().After(time.Now().Add(time.Minute)), fmt.Sprintf("%s %s at %v", info.GetType().GetName(), info.GetStatus(), info.GetExecutionTime().AsTime())
		})
		return run
	}
	first := supervising("started by the reconciler")
	if started, replaced, err := d.EnsureSupervisors(ctx); err != nil || started != 0 || len(replaced) != 0 {
		t.Fatalf("with the supervisor running: started %d, replaced %v, %v; want nothing done", started, replaced, err)
	}
	// A start with a made-up state ends at once, refused (recorded for the
	// replay tests as supervisor_untrusted); the reconciler then starts the
	// supervisor again.
	var clean quality.Histogram
	for range 1000 {
		clean.Add(0.95, false)
	}
	forged, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING},
		workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: taskType, State: &workflows.Supervision{TaskType: taskType, Window: clean, All: quality.Tally{Audits: 1000}, Loaded: true, Lineage: "mallory"}})
	if err != nil {
		t.Fatal(err)
	}
	var appErr *temporal.ApplicationError
	if err := forged.Get(ctx, nil); !errors.As(err, &appErr) || appErr.Type() != activities.ErrUntrustedStart {
		t.Fatalf("a start with a made-up state: %v, want it refused as %s", err, activities.ErrUntrustedStart)
	}
	checkSupervisorHistory(t, a, "supervisor_untrusted", id, forged.GetRunID())
	if started, replaced, err := d.EnsureSupervisors(ctx); err != nil || started != 1 || len(replaced) != 0 {
		t.Fatalf("after the refused start: started %d, replaced %v, %v; want the supervisor started", started, replaced, err)
	}
	first = supervising("started again after the refused start")
	for _, impostor := range []struct {
		name string
		opts client.StartWorkflowOptions
		typ  string
		why  string
	}{
		{"a start delayed by a day", client.StartWorkflowOptions{StartDelay: 24 * time.Hour}, workflows.SupervisorWorkflowType, "its first workflow task waits until"},
		{"a workflow type no worker runs", client.StartWorkflowOptions{}, "NoSuchWorkflow", `a workflow of type "NoSuchWorkflow"`},
		{"another task queue", client.StartWorkflowOptions{TaskQueue: "nobody-polls-this"}, workflows.SupervisorWorkflowType, `task queue "nobody-polls-this"`},
		{"a run timeout", client.StartWorkflowOptions{WorkflowRunTimeout: time.Hour}, workflows.SupervisorWorkflowType, "run timeout of 1h0m0s"},
	} {
		opts := impostor.opts
		opts.ID, opts.WorkflowIDConflictPolicy = id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
		if opts.TaskQueue == "" {
			opts.TaskQueue = workflows.TaskQueue
		}
		run, err := a.Temporal.ExecuteWorkflow(ctx, opts, impostor.typ, workflows.SupervisorInput{TaskType: taskType})
		if err != nil {
			t.Fatalf("%s: %v", impostor.name, err)
		}
		started, replaced, err := d.EnsureSupervisors(ctx)
		if err != nil || started != 1 || len(replaced) != 1 || !strings.Contains(replaced[0], run.GetRunID()) || !strings.Contains(replaced[0], impostor.why) {
			t.Fatalf("%s: started %d, replaced %v, %v; want it replaced, saying %q", impostor.name, started, replaced, err, impostor.why)
		}
		if again := supervising("in place of " + impostor.name); again == first || again == run.GetRunID() {
			t.Fatalf("%s: run %s holds the ID", impostor.name, again)
		}
	}
}
