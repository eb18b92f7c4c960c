package countersign

import (
	"context"
	"time"
)

// Store keeps documents and what happened to them, the review queue, the audit
// chain, task type snapshots and API tokens. Implementations: Postgres
// (production) and SQLite (the embedded default); both pass one conformance
// suite. Every write is idempotent, because activities retry.
type Store interface {
	DocumentStore
	OriginalStore
	ReviewStore
	AuditLog
	TaskTypeStore
	TokenStore
	CalibrationStore
	SupervisionStore
	PolicyStore
	GoldStore
	SlackStore
	IntakeStore
	BatchStore
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}

// DocumentStore keeps documents, their bodies and their current state.
type DocumentStore interface {
	// CreateDocument stores doc if no document with its ID exists and reports
	// whether it did, counting it into its batch if it names one. Otherwise it leaves the stored one as it is and returns
	// it; a caller compares ContentSHA256 to tell a resubmission from a clash.
	CreateDocument(ctx context.Context, doc *Document) (stored *Document, created bool, err error)
	// GetDocument returns the document with its body; ErrNotFound if unknown.
	GetDocument(ctx context.Context, id string) (*Document, error)
	// UpdateDocument sets the non-nil parts of u.
	UpdateDocument(ctx context.Context, id string, u DocumentUpdate) error
	// MarkDelivered sets the final record's DeliveredAt to at unless it is
	// set already, in one conditional write, and returns the document as
	// stored then: of two runs of one delivery that overlap, both see the
	// time the first stored. A document without a final record is returned
	// as it is; ErrNotFound if unknown.
	MarkDelivered(ctx context.Context, id string, at time.Time) (*Document, error)
	// DocumentLabels returns what names each of the documents with the
	// given IDs to people, without their bodies; IDs it does not know are
	// left out.
	DocumentLabels(ctx context.Context, ids []string) (map[string]DocumentLabel, error)
	// ScanDocuments calls fn for every document f selects, with its body,
	// oldest first, reading a batch at a time so that memory stays flat
	// however many match; it stops at fn's first error and returns it.
	ScanDocuments(ctx context.Context, f DocumentFilter, fn func(*Document) error) error
}

// OriginalStore keeps the files documents were extracted from (PDFs),
// content-addressed.
type OriginalStore interface {
	// PutOriginal stores o (its Data and Layout) under its SHA256; an
	// original already stored is kept as it is.
	PutOriginal(ctx context.Context, o *Original) error
	// GetOriginal returns the original with the given SHA-256, with its
	// file when data is true and its layout always; ErrNotFound if unknown.
	GetOriginal(ctx context.Context, sha256 string, data bool) (*Original, error)
}

// DocumentFilter selects documents to scan. Zero parts select everything.
type DocumentFilter struct {
	TaskType string
	// Batch, when set, keeps the documents of that batch.
	Batch string
	// Statuses, when given, keeps documents in one of them.
	Statuses []Status
	// Since and Until bound the creation time: Since <= created_at < Until.
	Since, Until time.Time
	// Gold, when set, scans the gold documents only; otherwise they are
	// left out.
	Gold bool
}

// DocumentUpdate is a partial update of a document's state; nil parts are
// left as they are.
type DocumentUpdate struct {
	Status     *Status
	Draft      *Draft
	Confidence *Confidence
	Route      *Route
	Final      *Final
}

