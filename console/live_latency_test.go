package console_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/internal/sse/ssetest"
)

// TestLiveTranscriptLatency measures how long a driver's message takes
// from being stored to reaching an operator's open transcript stream (the
// store's notice over the embedded bus, then the stream reads the store).
// It is a measurement, not a check: it runs only with
// CHARGEDESK_MEASURE=1 and logs percentiles for BENCHMARKS.md.
func TestLiveTranscriptLatency(t *testing.T) {
	if os.Getenv("CHARGEDESK_MEASURE") == "" {
		t.Skip("a measurement: set CHARGEDESK_MEASURE=1 to run it")
	}
	r, _ := newConvRig(t)
	c := r.conv(&chargedesk.Conversation{ID: "C-lat", Channel: chargedesk.ChannelChat},
		chargedesk.Turn{Role: chargedesk.RoleAgent, Text: "Hi"})
	v := r.signedIn("vera", chargedesk.RoleViewer)
	s, err := ssetest.Open(v.c, r.srv.URL+"/console/conversations/C-lat/events?after=1", nil)
	if err != nil || s.Status != http.StatusOK {
		t.Fatalf("stream: %v %v", s, err)
	}
	defer s.Close()
	if _, err := s.Next(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	const n = 300
	var took []time.Duration
	for i := 0; i < n; i++ {
		at := time.Now()
		if err := r.convs.AppendTurn(context.Background(), &chargedesk.Turn{ConversationID: c.ID, Role: chargedesk.RoleDriver, Text: "still there?"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Until(5*time.Second, func(e ssetest.Event) bool { return e.Name == "turn" }); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(at))
	}
	slices.Sort(took)
	p := func(q float64) time.Duration { return took[int(q*float64(len(took)-1))] }
	t.Logf("stored → on the operator's stream, %d messages: p50 %v, p95 %v, p99 %v, max %v", n, p(0.5), p(0.95), p(0.99), took[n-1])
}
