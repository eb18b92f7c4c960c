package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// OpenReview stores a pending review; opening it again is a no-op.
func (s *Store) OpenReview(ctx context.Context, r *countersign.Review) error {
	reasons, err := store.JSONOr(r.Reasons, "[]")
	if err != nil {
		return err
	}
	err = s.write.OpenReview(ctx, dbsqlc.OpenReviewParams{
		ID: r.ID, DocumentID: r.DocumentID, TaskType: r.TaskType, Kind: store.ReviewKind(r.Kind),
		CreatedAt: store.FormatTime(r.CreatedAt), DueAt: store.FormatTime(r.DueAt), Confidence: r.Confidence, Reasons: reasons,
		Blind: flag(r.Blind), Risk: flag(r.Risk), Rank: r.Rank(),
	})
	if err != nil {
		return fmt.Errorf("open review %s: %w", r.ID, err)
	}
	return nil
}

// GetReview returns a review.
func (s *Store) GetReview(ctx context.Context, id string) (*countersign.Review, error) {
	row, err := s.read.GetReview(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "review %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get review %s: %w", id, err)
	}
	r, err := review(row)
	if err != nil {
		return nil, fmt.Errorf("get review %s: %w", id, err)
	}
	return &r, nil
}

// ListReviews returns a page of reviews in the filter's order.
func (s *Store) ListReviews(ctx context.Context, f countersign.ReviewFilter) (countersign.ReviewPage, error) {
	if f.Order == countersign.ReviewsByValue {
		return store.ValuePage(ctx, f, func(ctx context.Context, where store.Filter, byRank bool, n int) ([]countersign.Review, error) {
			q := s.where(where)
			list := q.ListReviewsByDue
			if byRank {
				list = q.ListReviewsByRank
			}
			reviews, err := reviewRows(list(ctx, int64(n)))
			if err != nil {
				return nil, fmt.Errorf("list reviews: %w", err)
			}
			return reviews, nil
		})
	}
	where, err := store.ReviewConditions(f)
	if err != nil {
		return countersign.ReviewPage{}, err
	}
	limit := store.PageSize(f.Limit)
	q := s.where(where)
	list := q.ListReviews
	if f.Order == countersign.ReviewsByDue {
		list = q.ListReviewsByDue
	}
	reviews, err := reviewRows(list(ctx, int64(limit+1)))
	if err != nil {
		return countersign.ReviewPage{}, fmt.Errorf("list reviews: %w", err)
	}
	return store.Page(reviews, limit, f.Order), nil
}

// ReviewsForDocument returns a document's reviews.
func (s *Store) ReviewsForDocument(ctx context.Context, documentID string) ([]countersign.Review, error) {
	reviews, err := reviewRows(s.read.ReviewsForDocument(ctx, documentID))
	if err != nil {
		return nil, fmt.Errorf("reviews of document %s: %w", documentID, err)
	}
	return reviews, nil
}

// CloseReviews closes a document's pending reviews without a decision.
func (s *Store) CloseReviews(ctx context.Context, documentID string, at time.Time, closedBy string) error {
	closedAt := store.FormatTime(at)
	err := s.write.CloseReviews(ctx, dbsqlc.CloseReviewsParams{ClosedAt: &closedAt, ClosedBy: closedBy, DocumentID: documentID})
	if err != nil {
		return fmt.Errorf("close reviews of document %s: %w", documentID, err)
	}
	return nil
}

// flag is a boolean as SQLite stores it.
func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// review reads a review's row.
func review(r dbsqlc.Review) (countersign.Review, error) {
	var t times
	out := countersign.Review{
		ID: r.ID, DocumentID: r.DocumentID, TaskType: r.TaskType, Kind: countersign.ReviewKind(r.Kind),
		Status: countersign.ReviewStatus(r.Status), CreatedAt: t.at(r.CreatedAt), DueAt: t.at(r.DueAt),
		ClosedAt: t.optional(r.ClosedAt), Confidence: r.Confidence,
		Outcome: countersign.Action(r.Outcome), ClosedBy: r.ClosedBy,
		ClaimedBy: r.ClaimedBy, ClaimedUntil: t.optional(r.ClaimedUntil), AssignedTo: r.AssignedTo, Blind: r.Blind != 0, Risk: r.Risk != 0,
	}
	if t.err != nil {
		return out, t.err
	}
	var err error
	out.Reasons, err = store.DecodeReasons(r.Reasons)
	return out, err
}

func reviewRows(rows []dbsqlc.Review, err error) ([]countersign.Review, error) {
	return store.Map(rows, err, review)
}

// ClaimReview holds a pending review for c.Person until c.Until, in one
// statement (see countersign.ReviewStore).
func (s *Store) ClaimReview(ctx context.Context, c countersign.Claim) (*countersign.Review, error) {
	until, now := store.FormatTime(c.Until), store.FormatTime(c.Now)
	row, err := s.write.ClaimReview(ctx, dbsqlc.ClaimReviewParams{ClaimedBy: c.Person, ClaimedUntil: &until, ID: c.ReviewID, Previous: c.Previous, Now: &now})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notTaken(ctx, c.ReviewID)
	}
	if err != nil {
		return nil, fmt.Errorf("claim review %s: %w", c.ReviewID, err)
	}
	r, err := review(row)
	return &r, err
}

