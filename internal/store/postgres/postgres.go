// Package postgres is the production store, on PostgreSQL through pgx. Any
// number of worker and API replicas share one database; the audit chain stays
// linear because appends take a transaction-scoped advisory lock.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/postgres/dbsqlc"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the Postgres implementation of countersign.Store. Its queries
// are in dbsqlc/*.sql, run through the code sqlc generates from them.
type Store struct {
	pool *pgxpool.Pool
	q    *dbsqlc.Queries
	now  func() time.Time
	// appends are the audit appends waiting to commit (AppendAudit).
	appends appendQueue
}

var _ countersign.Store = (*Store)(nil)

// Open connects to the database at url (postgres://...) and applies pending
// migrations; replicas starting together take turns through a session lock.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return &Store{pool: pool, q: dbsqlc.New(pool), now: time.Now}, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, store.Migrations(migrations, "migrations"),
		goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// SetClock replaces the store's clock (for tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Pool returns the connection pool, for tests that tamper with rows.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool, once the audit appends begun are written; appends
// after it fail.
func (s *Store) Close() error {
	s.appends.mu.Lock()
	s.appends.closed = true
	s.appends.mu.Unlock()
	s.appends.wg.Wait()
	s.pool.Close()
	return nil
}

// inTx runs fn on the queries of one transaction at READ COMMITTED and
// commits it when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(q *dbsqlc.Queries) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		return fn(s.q.WithTx(tx))
	})
}

// filtered runs a query with a filter's conditions in place of its
// store.FilterMarker.
type filtered struct {
	dbsqlc.DBTX
	filter store.Filter
}

// where returns the queries of s that run with f's conditions.
func (s *Store) where(f store.Filter) *dbsqlc.Queries { return dbsqlc.New(filtered{s.pool, f}) }

func (f filtered) Query(ctx context.Context, query string, args ...any) (pgx.Rows, error) {
	query, args, err := store.Postgres.Apply(f.filter, query, args)
	if err != nil {
		return nil, err
	}
	return f.DBTX.Query(ctx, query, args...)
}

// classify gives Postgres errors that no retry can fix an error code: data
// the server refuses (class 22, such as a NUL character in text) is
// invalid, and a violated constraint (class 23) is a conflict. Other errors
// (a lost connection, a failover) stay uncoded, for the caller to retry.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case strings.HasPrefix(pgErr.Code, "22"):
		return countersign.Errorf(countersign.CodeInvalid, "the database refused the data (%s %s): %w", pgErr.Code, pgErr.Message, err)
	case strings.HasPrefix(pgErr.Code, "23"):
		return countersign.Errorf(countersign.CodeConflict, "the database refused the change (%s %s): %w", pgErr.Code, pgErr.ConstraintName, err)
	}
	return err
}

// violates reports whether err is the violation of the named constraint.
func violates(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.ConstraintName == constraint
}
