package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/countersign/countersign"
)

// Database systems, as db.system.name names them.
const (
	DBSQLite   = "sqlite"
	DBPostgres = "postgresql"
)

// TraceStore wraps s so that each call is a client span named after the
// method ("store.GetDocument"), with the database system and the operation.
// Arguments and results are not recorded: they hold document text. Methods
// the wrapper does not know yet pass through untraced. A nil Telemetry
// returns s as it is.
func (t *Telemetry) TraceStore(s countersign.Store, system string) countersign.Store {
	if t == nil {
		return s
	}
	return &tracedStore{Store: s, tracer: t.Tracer(), system: attribute.String("db.system.name", system)}
}

type tracedStore struct {
	countersign.Store
	tracer trace.Tracer
	system attribute.KeyValue
}

func (s *tracedStore) start(ctx context.Context, op string) (context.Context, trace.Span) {
	return s.tracer.Start(ctx, "store."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.system, attribute.String("db.operation.name", op)))
}

// end ends span with err's code. A lookup that finds nothing is an answer,
// not a failure of the store.
func end(span trace.Span, err error) {
	if err != nil {
		code := countersign.ErrorCode(err)
		span.SetAttributes(attribute.String("error.type", string(code)))
		if code != countersign.CodeNotFound {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}

func (s *tracedStore) CreateDocument(ctx context.Context, doc *countersign.Document) (*countersign.Document, bool, error) {
	ctx, span := s.start(ctx, "CreateDocument")
	stored, created, err := s.Store.CreateDocument(ctx, doc)
	end(span, err)
	return stored, created, err
}

func (s *tracedStore) GetDocument(ctx context.Context, id string) (*countersign.Document, error) {
	ctx, span := s.start(ctx, "GetDocument")
	doc, err := s.Store.GetDocument(ctx, id)
	end(span, err)
	return doc, err
}

func (s *tracedStore) PutOriginal(ctx context.Context, o *countersign.Original) error {
	ctx, span := s.start(ctx, "PutOriginal")
	err := s.Store.PutOriginal(ctx, o)
	end(span, err)
	return err
}

func (s *tracedStore) GetOriginal(ctx context.Context, sha256 string, data bool) (*countersign.Original, error) {
	ctx, span := s.start(ctx, "GetOriginal")
	o, err := s.Store.GetOriginal(ctx, sha256, data)
	end(span, err)
	return o, err
}

func (s *tracedStore) UpdateDocument(ctx context.Context, id string, u countersign.DocumentUpdate) error {
	ctx, span := s.start(ctx, "UpdateDocument")
	err := s.Store.UpdateDocument(ctx, id, u)
	end(span, err)
	return err
}

func (s *tracedStore) MarkDelivered(ctx context.Context, id string, at time.Time) (*countersign.Document, error) {
	ctx, span := s.start(ctx, "MarkDelivered")
	doc, err := s.Store.MarkDelivered(ctx, id, at)
	end(span, err)
	return doc, err
}

func (s *tracedStore) DocumentLabels(ctx context.Context, ids []string) (map[string]countersign.DocumentLabel, error) {
	ctx, span := s.start(ctx, "DocumentLabels")
	labels, err := s.Store.DocumentLabels(ctx, ids)
	end(span, err)
	return labels, err
}

func (s *tracedStore) ScanDocuments(ctx context.Context, f countersign.DocumentFilter, fn func(*countersign.Document) error) error {
	ctx, span := s.start(ctx, "ScanDocuments")
	err := s.Store.ScanDocuments(ctx, f, fn)
	end(span, err)
	return err
}

func (s *tracedStore) OpenReview(ctx context.Context, r *countersign.Review) error {
	ctx, span := s.start(ctx, "OpenReview")
	err := s.Store.OpenReview(ctx, r)
	end(span, err)
	return err
}

func (s *tracedStore) GetReview(ctx context.Context, id string) (*countersign.Review, error) {
	ctx, span := s.start(ctx, "GetReview")
	r, err := s.Store.GetReview(ctx, id)
	end(span, err)
	return r, err
}

func (s *tracedStore) ListReviews(ctx context.Context, f countersign.ReviewFilter) (countersign.ReviewPage, error) {
	ctx, span := s.start(ctx, "ListReviews")
	page, err := s.Store.ListReviews(ctx, f)
	end(span, err)
	return page, err
}

func (s *tracedStore) ReviewsForDocument(ctx context.Context, documentID string) ([]countersign.Review, error) {
	ctx, span := s.start(ctx, "ReviewsForDocument")
	reviews, err := s.Store.ReviewsForDocument(ctx, documentID)
	end(span, err)
	return reviews, err
}

func (s *tracedStore) RecordDecision(ctx context.Context, d *countersign.Decision, close bool) error {
	ctx, span := s.start(ctx, "RecordDecision")
	err := s.Store.RecordDecision(ctx, d, close)
	end(span, err)
	return err
}

func (s *tracedStore) Decisions(ctx context.Context, documentID string) ([]countersign.Decision, error) {
	ctx, span := s.start(ctx, "Decisions")
	decisions, err := s.Store.Decisions(ctx, documentID)
	end(span, err)
	return decisions, err
}

func (s *tracedStore) CloseReviews(ctx context.Context, documentID string, at time.Time, closedBy string) error {
	ctx, span := s.start(ctx, "CloseReviews")
	err := s.Store.CloseReviews(ctx, documentID, at, closedBy)
	end(span, err)
	return err
}

func (s *tracedStore) ClaimReview(ctx context.Context, c countersign.Claim) (*countersign.Review, error) {
	ctx, span := s.start(ctx, "ClaimReview")
	r, err := s.Store.ClaimReview(ctx, c)
	end(span, err)
	return r, err
}

func (s *tracedStore) ReleaseClaim(ctx context.Context, reviewID, holder string) (*countersign.Review, error) {
	ctx, span := s.start(ctx, "ReleaseClaim")
	r, err := s.Store.ReleaseClaim(ctx, reviewID, holder)
	end(span, err)
	return r, err
}

func (s *tracedStore) ClaimCandidates(ctx context.Context, f countersign.ReviewFilter, person string, now time.Time) ([]countersign.Review, error) {
	ctx, span := s.start(ctx, "ClaimCandidates")
	reviews, err := s.Store.ClaimCandidates(ctx, f, person, now)
	end(span, err)
	return reviews, err
}

func (s *tracedStore) LapsedClaims(ctx context.Context, now time.Time, limit int) ([]countersign.Review, error) {
	ctx, span := s.start(ctx, "LapsedClaims")
	reviews, err := s.Store.LapsedClaims(ctx, now, limit)
	end(span, err)
	return reviews, err
}

func (s *tracedStore) EndClaim(ctx context.Context, reviewID, holder string, until time.Time) (bool, error) {
	ctx, span := s.start(ctx, "EndClaim")
	ended, err := s.Store.EndClaim(ctx, reviewID, holder, until)
	end(span, err)
	return ended, err
}

func (s *tracedStore) AssignReview(ctx context.Context, a countersign.Assign) (*countersign.Review, error) {
	ctx, span := s.start(ctx, "AssignReview")
	r, err := s.Store.AssignReview(ctx, a)
	end(span, err)
	return r, err
}

func (s *tracedStore) AssignmentTurn(ctx context.Context, key string) (int64, error) {
	ctx, span := s.start(ctx, "AssignmentTurn")
	turn, err := s.Store.AssignmentTurn(ctx, key)
	end(span, err)
	return turn, err
}

func (s *tracedStore) AssignedLoad(ctx context.Context, people []string) (map[string]int, error) {
	ctx, span := s.start(ctx, "AssignedLoad")
	load, err := s.Store.AssignedLoad(ctx, people)
	end(span, err)
	return load, err
}

func (s *tracedStore) AppendAudit(ctx context.Context, e countersign.AuditEvent) (countersign.AuditEvent, error) {
	ctx, span := s.start(ctx, "AppendAudit")
	stored, err := s.Store.AppendAudit(ctx, e)
	end(span, err)
	return stored, err
}

func (s *tracedStore) DocumentAudit(ctx context.Context, documentID string) ([]countersign.AuditEvent, error) {
	ctx, span := s.start(ctx, "DocumentAudit")
	events, err := s.Store.DocumentAudit(ctx, documentID)
	end(span, err)
	return events, err
}

func (s *tracedStore) ScanAudit(ctx context.Context, after int64, fn func(countersign.AuditEvent) error) error {
	ctx, span := s.start(ctx, "ScanAudit")
	err := s.Store.ScanAudit(ctx, after, fn)
	end(span, err)
	return err
}

func (s *tracedStore) PutTaskType(ctx context.Context, snap countersign.TaskTypeSnapshot) error {
	ctx, span := s.start(ctx, "PutTaskType")
	err := s.Store.PutTaskType(ctx, snap)
	end(span, err)
	return err
}

func (s *tracedStore) GetTaskType(ctx context.Context, version string) (*countersign.TaskTypeSnapshot, error) {
	ctx, span := s.start(ctx, "GetTaskType")
	snap, err := s.Store.GetTaskType(ctx, version)
	end(span, err)
	return snap, err
}

func (s *tracedStore) CreateToken(ctx context.Context, tok *countersign.Token) error {
	ctx, span := s.start(ctx, "CreateToken")
	err := s.Store.CreateToken(ctx, tok)
	end(span, err)
	return err
}

func (s *tracedStore) TokenByHash(ctx context.Context, hash string) (*countersign.Token, error) {
	ctx, span := s.start(ctx, "TokenByHash")
	tok, err := s.Store.TokenByHash(ctx, hash)
	end(span, err)
	return tok, err
}

func (s *tracedStore) CountTokens(ctx context.Context) (int, error) {
	ctx, span := s.start(ctx, "CountTokens")
	n, err := s.Store.CountTokens(ctx)
	end(span, err)
	return n, err
}

func (s *tracedStore) PutCalibration(ctx context.Context, c *countersign.Calibration) error {
	ctx, span := s.start(ctx, "PutCalibration")
	err := s.Store.PutCalibration(ctx, c)
	end(span, err)
	return err
}

func (s *tracedStore) LatestCalibration(ctx context.Context, taskType string) (*countersign.Calibration, error) {
	ctx, span := s.start(ctx, "LatestCalibration")
	c, err := s.Store.LatestCalibration(ctx, taskType)
	end(span, err)
	return c, err
}

func (s *tracedStore) ActiveCalibration(ctx context.Context, taskType string) (*countersign.Calibration, error) {
	ctx, span := s.start(ctx, "ActiveCalibration")
	c, err := s.Store.ActiveCalibration(ctx, taskType)
	end(span, err)
	return c, err
}

func (s *tracedStore) PutOverride(ctx context.Context, o *countersign.PolicyOverride) error {
	ctx, span := s.start(ctx, "PutOverride")
	err := s.Store.PutOverride(ctx, o)
	end(span, err)
	return err
}

func (s *tracedStore) ActiveOverride(ctx context.Context, taskType string) (*countersign.PolicyOverride, error) {
	ctx, span := s.start(ctx, "ActiveOverride")
	o, err := s.Store.ActiveOverride(ctx, taskType)
	end(span, err)
	return o, err
}

func (s *tracedStore) PutCertificate(ctx context.Context, c *countersign.Certificate) error {
	ctx, span := s.start(ctx, "PutCertificate")
	err := s.Store.PutCertificate(ctx, c)
	end(span, err)
	return err
}

func (s *tracedStore) Certificate(ctx context.Context, id string) (*countersign.Certificate, error) {
	ctx, span := s.start(ctx, "Certificate")
	c, err := s.Store.Certificate(ctx, id)
	end(span, err)
	return c, err
}

func (s *tracedStore) Certificates(ctx context.Context, taskType string) ([]countersign.Certificate, error) {
	ctx, span := s.start(ctx, "Certificates")
	list, err := s.Store.Certificates(ctx, taskType)
	end(span, err)
	return list, err
}

func (s *tracedStore) PutPolicyVersion(ctx context.Context, v *countersign.PolicyVersion) error {
	ctx, span := s.start(ctx, "PutPolicyVersion")
	err := s.Store.PutPolicyVersion(ctx, v)
	end(span, err)
	return err
}

func (s *tracedStore) PolicyVersion(ctx context.Context, id string) (*countersign.PolicyVersion, error) {
	ctx, span := s.start(ctx, "PolicyVersion")
	v, err := s.Store.PolicyVersion(ctx, id)
	end(span, err)
	return v, err
}

func (s *tracedStore) PolicyInForce(ctx context.Context, taskType string) (*countersign.PolicyVersion, error) {
	ctx, span := s.start(ctx, "PolicyInForce")
	v, err := s.Store.PolicyInForce(ctx, taskType)
	end(span, err)
	return v, err
}

func (s *tracedStore) PolicyVersions(ctx context.Context, taskType string) ([]countersign.PolicyVersion, error) {
	ctx, span := s.start(ctx, "PolicyVersions")
	list, err := s.Store.PolicyVersions(ctx, taskType)
	end(span, err)
	return list, err
}

func (s *tracedStore) ResetOverride(ctx context.Context, id, by, reason string, at time.Time) (*countersign.PolicyOverride, error) {
	ctx, span := s.start(ctx, "ResetOverride")
	o, err := s.Store.ResetOverride(ctx, id, by, reason, at)
	end(span, err)
	return o, err
}

func (s *tracedStore) Overrides(ctx context.Context, taskType string) ([]countersign.PolicyOverride, error) {
	ctx, span := s.start(ctx, "Overrides")
	list, err := s.Store.Overrides(ctx, taskType)
	end(span, err)
	return list, err
}

func (s *tracedStore) DrawAudit(ctx context.Context, stratum, documentID string) (int64, error) {
	ctx, span := s.start(ctx, "DrawAudit")
	n, err := s.Store.DrawAudit(ctx, stratum, documentID)
	end(span, err)
	return n, err
}

func (s *tracedStore) RememberSlackRequest(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	ctx, span := s.start(ctx, "RememberSlackRequest")
	fresh, err := s.Store.RememberSlackRequest(ctx, key, now, expires)
	end(span, err)
	return fresh, err
}

func (s *tracedStore) Ping(ctx context.Context) error {
	ctx, span := s.start(ctx, "Ping")
	err := s.Store.Ping(ctx)
	end(span, err)
	return err
}