// ReviewStore keeps the review queue and the decisions made on it.
type ReviewStore interface {
	// OpenReview stores r as pending; opening the same review again is a no-op.
	OpenReview(ctx context.Context, r *Review) error
	// GetReview returns a review; ErrNotFound if unknown.
	GetReview(ctx context.Context, id string) (*Review, error)
	// ListReviews returns reviews in creation order, a page at a time.
	ListReviews(ctx context.Context, f ReviewFilter) (ReviewPage, error)
	// ReviewsForDocument returns a document's reviews in creation order.
	ReviewsForDocument(ctx context.Context, documentID string) ([]Review, error)
	// RecordDecision stores d and, when close is set, closes its review with
	// d's action. Recording the same decision ID again is a no-op.
	RecordDecision(ctx context.Context, d *Decision, close bool) error
	// Decisions returns a document's decisions in the order they were made.
	Decisions(ctx context.Context, documentID string) ([]Decision, error)
	// DecisionsOfDocuments returns the decisions of several documents at
	// once, each document's in the order they were made; audit
	// verification reads them a batch of documents at a time.
	DecisionsOfDocuments(ctx context.Context, documentIDs []string) ([]Decision, error)
	// CloseReviews closes a document's pending reviews without a decision,
	// because the document failed; closedBy says who closed them.
	CloseReviews(ctx context.Context, documentID string, at time.Time, closedBy string) error
	// ClaimReview holds a pending review for c.Person until c.Until,
	// provided c.Previous still holds it and that claim is c.Person's own,
	// nobody's, or lapsed at c.Now: one atomic step, so of two callers one
	// takes it. ErrConflict when it is not taken, ErrNotFound for an
	// unknown review.
	ClaimReview(ctx context.Context, c Claim) (*Review, error)
	// ReleaseClaim releases holder's claim on a pending review;
	// ErrConflict when holder does not hold it.
	ReleaseClaim(ctx context.Context, reviewID, holder string) (*Review, error)
	// ClaimCandidates lists, best first, up to f.Limit pending reviews of
	// f's task types and kind that person may claim at now: those they
	// hold already; then those nobody holds that are assigned to them;
	// then those nobody holds that are overdue, the most overdue first;
	// then the others, the least confident first (the likeliest to be
	// wrong), then the soonest due. It leaves out reviews of documents
	// they submitted, reviews they decided, and reviews assigned to
	// someone else that are not overdue yet.
	ClaimCandidates(ctx context.Context, f ReviewFilter, person string, now time.Time) ([]Review, error)
	// AssignReview assigns a pending review to a.To if it is still
	// assigned to a.Previous ("" for nobody), in one step, so of two
	// callers one assigns it. ErrConflict when it is not (closed, or
	// assigned to someone else meanwhile), ErrNotFound for an unknown
	// review.
	AssignReview(ctx context.Context, a Assign) (*Review, error)
	// AssignmentTurn counts a turn of round-robin assignment under key (a
	// task type) and returns how many turns were counted before it: 0, 1,
	// 2, … Of callers at once, each gets a different number.
	AssignmentTurn(ctx context.Context, key string) (int64, error)
	// AssignedLoad counts, for each of people, the pending reviews
	// assigned to them; people with none are left out.
	AssignedLoad(ctx context.Context, people []string) (map[string]int, error)
	// LapsedClaims lists up to limit pending reviews whose claim's lease
	// has passed at now, the longest lapsed first.
	LapsedClaims(ctx context.Context, now time.Time, limit int) ([]Review, error)
	// EndClaim ends holder's claim on a pending review if it is still the
	// one that lapsed at until (not renewed nor taken over since), and
	// reports whether it did.
	EndClaim(ctx context.Context, reviewID, holder string, until time.Time) (bool, error)
}

// ReviewFilter selects a page of reviews. An empty Status means all.
type ReviewFilter struct {
	Status   ReviewStatus
	TaskType string
	// TaskTypes, when not empty, keeps reviews of one of these task types.
	TaskTypes []string
	// Kind, when set, keeps reviews of that kind.
	Kind  ReviewKind
	Limit int
	// Order is the order of the pages: creation order unless set.
	Order ReviewOrder
	// Cursor is the NextCursor of the previous page, or empty for the
	// first; a cursor continues the order it was written in.
	Cursor string
	// Now is when ReviewsByValue tells overdue reviews from the rest; the
	// zero time is the time of the call.
	Now time.Time
}

// ReviewOrder is the order in which ListReviews pages reviews.
type ReviewOrder string

