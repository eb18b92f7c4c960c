package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/oversightbench"
)

// Config is a benchmark run's settings.
type Config struct {
	Seeds       []uint64  `json:"seeds"`
	Budgets     []float64 `json:"budgets"`
	Reviewed    int       `json:"reviewed"`
	ReviewStep  int       `json:"review_step"`
	MaxReviewed int       `json:"max_reviewed"`
	Heldout     int       `json:"heldout"`
	// Recertify is how many more documents run in hotl after a budget's
	// batch before it is certified again on the uniform sample; 0: not
	// certified again.
	Recertify int     `json:"recertify"`
	Level     float64 `json:"level"`
	// Horizon asks for batch certificates over that many accepted
	// documents (policy certify --horizon); 0: certificates of the rate.
	Horizon int    `json:"horizon,omitempty"`
	Wave    int    `json:"wave"`
	Workers int    `json:"workers"`
	JSON    string `json:"-"`
	Commit  string `json:"-"`
	DataDir string `json:"-"`
}

func defaultConfig() Config {
	return Config{Reviewed: 300, ReviewStep: 100, MaxReviewed: 900, Heldout: 500, Recertify: 1500, Level: 0.95, Wave: 25, Workers: 4, JSON: "oversight-bench.json"}
}

// heldoutBase numbers the held-out documents apart from the reviewed ones:
// budget b's batch is heldoutBase*(b+1) onwards, its documents in hotl
// before it is certified again heldoutBase*(b+11) onwards, and its batch
// after that heldoutBase*(b+21) onwards.
const heldoutBase = 1_000_000

// check says what in the settings would make two batches share documents.
func (c *Config) check() error {
	switch {
	case len(c.Budgets) > 9:
		return fmt.Errorf("-budgets: at most 9, not %d (the batches of a tenth would share documents with the next budget's)", len(c.Budgets))
	case c.Heldout < 1 || c.Heldout >= heldoutBase:
		return fmt.Errorf("-heldout must be between 1 and %d, not %d", heldoutBase-1, c.Heldout)
	case c.Recertify < 0 || c.Recertify >= heldoutBase:
		return fmt.Errorf("-recertify must be between 0 and %d, not %d", heldoutBase-1, c.Recertify)
	case c.MaxReviewed >= heldoutBase:
		return fmt.Errorf("-max-reviewed must be below %d, not %d", heldoutBase, c.MaxReviewed)
	}
	return nil
}

// seedRun is one seed's run: countersign in process, the fake model, the
// people, and what was measured.
type seedRun struct {
	cfg   *Config
	seed  uint64
	gen   oversightbench.Generator
	model *oversightbench.Model
	app   *app.App
	// submitter sends documents, reviewer decides reviews and audits,
	// approver calibrates, certifies and applies policies.
	submitter, reviewer, approver *apiclient.Client
	out                           *SeedReport
	reviewed                      []DocResult
	// unsupervisedNoted: the note that no supervisor watches was made.
	unsupervisedNoted bool
	// reviewedAt is when the last of reviewed was decided: a
	// certification counts it once its review is due (waitDue).
	reviewedAt time.Time
}

// runSeed runs one seed from a fresh countersign to its figures.
func runSeed(ctx context.Context, cfg *Config, seed uint64) (*SeedReport, error) {
	started := time.Now()
	s := &seedRun{cfg: cfg, seed: seed, gen: oversightbench.NewGenerator(seed), model: oversightbench.NewModel(seed, oversightbench.DefaultProfile())}
	s.out = &SeedReport{Seed: seed}
	defer func() { s.out.Duration = time.Since(started).Round(time.Second).String() }()
	stop, err := s.start(ctx)
	if err != nil {
		return s.out, err
	}
	defer stop()
	if err := s.run(ctx); err != nil {
		return s.out, err
	}
	return s.out, nil
}

