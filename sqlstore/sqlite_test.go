package sqlstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// sqliteBackend gives each test its own database file in a temp dir.
var sqliteBackend = backend{
	newDSN: func(t testing.TB) string {
		return "sqlite://" + filepath.Join(t.TempDir(), "data", "chargedesk.db")
	},
	dropAppendOnly: `DROP TRIGGER audit_no_update`,
}

func TestSQLite(t *testing.T) {
	runConformance(t, sqliteBackend)
	runAgentConformance(t, sqliteBackend)
	runConsoleConformance(t, sqliteBackend)
}

func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, sqliteBackend.newDSN(t))
	tests := []struct {
		name   string
		db     func() querier
		pragma string
		want   string
	}{
		{"writer journal_mode", func() querier { return s.w }, "journal_mode", "wal"},
		{"writer synchronous", func() querier { return s.w }, "synchronous", "2"}, // FULL
		{"writer foreign_keys", func() querier { return s.w }, "foreign_keys", "1"},
		{"writer busy_timeout", func() querier { return s.w }, "busy_timeout", "10000"},
		{"reader query_only", func() querier { return s.r }, "query_only", "1"},
		{"reader journal_mode", func() querier { return s.r }, "journal_mode", "wal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			must(t, tt.db().QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got))
			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestSQLitePath(t *testing.T) {
	tests := []struct {
		dsn, want string
		ok        bool
	}{
		{"sqlite:///var/lib/chargedesk/db.sqlite", "/var/lib/chargedesk/db.sqlite", true},
		{"sqlite://data/db.sqlite", "data/db.sqlite", true},
		{"sqlite:db.sqlite", "db.sqlite", true},
		{"/tmp/x.db", "/tmp/x.db", true},
		{"x.db", "x.db", true},
		{"", "", false},
		{"sqlite://", "", false},
		{"sqlite:///x.db?mode=ro", "", false},
		{":memory:", "", false},
		{"file:x.db", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			got, err := sqlitePath(tt.dsn)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("sqlitePath(%q) = %q, %v; want %q, ok=%v", tt.dsn, got, err, tt.want, tt.ok)
			}
			if err != nil && chargedesk.ErrorCode(err) != chargedesk.EINVALID {
				t.Errorf("error code %q, want invalid", chargedesk.ErrorCode(err))
			}
		})
	}
}

// TestSQLiteSurvivesKill starts a child process that starts transactions
// and prints each id once StartTransaction has returned, kills it with
// SIGKILL mid-stream, and checks that every acknowledged transaction is in
// the database.
func TestSQLiteSurvivesKill(t *testing.T) {
	const childEnv = "CHARGEDESK_SQLSTORE_KILL_CHILD"
	if dsn := os.Getenv(childEnv); dsn != "" {
		killChild(dsn)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dsn := sqliteBackend.newDSN(t)
	setup := openStore(t, dsn)
	register(t, setup, "CP-1")
	must(t, setup.Close())

	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dsn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "ACK "); ok {
			acked = append(acked, id)
			if len(acked) == 50 {
				must(t, cmd.Process.Kill()) // SIGKILL
			}
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("child ended with %v, want killed by a signal", err)
	}
	if len(acked) < 50 {
		t.Fatalf("child acknowledged only %d transactions", len(acked))
	}
	s := openStore(t, dsn)
	for _, id := range acked {
		if _, err := s.Transaction(context.Background(), "CP-1", id); err != nil {
			t.Errorf("acknowledged transaction %s lost: %v", id, err)
		}
	}
	must(t, s.VerifyAudit(context.Background()))
}

// killChild writes until it is killed.
func killChild(dsn string) {
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; ; i++ {
		tx, err := s.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: "CP-1", ConnectorID: 1,
			IDTag: "T", StartedAt: start.Add(time.Duration(i) * time.Second)})
		if err == nil {
			err = s.AppendAudit(ctx, &chargedesk.AuditEntry{Actor: "child", CommandID: tx.ID, Stage: chargedesk.AuditDecision})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("ACK %s\n", tx.ID)
	}
}

func TestLimit(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{-1, 100}, {0, 100}, {1, 1}, {1000, 1000}, {1001, 1000}} {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			if got := limit(tt.in); got != tt.want {
				t.Errorf("limit(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	pg, lite := &Store{pg: true}, &Store{}
	tests := []struct{ name, in, pg string }{
		{"none", "SELECT 1", "SELECT 1"},
		{"several", "SELECT a FROM t WHERE b = ? AND c IN (?, ?)", "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"},
		{"ten", strings.Repeat("?", 10), "$1$2$3$4$5$6$7$8$9$10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pg.q(tt.in); got != tt.pg {
				t.Errorf("postgres: %q, want %q", got, tt.pg)
			}
			if got := lite.q(tt.in); got != tt.in {
				t.Errorf("sqlite: %q, want it unchanged", got)
			}
		})
	}
}