// ReleaseClaim releases holder's claim on a pending review.
func (s *Store) ReleaseClaim(ctx context.Context, reviewID, holder string) (*countersign.Review, error) {
	row, err := s.write.ReleaseClaim(ctx, dbsqlc.ReleaseClaimParams{ID: reviewID, Holder: holder})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notTaken(ctx, reviewID)
	}
	if err != nil {
		return nil, fmt.Errorf("release review %s: %w", reviewID, err)
	}
	r, err := review(row)
	return &r, err
}

// notTaken is why a claim or release changed no row: the review is
// unknown, or it changed since the caller read it.
func (s *Store) notTaken(ctx context.Context, id string) error {
	if _, err := s.GetReview(ctx, id); err != nil {
		return err
	}
	return countersign.Errorf(countersign.CodeConflict, "review %s changed meanwhile: it is closed, or claimed or released by someone else", id)
}

// ClaimCandidates lists the reviews person may claim, best first (see
// countersign.ReviewStore).
func (s *Store) ClaimCandidates(ctx context.Context, f countersign.ReviewFilter, person string, now time.Time) ([]countersign.Review, error) {
	limit := store.PageSize(f.Limit)
	at := store.FormatTime(now)
	held, err := reviewRows(s.read.HeldReviews(ctx, dbsqlc.HeldReviewsParams{Holder: person, Now: &at, PageSize: int64(limit)}))
	if err != nil {
		return nil, fmt.Errorf("reviews held by %s: %w", person, err)
	}
	f.Status, f.Cursor, f.Order = countersign.ReviewPending, "", countersign.ReviewsByDue
	where, err := store.ReviewConditions(f)
	if err != nil {
		return nil, err
	}
	q := s.where(where)
	assigned, err := reviewRows(q.AssignedCandidates(ctx, dbsqlc.AssignedCandidatesParams{Person: person, Now: &at, PageSize: int64(limit)}))
	if err != nil {
		return nil, fmt.Errorf("reviews assigned to %s: %w", person, err)
	}
	held = append(held, assigned...)
	overdue, err := reviewRows(q.OverdueCandidates(ctx, dbsqlc.OverdueCandidatesParams{Now: at, Person: person, PageSize: int64(limit)}))
	if err != nil {
		return nil, fmt.Errorf("overdue reviews %s may claim: %w", person, err)
	}
	free, err := reviewRows(q.ClaimCandidates(ctx, dbsqlc.ClaimCandidatesParams{Now: at, Person: person, PageSize: int64(limit)}))
	if err != nil {
		return nil, fmt.Errorf("reviews %s may claim: %w", person, err)
	}
	return store.Candidates(held, append(overdue, free...), f, limit), nil
}

// LapsedClaims lists the pending reviews whose claim lapsed by now.
func (s *Store) LapsedClaims(ctx context.Context, now time.Time, limit int) ([]countersign.Review, error) {
	at := store.FormatTime(now)
	reviews, err := reviewRows(s.read.LapsedClaims(ctx, dbsqlc.LapsedClaimsParams{Now: &at, PageSize: int64(store.PageSize(limit))}))
	if err != nil {
		return nil, fmt.Errorf("lapsed claims: %w", err)
	}
	return reviews, nil
}

// EndClaim ends holder's lapsed claim, if it is still the one that lapsed
// at until.
func (s *Store) EndClaim(ctx context.Context, reviewID, holder string, until time.Time) (bool, error) {
	at := store.FormatTime(until)
	n, err := s.write.EndClaim(ctx, dbsqlc.EndClaimParams{ID: reviewID, Holder: holder, ClaimedUntil: &at})
	if err != nil {
		return false, fmt.Errorf("end the claim on review %s: %w", reviewID, err)
	}
	return n > 0, nil
}

// AssignReview assigns a pending review to a.To if it is still assigned
// to a.Previous, in one statement (see countersign.ReviewStore).
func (s *Store) AssignReview(ctx context.Context, a countersign.Assign) (*countersign.Review, error) {
	row, err := s.write.AssignReview(ctx, dbsqlc.AssignReviewParams{AssignedTo: a.To, ID: a.ReviewID, Previous: a.Previous})
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.GetReview(ctx, a.ReviewID); err != nil {
			return nil, err
		}
		return nil, countersign.Errorf(countersign.CodeConflict, "review %s changed meanwhile: it is closed, or was assigned to someone else", a.ReviewID)
	}
	if err != nil {
		return nil, fmt.Errorf("assign review %s: %w", a.ReviewID, err)
	}
	r, err := review(row)
	return &r, err
}

// AssignmentTurn counts a turn of round-robin assignment under key and
// returns how many were counted before it.
func (s *Store) AssignmentTurn(ctx context.Context, key string) (int64, error) {
	turns, err := s.write.AssignmentTurn(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("assignment turn of %s: %w", key, err)
	}
	return turns - 1, nil
}

// AssignedLoad counts the pending reviews assigned to each of people.
func (s *Store) AssignedLoad(ctx context.Context, people []string) (map[string]int, error) {
	load := map[string]int{}
	if len(people) == 0 {
		return load, nil
	}
	rows, err := s.read.AssignedLoad(ctx, people)
	if err != nil {
		return nil, fmt.Errorf("reviews assigned to %d people: %w", len(people), err)
	}
	for _, r := range rows {
		load[r.AssignedTo] = int(r.Reviews)
	}
	return load, nil
}