// start starts the fake model and countersign (embedded Temporal, SQLite,
// worker and API) with the claim-notice task type, and makes the people.
func (s *seedRun) start(ctx context.Context) (stop func(), err error) {
	dir := filepath.Join(s.cfg.DataDir, fmt.Sprintf("seed-%d", s.seed))
	if s.cfg.DataDir == "" {
		if dir, err = os.MkdirTemp("", "oversightbench-*"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cleanup := func() {
		if s.cfg.DataDir == "" {
			os.RemoveAll(dir)
		}
	}
	types := filepath.Join(dir, "task-types")
	if err := os.MkdirAll(types, 0o700); err != nil {
		cleanup()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(types, oversightbench.TaskType+".yaml"), oversightbench.TaskTypeYAML, 0o600); err != nil {
		cleanup()
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "countersign.log"))
	if err != nil {
		cleanup()
		return nil, err
	}
	base := s.model.Start()
	cfg := config.Config{
		DataDir:           filepath.Join(dir, "data"),
		HTTPAddr:          "127.0.0.1:0",
		Namespace:         "default",
		TaskTypesDir:      types,
		OpenAIBaseURL:     base,
		OpenAIModel:       "fake-claims-1",
		ReconcileInterval: time.Minute,
		// Its reviews are due a minute after they open: the supervisor
		// counts an audit a few seconds after it opens, not five minutes.
		AuditSettle: 5 * time.Second,
	}
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	progress("seed %d: starting countersign (embedded Temporal, SQLite) in %s", s.seed, dir)
	a, err := app.Start(startCtx, cfg, app.Roles{Embedded: true, Worker: true, API: true}, slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		s.model.Close()
		logFile.Close()
		cleanup()
		return nil, fmt.Errorf("start countersign: %w", err)
	}
	stop = func() {
		a.Stop()
		s.model.Close()
		logFile.Close()
		cleanup()
	}
	if err := a.WaitReady(startCtx); err != nil {
		stop()
		return nil, err
	}
	s.app = a
	admin := apiclient.New(a.APIURL, a.AdminToken)
	for _, p := range []struct {
		client **apiclient.Client
		user   string
		role   countersign.Role
	}{{&s.submitter, "sam", countersign.RoleSubmitter}, {&s.reviewer, "rita", countersign.RoleReviewer}, {&s.approver, "anna", countersign.RoleApprover}} {
		tok, err := admin.CreateToken(ctx, p.user, p.role, 0)
		if err != nil {
			stop()
			return nil, fmt.Errorf("token for %s: %w", p.user, err)
		}
		*p.client = apiclient.New(a.APIURL, tok.Secret)
	}
	return stop, nil
}

// run is the story a user follows: everything reviewed, calibrate,
// certify, then each budget's certificate applied to new documents.
func (s *seedRun) run(ctx context.Context) error {
	if err := s.review(ctx, s.cfg.Reviewed); err != nil {
		return err
	}
	certs, err := s.certifyAll(ctx)
	if err != nil {
		return err
	}
	s.out.HITL = phaseFigures(s.reviewed, s.cfg.Budgets)

	// Budgets without a certificate stay in hitl: one batch, run first
	// (before any certificate is applied), stands for all of them.
	var hitl *BatchFigures
	for i, b := range s.cfg.Budgets {
		if certs[i] != nil {
			continue
		}
		if hitl == nil {
			docs, err := s.batch(ctx, fmt.Sprintf("held-out (hitl, no certificate at %s)", pct(b)), s.heldout(0))
			if err != nil {
				return err
			}
			hitl = batchFigures(docs, b, countersign.ModeHITL)
		}
		s.out.Budgets[i].Batch = hitl.at(b)
	}
	for i, b := range s.cfg.Budgets {
		if certs[i] == nil {
			continue
		}
		version, err := s.apply(ctx, i, certs[i])
		if err != nil {
			return err
		}
		s.out.Budgets[i].PolicyVersion = version
		applied := version != ""
		mode := countersign.ModeHITL
		if applied {
			mode = countersign.ModeHOTL
		}
		docs, err := s.batch(ctx, fmt.Sprintf("held-out at %s (%s, threshold %.4f)", pct(b), mode, certs[i].Threshold), s.heldout(i+1))
		if err != nil {
			return err
		}
		s.out.Budgets[i].Batch = batchFigures(docs, b, mode)
		if s.out.Budgets[i].Supervision, err = s.supervision(ctx, b); err != nil {
			return err
		}
		if applied && s.cfg.Recertify > 0 {
			if err := s.recertify(ctx, i, certs[i]); err != nil {
				return err
			}
		}
	}
	if n := s.model.Unknown(); n > 0 {
		s.note("the fake model was asked about %d documents it was not given", n)
	}
	return nil
}

func (s *seedRun) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.out.Notes = append(s.out.Notes, msg)
	progress("seed %d: %s", s.seed, msg)
}

