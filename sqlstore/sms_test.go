package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
)

func TestSQLiteSMS(t *testing.T) { runSMSConformance(t, sqliteBackend) }

func TestPostgresSMS(t *testing.T) { runSMSConformance(t, postgresBackend(t)) }

// runSMSConformance checks the SMSStore methods of a backend, including
// that their state survives reopening the database.
func runSMSConformance(t *testing.T, b backend) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("ClaimMessage", func(t *testing.T) {
		t.Parallel()
		dsn := b.newDSN(t)
		s := openStore(t, dsn, WithClock(stepClock(t0)))
		ok, err := s.ClaimMessage(ctx, "SM1", t0)
		must(t, err)
		if !ok {
			t.Fatal("first claim refused")
		}
		ok, err = s.ClaimMessage(ctx, "SM1", t0.Add(time.Minute))
		must(t, err)
		if ok {
			t.Fatal("replayed id claimed twice")
		}
		if _, err := s.ClaimMessage(ctx, "", t0); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Fatalf("empty id: err = %v, want EINVALID", err)
		}
		s.Close()
		s = openStore(t, dsn)
		ok, err = s.ClaimMessage(ctx, "SM1", t0.Add(time.Hour))
		must(t, err)
		if ok {
			t.Fatal("claim forgotten after reopening")
		}
		// Past the retention the id is forgotten.
		ok, err = s.ClaimMessage(ctx, "SM2", t0.Add(SMSMessageRetention+2*time.Hour))
		must(t, err)
		if !ok {
			t.Fatal("new id refused")
		}
		ok, err = s.ClaimMessage(ctx, "SM1", t0.Add(SMSMessageRetention+2*time.Hour))
		must(t, err)
		if !ok {
			t.Fatal("id kept past the retention")
		}
	})

	t.Run("Threads", func(t *testing.T) {
		t.Parallel()
		dsn := b.newDSN(t)
		s := openStore(t, dsn, WithClock(func() time.Time { return t0 }))
		if _, err := s.SMSThread(ctx, "+15145550100"); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			t.Fatalf("unknown thread: err = %v, want ENOTFOUND", err)
		}
		th := &chargedesk.SMSThread{Phone: "+15145550100", ConversationID: "C-1", Language: "fr", LastAt: t0.Add(-time.Minute)}
		must(t, s.PutSMSThread(ctx, th))
		th.Stopped = true
		must(t, s.PutSMSThread(ctx, th))
		s.Close()
		s = openStore(t, dsn)
		got, err := s.SMSThread(ctx, "+15145550100")
		must(t, err)
		want := &chargedesk.SMSThread{Phone: "+15145550100", ConversationID: "C-1", Language: "fr", Stopped: true,
			LastAt: t0.Add(-time.Minute), UpdatedAt: t0}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored thread (-want +got):\n%s", diff)
		}
		if err := s.PutSMSThread(ctx, &chargedesk.SMSThread{}); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Fatalf("no phone: err = %v, want EINVALID", err)
		}
	})
}
