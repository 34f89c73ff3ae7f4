package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// Listing limits: a limit of 0 or less means DefaultLimit, and no listing
// returns more than MaxLimit rows.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Store is a chargedesk.Store kept in SQLite or PostgreSQL. It is safe for
// concurrent use.
type Store struct {
	// w runs every write transaction. For SQLite it holds exactly one
	// connection, so writers queue in Go instead of failing with
	// SQLITE_BUSY; for PostgreSQL it is the same pool as r.
	w *sql.DB
	// r runs reads outside write transactions.
	r  *sql.DB
	pg bool
	// wc and rc cache the prepared statements of w and r (SQLite only);
	// read runs reads on r through rc.
	wc, rc *stmtCache
	read   rdb
	now    func() time.Time
	log    *slog.Logger
	// trims counts the events appended per charger since its last trim.
	trims trimCounts
	// eventInserts[k] inserts 1<<k events (see insertEventsQuery).
	eventInsertsOnce sync.Once
	eventInserts     [9]string
	// audit group-commits AppendAudit's entries.
	audit auditWriter
	// touchSQL is TouchChargers' statement (see touchQuery).
	touchOnce sync.Once
	touchSQL  string
}

var _ chargedesk.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	now func() time.Time
	log *slog.Logger
}

// WithClock sets the clock used for timestamps the store fills in itself
// (RegisteredAt, UpdatedAt and zero times that default to now). The default
// is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithLogger sets the logger for migrations and housekeeping. The default
// discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// Open opens the database named by dsn and applies pending migrations.
//
// A dsn of the form postgres://... or postgresql://... opens PostgreSQL
// through pgx (runtime parameters such as search_path may be given in the
// query string). Anything else is SQLite: sqlite:///abs/path.db,
// sqlite://relative/path.db, sqlite:path.db or a plain file path. The
// directory of a SQLite file is created when missing.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Store{now: o.now, log: o.log}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		err = s.openPostgres(ctx, dsn)
	} else {
		err = s.openSQLite(ctx, dsn)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqlitePath extracts the file path from a SQLite dsn.
func sqlitePath(dsn string) (string, error) {
	p := dsn
	switch {
	case strings.HasPrefix(p, "sqlite://"):
		p = strings.TrimPrefix(p, "sqlite://")
	case strings.HasPrefix(p, "sqlite:"):
		p = strings.TrimPrefix(p, "sqlite:")
	}
	if p == "" {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "sqlite dsn %q names no file", dsn)
	}
	if strings.ContainsAny(p, "?#") || p == ":memory:" || strings.HasPrefix(p, "file:") {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "sqlite dsn %q must be a plain file path", dsn)
	}
	return p, nil
}

func (s *Store) openSQLite(ctx context.Context, dsn string) error {
	path, err := sqlitePath(dsn)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlstore: create data directory: %w", err)
	}
	// synchronous=FULL: in WAL mode every commit fsyncs the WAL before it
	// returns, so an acknowledged transaction survives a killed process and
	// a power loss alike. NORMAL would survive the former only.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	// The writer sets WAL (persistent in the file) and begins every
	// transaction IMMEDIATE, so a transaction that reads then writes never
	// has to upgrade its lock (which would fail with SQLITE_BUSY at once
	// when another process holds the write lock).
	s.w, err = sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("sqlstore: open sqlite writer: %w", err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// Establish WAL and the schema on the writer before any reader opens.
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: open sqlite %s: %w", path, err)
	}
	if err := s.migrate(ctx, goose.DialectSQLite3, "migrations/sqlite"); err != nil {
		return err
	}
	s.r, err = sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("sqlstore: open sqlite readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: open sqlite %s: %w", path, err)
	}
	s.wc, s.rc = newStmtCache(s.w), newStmtCache(s.r)
	s.read = rdb{db: s.r, cache: s.rc}
	return nil
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	s.pg = true
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.w, s.r = db, db
	s.read = rdb{db: db}
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: connect to postgres: %w", err)
	}
	return s.migrate(ctx, goose.DialectPostgres, "migrations/postgres")
}

// migrate applies the embedded migrations of one dialect. On PostgreSQL the
// nodes that start at once take turns through a session advisory lock whose
// key is derived from the database and schema, so different schemas of one
// server do not wait on each other.
func (s *Store) migrate(ctx context.Context, dialect goose.Dialect, dir string) error {
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(s.log),
	}
	if s.pg {
		var where string
		if err := s.w.QueryRowContext(ctx, "SELECT current_database() || '.' || coalesce(current_schema(), '')").Scan(&where); err != nil {
			return fmt.Errorf("sqlstore: migrations: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("chargedesk-migrations:" + where))
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(int64(h.Sum64()>>1)),
			lock.WithLockTimeout(1, 300),
		)
		if err != nil {
			return fmt.Errorf("sqlstore: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.w, fsys, opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: apply migrations: %w", err)
	}
	for _, r := range res {
		s.log.LogAttrs(ctx, slog.LevelInfo, "applied migration",
			slog.Int64("version", r.Source.Version), slog.Duration("took", r.Duration))
	}
	return nil
}

// Ping checks that the database answers. A failure is EUNAVAILABLE.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w: %w",
			chargedesk.Errorf(chargedesk.EUNAVAILABLE, "the database is not reachable"), err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping: %w: %w",
				chargedesk.Errorf(chargedesk.EUNAVAILABLE, "the database is not reachable"), err)
		}
	}
	return nil
}

// Close closes the database handles. The store cannot be used afterwards.
func (s *Store) Close() error {
	errs := []error{s.rc.close(), s.wc.close()}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// q rewrites the '?' placeholders of a query to '$1', '$2', ... for
// PostgreSQL. Queries in this package never hold a '?' inside a literal.
func (s *Store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// forUpdate is the row-locking suffix of a SELECT inside a write
// transaction. SQLite needs none: its write transactions are serialized.
func (s *Store) forUpdate() string {
	if s.pg {
		return " FOR UPDATE"
	}
	return ""
}

// inTx runs fn in a write transaction and commits when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.inWTx(ctx, func(tx wtx) error { return fn(tx.Tx) })
}

// inWTx runs fn in a write transaction and commits when fn returns nil.
// fn's statements run prepared from the writer's cache; those it ran
// unprepared for the first time are prepared once the transaction has
// ended, for the next transactions.
func (s *Store) inWTx(ctx context.Context, fn func(tx wtx) error) error {
	defer func() {
		if s.wc.hasNoted() {
			s.wc.prepareNoted(context.WithoutCancel(ctx))
		}
	}()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(wtx{Tx: tx, cache: s.wc}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ts converts a time to a query argument: NULL for the zero time, else UTC
// truncated to the microsecond, as Unix microseconds for SQLite.
func (s *Store) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if s.pg {
		return t
	}
	return t.UnixMicro()
}

// micro normalizes a time the way it is stored.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// timeCol scans a time column of either dialect; NULL is the zero time.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(x).UTC()
	case time.Time:
		*c.t = x.UTC()
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", v)
	}
	return nil
}

// tc returns a scanner for a time column.
func tc(t *time.Time) timeCol { return timeCol{t} }

// limit applies DefaultLimit and MaxLimit.
func limit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// isUnique reports whether err is a unique or primary key violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// wrap adds the operation to an error that is not already a domain error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *chargedesk.Error
	if errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}
