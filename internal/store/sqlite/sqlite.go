// Package sqlite is the embedded store: one SQLite file, no server. It is the
// default of `countersign dev` and suits one process; production runs use the
// Postgres store.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of countersign.Store. Writes go through
// a single connection, so they are serialized (which is also what keeps the
// audit chain linear); reads use a pool of read-only connections. Its
// queries are in dbsqlc/*.sql, run through the code sqlc generates from
// them.
type Store struct {
	writeDB, readDB *sql.DB
	// writes and reads keep each pool's prepared statements.
	writes, reads *statements
	write, read   *dbsqlc.Queries
	now           func() time.Time
}

var _ countersign.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("migrate sqlite %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	// Idle connections kept open keep their prepared statements.
	read.SetMaxIdleConns(4)
	writes, reads := newStatements(write), newStatements(read)
	return &Store{writeDB: write, readDB: read, writes: writes, reads: reads, write: dbsqlc.New(writes), read: dbsqlc.New(reads), now: time.Now}, nil
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func migrate(ctx context.Context, db *sql.DB) error {
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, store.Migrations(migrations, "migrations"))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// SetClock replaces the store's clock (for tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.readDB.PingContext(ctx) }

// Close closes both connection pools and their statements.
func (s *Store) Close() error {
	return errors.Join(s.reads.close(), s.writes.close(), s.readDB.Close(), s.writeDB.Close())
}

// DB returns the write connection, for tests that tamper with rows.
func (s *Store) DB() *sql.DB { return s.writeDB }

// inTx runs fn on the queries of one transaction on the write connection
// and commits it when fn returns nil. The transaction is immediate (the
// connection's _txlock), so no other write comes between its reads and its
// writes. Its queries run on the kept statements (statements); those not
// kept yet are prepared once it has ended and freed the connection.
func (s *Store) inTx(ctx context.Context, fn func(q *dbsqlc.Queries) error) error {
	tx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer s.writes.preparePending(ctx)
	defer tx.Rollback()
	if err := fn(dbsqlc.New(txStatements{tx: tx, s: s.writes})); err != nil {
		return err
	}
	return tx.Commit()
}

// filtered runs a query with a filter's conditions in place of its
// store.FilterMarker.
type filtered struct {
	dbsqlc.DBTX
	filter store.Filter
}

// where returns the queries of the read pool that run with f's conditions.
func (s *Store) where(f store.Filter) *dbsqlc.Queries { return dbsqlc.New(filtered{s.readDB, f}) }

func (f filtered) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args, err := store.SQLite.Apply(f.filter, query, args)
	if err != nil {
		return nil, err
	}
	return f.DBTX.QueryContext(ctx, query, args...)
}

// times reads the times of a row as SQLite keeps them, text in
// audit.TimeLayout, and keeps the first error.
type times struct{ err error }

func (p *times) at(s string) time.Time {
	t, err := store.ParseTime(s)
	if p.err == nil {
		p.err = err
	}
	return t
}

func (p *times) optional(s *string) *time.Time {
	if s == nil {
		return nil
	}
	t := p.at(*s)
	return &t
}

// optionalTime writes a time that may be absent as SQLite keeps it.
func optionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := store.FormatTime(*t)
	return &s
}
