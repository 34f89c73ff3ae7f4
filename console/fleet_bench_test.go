package console_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/sqlstore"
)

// benchChargers is the fleet the page is measured on.
const benchChargers = 10000

// BenchmarkFleetPage renders /console/fleet (the handler, through the
// console's ServeHTTP with a signed-in session) over a store of 10,000
// chargers on 500 sites, three connectors each (the whole charger and two
// outlets), a quarter of them charging: the first page, a page deep in the
// fleet, and each kind of filter. SQLite always (its file on /dev/shm when
// there is one, so that seeding 60,000 rows does not wait on fsync);
// PostgreSQL when CHARGEDESK_TEST_POSTGRES is set.
func BenchmarkFleetPage(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		dir := b.TempDir()
		if d, err := os.MkdirTemp("/dev/shm", "chargedesk-bench-"); err == nil {
			dir = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
		benchFleet(b, "sqlite://"+filepath.Join(dir, "cd.db"))
	})
	b.Run("postgres", func(b *testing.B) {
		base := os.Getenv("CHARGEDESK_TEST_POSTGRES")
		if base == "" {
			b.Skip("CHARGEDESK_TEST_POSTGRES is not set")
		}
		benchFleet(b, postgresSchema(b, base))
	})
}

func benchFleet(b *testing.B, dsn string) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn)
	must(b, err)
	b.Cleanup(func() { st.Close() })
	start := time.Now()
	seedFleet(b, st, benchChargers)
	b.Logf("seeded %d chargers in %s", benchChargers, time.Since(start).Round(time.Millisecond))
	if strings.HasPrefix(dsn, "postgres") {
		// Autovacuum would gather the statistics of a live database in
		// time; the planner needs them to walk the fleet by index.
		db, err := sql.Open("pgx", dsn)
		must(b, err)
		_, err = db.Exec(`ANALYZE chargers, connectors, charger_locations, transactions, sites`)
		db.Close()
		must(b, err)
	}
	c, err := console.New(console.Config{Store: st, Operators: st, Commands: &recorder{}})
	must(b, err)
	cookie := benchSession(b, st)
	pages := []struct{ name, query string }{
		{"first", ""},
		{"deep", "?after=CD-07500"},
		{"site", "?site=site-0321"},
		{"faulted", "?status=faulted"},
		{"in-use", "?status=in-use"},
		{"offline", "?status=offline"},
		{"search", "?q=" + url.QueryEscape("d-0999")},
		{"search-none", "?q=nothing"},
		{"site+available+search", "?site=site-0100&status=available&q=cd-0"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/console/fleet"+p.query, nil)
			req.AddCookie(cookie)
			for b.Loop() {
				rec := httptest.NewRecorder()
				c.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p.query, rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// seedFleet registers n chargers CD-00000… on n/20 sites: connector 0
// and two outlets each; one charger in 50 has a Faulted outlet, one in 33
// is Unavailable as a whole, one in 4 charges on outlet 1 (with an active
// transaction and a reading), one in 10 is offline.
func seedFleet(b *testing.B, st *sqlstore.Store, n int) {
	ctx := context.Background()
	for s := 0; s < n/20; s++ {
		must(b, st.PutSite(ctx, &chargedesk.Site{ID: fmt.Sprintf("site-%04d", s), Name: fmt.Sprintf("Plaza %d", s)}))
	}
	now := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := seedCharger(ctx, st, i, now); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

func seedCharger(ctx context.Context, st *sqlstore.Store, i int, now time.Time) error {
	id := fmt.Sprintf("CD-%05d", i)
	if _, err := st.RegisterCharger(ctx, chargedesk.ChargerRegistration{ID: id, Description: fmt.Sprintf("Bay %d", i%20),
		BootStatus: chargedesk.RegistrationAccepted}); err != nil {
		return err
	}
	connected := i%10 != 0
	if _, err := st.UpdateCharger(ctx, id, func(c *chargedesk.Charger) error {
		c.Protocol, c.Vendor, c.Model, c.Connected, c.LastSeenAt = chargedesk.OCPP16, "Voltaic", "VX-150", connected, now.Add(-time.Minute)
		if connected {
			c.Node, c.ConnectedAt = "node-1", now.Add(-time.Hour)
		} else {
			c.DisconnectedAt = now.Add(-3 * time.Hour)
		}
		return nil
	}); err != nil {
		return err
	}
	whole, one, two := chargedesk.StatusAvailable, chargedesk.StatusAvailable, chargedesk.StatusAvailable
	switch {
	case i%50 == 7:
		two = chargedesk.StatusFaulted
	case i%33 == 5:
		whole, one, two = chargedesk.StatusUnavailable, chargedesk.StatusUnavailable, chargedesk.StatusUnavailable
	case i%4 == 1:
		one = chargedesk.StatusCharging
	}
	for k, s := range []chargedesk.ConnectorStatus{whole, one, two} {
		if err := st.PutConnector(ctx, chargedesk.Connector{ChargerID: id, ID: k, Status: s, ErrorCode: "NoError", StatusAt: now}); err != nil {
			return err
		}
	}
	if err := st.PutChargerLocation(ctx, chargedesk.ChargerLocation{ChargerID: id, SiteID: fmt.Sprintf("site-%04d", i/20)}); err != nil {
		return err
	}
	if one == chargedesk.StatusCharging {
		tx, err := st.StartTransaction(ctx, &chargedesk.Transaction{ChargerID: id, ConnectorID: 1, IDTag: fmt.Sprintf("RFID%08d", i),
			StartedAt: now.Add(-20 * time.Minute), MeterStartWh: 1000})
		if err != nil {
			return err
		}
		tx.Meter(8000, now.Add(-time.Minute))
		return st.UpdateTransaction(ctx, tx)
	}
	return nil
}

// benchSession makes a viewer's session straight in the store and returns
// its cookie.
func benchSession(b *testing.B, st *sqlstore.Store) *http.Cookie {
	ctx := context.Background()
	hash, err := console.HashPassword("a long enough password", 4)
	must(b, err)
	must(b, st.PutOperator(ctx, &chargedesk.Operator{Username: "bench", Role: chargedesk.RoleViewer, PasswordHash: hash}))
	secret := rand.Text()
	sum := sha256.Sum256([]byte(secret))
	now := time.Now()
	must(b, st.CreateOperatorSession(ctx, &chargedesk.OperatorSession{ID: hex.EncodeToString(sum[:]), Username: "bench", CSRF: rand.Text(),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	return &http.Cookie{Name: "chargedesk_console", Value: secret}
}

// postgresSchema makes a schema of its own for the benchmark, dropped at
// the end, and returns a DSN that uses it; seeding does not wait for each
// commit to reach the disk.
func postgresSchema(b *testing.B, base string) string {
	admin, err := sql.Open("pgx", base)
	must(b, err)
	schema := "chargedesk_bench_" + hex.EncodeToString([]byte(rand.Text()[:6]))
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	must(b, err)
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}
