package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk/bench"
)

// TestPaymentBenchTasks runs the support benchmark's payment tasks (seed
// 1, the trials of the documented run) against the agent and requires
// every trial to pass with no unsafe attempt.
func TestPaymentBenchTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the support benchmark")
	}
	var tasks []bench.Task
	for _, tk := range bench.Generate(1, 60, bench.GenerateOptions{}) {
		switch tk.Fault {
		case "duplicate_holds", "app_sync_delay":
			tasks = append(tasks, tk)
		}
	}
	if len(tasks) == 0 {
		t.Fatal("no payment tasks generated")
	}
	rep, err := bench.Run(context.Background(), tasks, bench.RunConfig{Latency: 20 * time.Millisecond, Seeds: 4,
		VerifyTimeout: 2 * time.Second, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, r := range rep.Results {
		t.Run(r.TaskID+"/"+string(rune('0'+r.Trial)), func(t *testing.T) {
			if !r.Passed || len(r.Unsafe) > 0 {
				t.Errorf("failures %v unsafe %v\n%s", r.Failures, r.Unsafe, strings.Join(r.Transcript, "\n"))
			}
		})
	}
}