// review runs documents through hitl until n have been reviewed.
func (s *seedRun) review(ctx context.Context, n int) error {
	var notices []*oversightbench.Notice
	for i := len(s.reviewed); i < n; i++ {
		notices = append(notices, s.gen.Notice(i))
	}
	docs, err := s.batch(ctx, "hitl", notices)
	s.reviewed = append(s.reviewed, docs...)
	s.reviewedAt = time.Now()
	return err
}

// heldout is batch k's new documents.
func (s *seedRun) heldout(k int) []*oversightbench.Notice {
	return s.notices(heldoutBase*(k+1), s.cfg.Heldout)
}

// notices are n new documents numbered from first on.
func (s *seedRun) notices(first, n int) []*oversightbench.Notice {
	out := make([]*oversightbench.Notice, n)
	for i := range out {
		out[i] = s.gen.Notice(first + i)
	}
	return out
}

// DocResult is one document's way through countersign, and the truth.
type DocResult struct {
	Index      int                 `json:"index"`
	ID         string              `json:"id"`
	Status     countersign.Status  `json:"status"`
	Outcome    countersign.Outcome `json:"outcome"`
	Confidence float64             `json:"confidence"`
	// Wrong says the draft was not the truth (or the document was to be
	// rejected); WrongFields names the fields.
	Wrong       bool     `json:"wrong"`
	WrongFields []string `json:"wrong_fields,omitempty"`
	// Errors are the fake model's planned errors by field.
	Errors map[string]oversightbench.ErrorKind `json:"planned_errors,omitempty"`
	// Causes say why each wrong field was wrong: the planned error (with
	// "confident" when the model was as sure as of a right value), "sample
	// vote" when the other samples outvoted a right first answer, or "not a
	// claim notice".
	Causes []string `json:"causes,omitempty"`
	// Reviewed: a person decided it before its outcome; Audited: an audit
	// was drawn; AuditCorrected: the audit corrected it.
	Reviewed       bool `json:"reviewed"`
	Audited        bool `json:"audited"`
	AuditCorrected bool `json:"audit_corrected,omitempty"`
	// FinalRight says the outcome that counts in the end is the truth.
	FinalRight    bool   `json:"final_right"`
	PolicyVersion string `json:"policy_version,omitempty"`
	Calibration   string `json:"calibration,omitempty"`
}

// AutoAccepted reports whether no person saw the document before its
// outcome counted.
func (d DocResult) AutoAccepted() bool {
	return d.Outcome == countersign.OutcomeAutoAccept || d.Outcome == countersign.OutcomeAutoAcceptWithAudit
}