// The orders of reviews.
const (
	// ReviewsByCreation: the oldest first.
	ReviewsByCreation ReviewOrder = ""
	// ReviewsByDue: the soonest due (the most overdue) first, then the
	// least confident, then the oldest. The order of the review queue.
	ReviewsByDue ReviewOrder = "due"
	// ReviewsByValue: where a person's decision is worth the most first.
	// Overdue reviews, the most overdue first; then the rest the least
	// confident first (the likeliest to be wrong, where a decision changes
	// the outcome most; by the calibrated confidence when the task type
	// has an active calibration; a review a risk rule sent counted as
	// likelier wrong, Review.Rank), then the soonest due. It is the order
	// in which next hands reviews out; which side of due a review falls on is
	// read at ReviewFilter.Now.
	ReviewsByValue ReviewOrder = "value"
)

// ReviewPage is one page of reviews; NextCursor is empty on the last page.
type ReviewPage struct {
	Reviews    []Review
	NextCursor string
}

// AuditLog is the append-only, hash-chained audit trail.
type AuditLog interface {
	// AppendAudit assigns e the next sequence number, chains it to the
	// current head and stores it. Appends are serialized. Appending an event
	// whose ID is already stored changes nothing and returns the stored
	// event, so a retried append never duplicates or forks the chain.
	AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error)
	// DocumentAudit returns a document's events in chain order.
	DocumentAudit(ctx context.Context, documentID string) ([]AuditEvent, error)
	// AuditOfDocuments returns the events of several documents whose type is
	// one of types, in chain order; audit verification reads them a batch
	// of documents at a time.
	AuditOfDocuments(ctx context.Context, documentIDs []string, types []string) ([]AuditEvent, error)
	// ScanAudit calls fn for every event with Seq > after, in chain order,
	// reading a batch at a time; it stops at fn's first error.
	ScanAudit(ctx context.Context, after int64, fn func(AuditEvent) error) error
}

// TaskTypeSnapshot is the exact source of a task type version, kept so that
// any worker can run a document under the version it was submitted with.
type TaskTypeSnapshot struct {
	Name      string
	Version   string
	Source    []byte
	CreatedAt time.Time
}

// TaskTypeStore keeps task type snapshots by version.
type TaskTypeStore interface {
	// PutTaskType stores a snapshot; storing a known version is a no-op.
	PutTaskType(ctx context.Context, s TaskTypeSnapshot) error
	// GetTaskType returns the snapshot of a version; ErrNotFound if unknown.
	GetTaskType(ctx context.Context, version string) (*TaskTypeSnapshot, error)
}

// TokenStore keeps API tokens by the hash of their secret.
type TokenStore interface {
	// CreateToken stores t; its Hash must be unique.
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token with the given hash; ErrNotFound if none.
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	// CountTokens returns how many tokens exist.
	CountTokens(ctx context.Context) (int, error)
	// ListTokens returns every token, revoked ones included, oldest first,
	// without their hashes.
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken records that by revoked the token with the given ID at at
	// for reason, and returns the token as stored, without its hash.
	// Revoking it again by the same person for the same reason changes
	// nothing, so a retry is safe; any other revocation of a revoked token
	// is a conflict. ErrNotFound if no token has the ID.
	RevokeToken(ctx context.Context, id, by, reason string, at time.Time) (*Token, error)
}

// Extractor drafts the fields of a task type from a document.
type Extractor interface {
	// Extract returns a draft with evidence for every field it could fill.
	// An error whose Temporary method reports true (an overloaded or
	// unreachable endpoint) is retried; any other error means no draft can
	// be made, and the document goes to a person with the failure recorded.
	Extract(ctx context.Context, tt *TaskType, doc *Document) (*Draft, error)
}

// CandidateGenerator makes the candidates of a comparison item submitted
// with a prompt and no candidates, with the task type's
// Comparison.Generators, in the order and with the IDs of
// Comparison.GeneratedIDs, each with its model and parameters. It returns
// them as a draft that holds them alone (Draft.CandidatesOnly), with the
// tokens they cost and notes for a reviewer (a response cut at its token
// limit). Errors follow Extractor's rule: Temporary ones are retried,
// others are final and name the generator.
type CandidateGenerator interface {
	Generate(ctx context.Context, tt *TaskType, doc *Document) (*Draft, error)
}
