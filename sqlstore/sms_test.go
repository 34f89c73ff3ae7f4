package sqlstore

import (
	"context"
	"fmt"
	"sync"
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
		ok, err := s.ClaimMessage(ctx, "SM1", "+15145550100", t0)
		must(t, err)
		if !ok {
			t.Fatal("first claim refused")
		}
		ok, err = s.ClaimMessage(ctx, "SM1", "+15145550100", t0.Add(time.Minute))
		must(t, err)
		if ok {
			t.Fatal("replayed id claimed twice")
		}
		if _, err := s.ClaimMessage(ctx, "", "+15145550100", t0); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Fatalf("empty id: err = %v, want EINVALID", err)
		}
		s.Close()
		s = openStore(t, dsn)
		ok, err = s.ClaimMessage(ctx, "SM1", "+15145550100", t0.Add(time.Hour))
		must(t, err)
		if ok {
			t.Fatal("claim forgotten after reopening")
		}
		// Past the retention the id is forgotten.
		ok, err = s.ClaimMessage(ctx, "SM2", "+15145550100", t0.Add(SMSMessageRetention+2*time.Hour))
		must(t, err)
		if !ok {
			t.Fatal("new id refused")
		}
		ok, err = s.ClaimMessage(ctx, "SM1", "+15145550100", t0.Add(SMSMessageRetention+2*time.Hour))
		must(t, err)
		if !ok {
			t.Fatal("id kept past the retention")
		}
	})

	t.Run("Answers", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t))
		for i, sid := range []string{"SM-a", "SM-b", "SM-c"} {
			ok, err := s.ClaimMessage(ctx, sid, "+15145550100", t0.Add(time.Duration(i)*time.Minute))
			must(t, err)
			if !ok {
				t.Fatalf("claim %s", sid)
			}
		}
		// A message claimed before the number was kept is never listed.
		_, err := s.ClaimMessage(ctx, "SM-old", "", t0)
		must(t, err)
		ok, err := s.AnswerMessage(ctx, "SM-b", t0.Add(5*time.Minute))
		must(t, err)
		if !ok {
			t.Fatal("first answer refused")
		}
		if ok, err := s.AnswerMessage(ctx, "SM-b", t0.Add(6*time.Minute)); err != nil || ok {
			t.Fatalf("second answer: %v %v", ok, err)
		}
		if ok, err := s.AnswerMessage(ctx, "SM-unknown", t0); err != nil || ok {
			t.Fatalf("unknown message answered: %v %v", ok, err)
		}
		got, err := s.UnansweredMessages(ctx, t0.Add(90*time.Second), 10)
		must(t, err)
		if len(got) != 1 || got[0].SID != "SM-a" || got[0].Phone != "+15145550100" || !got[0].ReceivedAt.Equal(t0) {
			t.Fatalf("unanswered before t0+90s: %+v", got)
		}
		got, err = s.UnansweredMessages(ctx, t0.Add(time.Hour), 10)
		must(t, err)
		if len(got) != 2 || got[0].SID != "SM-a" || got[1].SID != "SM-c" {
			t.Fatalf("unanswered: %+v", got)
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

	t.Run("SwapConversation", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t), WithClock(func() time.Time { return t0 }))
		const phone = "+15145550177"
		swap := func(prev, next, want string) {
			t.Helper()
			got, err := s.SwapSMSConversation(ctx, phone, prev, next, t0)
			if err != nil || got != want {
				t.Fatalf("swap %q -> %q: %q, %v; want %q", prev, next, got, err, want)
			}
		}
		swap("", "C-a", "C-a") // no thread yet: created
		swap("", "C-b", "C-a") // another writer was first
		must(t, s.PutSMSThread(ctx, &chargedesk.SMSThread{Phone: phone, ConversationID: "C-a", Language: "es", Stopped: true, LastAt: t0}))
		swap("C-a", "C-c", "C-c")
		swap("C-a", "C-d", "C-c")
		th, err := s.SMSThread(ctx, phone)
		must(t, err)
		if th.ConversationID != "C-c" || th.Language != "es" || !th.Stopped {
			t.Fatalf("thread after swaps %+v: the language and STOP are kept", th)
		}
		if _, err := s.SwapSMSConversation(ctx, phone, "C-c", "", t0); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Fatalf("empty conversation: err = %v, want EINVALID", err)
		}
		// Two at once from the same state: one wins, both see it.
		var wg sync.WaitGroup
		got, errs := make([]string, 2), make([]error, 2)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = s.SwapSMSConversation(ctx, phone, "C-c", fmt.Sprintf("C-r%d", i), t0)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || got[0] != got[1] || got[0] != "C-r0" && got[0] != "C-r1" {
			t.Fatalf("racing swaps saw %v %v", got, errs)
		}
	})
}