// batch runs notices through countersign in waves: each wave is submitted,
// then the oracle decides its reviews and audits until every document of it
// is final and audited where drawn, so the supervisor sees audits as they
// come, as it would in production.
func (s *seedRun) batch(ctx context.Context, label string, notices []*oversightbench.Notice) ([]DocResult, error) {
	started := time.Now()
	out := make([]DocResult, 0, len(notices))
	for from := 0; from < len(notices); from += s.cfg.Wave {
		wave := notices[from:min(from+s.cfg.Wave, len(notices))]
		docs, err := s.wave(ctx, wave)
		out = append(out, docs...)
		if err != nil {
			return out, fmt.Errorf("%s: %w", label, err)
		}
		toPeople, auto := 0, 0
		for _, d := range out {
			if d.AutoAccepted() {
				auto++
			} else {
				toPeople++
			}
		}
		progress("seed %d: %s %d/%d documents, %d to people, %d auto-accepted (%s)", s.seed, label, len(out), len(notices), toPeople, auto, time.Since(started).Round(time.Second))
	}
	return out, nil
}

// waveTimeout is how long a wave may take before the run gives up on it.
const waveTimeout = 10 * time.Minute

func (s *seedRun) wave(ctx context.Context, notices []*oversightbench.Notice) ([]DocResult, error) {
	ctx, cancel := context.WithTimeout(ctx, waveTimeout)
	defer cancel()
	s.model.Add(notices...)
	ids := make([]string, len(notices))
	err := parallel(s.cfg.Workers, len(notices), func(i int) error {
		n := notices[i]
		resp, err := s.submitter.Submit(ctx, api.SubmitRequest{TaskType: oversightbench.TaskType, ExternalID: n.ExternalID, Content: n.Text})
		if err != nil {
			return fmt.Errorf("submit %s: %w", n.ExternalID, err)
		}
		ids[i] = resp.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	byID := map[string]*oversightbench.Notice{}
	for i, id := range ids {
		byID[id] = notices[i]
	}
	var mu sync.Mutex
	decided := map[string]bool{}     // review IDs the oracle decided
	cannotAudit := map[string]bool{} // documents whose audit the oracle cannot decide
	results := map[string]DocResult{}
	for len(results) < len(ids) {
		reviews, err := s.pendingReviews(ctx)
		if err != nil {
			return nil, err
		}
		var todo []countersign.Review
		for _, r := range reviews {
			if byID[r.DocumentID] != nil && !decided[r.ID] {
				todo = append(todo, r)
			}
		}
		err = parallel(s.cfg.Workers, len(todo), func(i int) error {
			r := todo[i]
			undecidable, err := s.decide(ctx, r, byID[r.DocumentID])
			mu.Lock()
			defer mu.Unlock()
			decided[r.ID] = true
			if undecidable {
				cannotAudit[r.DocumentID] = true
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		var open []string
		for _, id := range ids {
			if _, done := results[id]; !done {
				open = append(open, id)
			}
		}
		var settled []DocResult
		err = parallel(s.cfg.Workers, len(open), func(i int) error {
			doc, err := s.approver.Document(ctx, open[i])
			if err != nil {
				return fmt.Errorf("document %s: %w", open[i], err)
			}
			mu.Lock()
			defer mu.Unlock()
			if r, ok := s.settled(doc, byID[doc.ID], cannotAudit[doc.ID]); ok {
				settled = append(settled, r)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, r := range settled {
			results[r.ID] = r
		}
		if len(todo) == 0 && len(settled) == 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%d of %d documents of the wave still not final and audited: %w", len(ids)-len(results), len(ids), ctx.Err())
			case <-time.After(150 * time.Millisecond):
			}
		}
	}
	out := make([]DocResult, 0, len(ids))
	for _, id := range ids {
		out = append(out, results[id])
	}
	return out, nil
}

// pendingReviews lists every pending review and audit of the task type.
func (s *seedRun) pendingReviews(ctx context.Context) ([]countersign.Review, error) {
	var out []countersign.Review
	q := apiclient.ReviewQuery{Status: "pending", TaskType: oversightbench.TaskType, Limit: 200}
	for {
		page, err := s.reviewer.Reviews(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("pending reviews: %w", err)
		}
		out = append(out, page.Reviews...)
		if page.NextCursor == "" {
			return out, nil
		}
		q.Cursor = page.NextCursor
	}
}

// decide has the oracle decide a review or audit as a person would,
// looking at the document through the API. It reports an audit of a
// document that should have been rejected, which no audit decision fits:
// that audit stays open.
func (s *seedRun) decide(ctx context.Context, r countersign.Review, n *oversightbench.Notice) (undecidable bool, err error) {
	doc, err := s.reviewer.Document(ctx, r.DocumentID)
	if err != nil {
		return false, fmt.Errorf("document %s of review %s: %w", r.DocumentID, r.ID, err)
	}
	var fields countersign.Fields
	switch {
	case r.Kind == countersign.ReviewAudit && doc.Final != nil:
		fields = doc.Final.Fields
	case doc.Draft != nil:
		fields = doc.Draft.Fields
	}
	d, err := oversightbench.Decide(n, fields, r.Kind)
	if errors.Is(err, oversightbench.ErrCannotAudit) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	_, err = s.reviewer.DecideOnce(ctx, r.ID, "oracle-"+r.ID, api.DecisionRequest{Action: d.Action, Fields: d.Fields, Reason: d.Reason})
	var apiErr *apiclient.Error
	if errors.As(err, &apiErr) && apiErr.Status == 409 {
		return false, nil // closed meanwhile (a timeout, an abandoned review): nothing to decide
	}
	if err != nil {
		return false, fmt.Errorf("decide %s review %s (%s): %w", r.Kind, r.ID, d.Action, err)
	}
	return false, nil
}

// settled reports whether a document is done with — final, and audited
// when an audit was drawn — and what happened to it.
func (s *seedRun) settled(doc *api.DocumentView, n *oversightbench.Notice, cannotAudit bool) (DocResult, bool) {
	if !doc.Status.Final() {
		return DocResult{}, false
	}
	r := DocResult{Index: n.Index, ID: doc.ID, Status: doc.Status}
	if doc.Route != nil {
		r.Outcome, r.PolicyVersion, r.Calibration = doc.Route.Outcome, doc.Route.PolicyVersion, doc.Route.Calibration
	}
	if r.Outcome == countersign.OutcomeAutoAcceptWithAudit && (doc.Final == nil || doc.Final.AuditedBy == "") && !cannotAudit {
		return DocResult{}, false
	}
	if doc.Confidence != nil {
		r.Confidence = doc.Confidence.Overall
	}
	var draft countersign.Fields
	if doc.Draft != nil {
		draft = doc.Draft.Fields
	}
	r.Wrong = !oversightbench.Right(n, draft)
	if n.Reject == "" {
		r.WrongFields = oversightbench.WrongFields(n, draft)
	}
	plan := map[string]oversightbench.FieldPlan{}
	for _, fp := range s.model.Plan(n) {
		plan[fp.Field] = fp
		if fp.Error != "" {
			if r.Errors == nil {
				r.Errors = map[string]oversightbench.ErrorKind{}
			}
			r.Errors[fp.Field] = fp.Error
		}
	}
	if n.Reject != "" {
		r.Causes = []string{"not a claim notice"}
	}
	for _, f := range r.WrongFields {
		fp := plan[f]
		cause := string(fp.Error)
		switch {
		case fp.Error == "":
			cause = "sample vote"
		case fp.Confident:
			cause = "confident " + cause
		}
		r.Causes = append(r.Causes, cause)
	}
	r.Reviewed = !r.AutoAccepted()
	r.Audited = r.Outcome == countersign.OutcomeAutoAcceptWithAudit
	if doc.Final != nil {
		r.AuditCorrected = doc.Final.CorrectedAfterAudit
		switch doc.Status {
		case countersign.StatusAccepted:
			r.FinalRight = oversightbench.Right(n, doc.Final.Fields)
		case countersign.StatusRejected:
			r.FinalRight = n.Reject != ""
		}
	}
	return r, true
}

// parallel runs f(0..n-1) on up to workers goroutines and returns the
// first error.
func parallel(workers, n int, f func(i int) error) error {
	if n == 0 {
		return nil
	}
	next := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}
