package sim

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func TestRunCommands(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	rep, err := RunCommands(t.Context(), CommandLoadConfig{
		Rate: 100, Duration: 300 * time.Millisecond, Chargers: 3, IDPrefix: "C-",
		Send: func(ctx context.Context, id string) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("Send got no deadline")
			}
			mu.Lock()
			seen[id]++
			mu.Unlock()
			time.Sleep(time.Millisecond)
			if id == "C-000002" {
				return errors.New("refused")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent < 10 || rep.Sent > 40 {
		t.Errorf("sent %d commands in 300 ms at 100/s", rep.Sent)
	}
	if len(seen) != 3 || seen["C-000000"] == 0 || seen["C-000001"] == 0 {
		t.Errorf("chargers picked: %v; want C-000000..C-000002 in turn", seen)
	}
	if want := int64(seen["C-000002"]); rep.Errors != want || rep.Latency.Count != int(rep.Sent-want) {
		t.Errorf("errors %d, answered %d of %d; want %d errors", rep.Errors, rep.Latency.Count, rep.Sent, want)
	}
	if len(rep.ErrorSamples) == 0 || !strings.Contains(rep.ErrorSamples[0], "C-000002: refused") {
		t.Errorf("error samples %q", rep.ErrorSamples)
	}
	if rep.Latency.P50 < time.Millisecond {
		t.Errorf("p50 %s, shorter than Send", rep.Latency.P50)
	}

	if _, err := RunCommands(t.Context(), CommandLoadConfig{Rate: 1, Chargers: 1}); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Errorf("no sender: %v, want EINVALID", err)
	}
}

type fixedCommander chargedesk.Result

func (c fixedCommander) Send(context.Context, chargedesk.Command) (chargedesk.Result, error) {
	return chargedesk.Result(c), nil
}

func TestCommanderSend(t *testing.T) {
	if err := CommanderSend(fixedCommander{Status: chargedesk.ResultAccepted}, time.Second)(t.Context(), "C-1"); err != nil {
		t.Errorf("accepted: %v", err)
	}
	if err := CommanderSend(fixedCommander{Status: chargedesk.ResultRejected}, time.Second)(t.Context(), "C-1"); err == nil {
		t.Error("rejected: no error")
	}
}
