package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chargedesk/chargedesk/sim"
)

// A server child ("loadcompare -serve NAME") runs one central system and
// is driven by its parent, the load generator, with one JSON line per
// request on its standard input; it answers each with one JSON line on its
// standard output, after a first line giving its URL. It stops when its
// input ends.
//
//	child:  {"url":"ws://127.0.0.1:port/ocpp"}
//	parent: {"op":"mem"}                     child: its memory, goroutines, CPU
//	parent: {"op":"steady","duration":...}   child: starts the steady window
//	                                          (and the commands), answers at once
//	parent: {"op":"result"}                  child: waits for the window's end,
//	                                          answers with the commands' report
//	                                          (asked once the load has closed
//	                                          its connections)

// childEnv makes a test binary run a server child instead of the tests
// (see TestMain); the tool itself ignores it.
const childEnv = "LOADCOMPARE_CHILD_ARGS"

// childRequest is one request from the parent.
type childRequest struct {
	Op       string        `json:"op"`
	Duration time.Duration `json:"duration,omitempty"` // steady
}

// childStatus is a child's answer.
type childStatus struct {
	URL string `json:"url,omitempty"`
	// Bytes is the heap and stack in use after a GC (sim.MemInUse).
	Bytes      uint64 `json:"bytes,omitempty"`
	Goroutines int    `json:"goroutines,omitempty"`
	OpenFiles  int    `json:"openFiles,omitempty"`
	// CPU is the process's user and system CPU time so far, in seconds.
	CPU float64 `json:"cpu,omitempty"`
	// Commands and SteadyCPU (CPU seconds over the steady window) and
	// SteadyWall (its length) answer "result".
	Commands   *sim.CommandLoadReport `json:"commands,omitempty"`
	SteadyCPU  float64                `json:"steadyCPU,omitempty"`
	SteadyWall time.Duration          `json:"steadyWall,omitempty"`
	// Note is what the server had to say after the run (see afterRunner).
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// server is one central system under measurement, in its child process.
type server interface {
	// URL is the OCPP endpoint without the charger id.
	URL() string
	// Command sends GetLocalListVersion to the charger and returns once it
	// is answered: nil for a CALLRESULT.
	Command(ctx context.Context, chargerID string) error
	Close() error
}

// afterRunner is a server with something to check once the load has
// closed its connections; AfterRun returns a note for the reader, or "".
type afterRunner interface {
	AfterRun() string
}

// serveChild runs the server o.serve until in ends.
func serveChild(ctx context.Context, o options, in io.Reader, out, stderr io.Writer) (err error) {
	// One descriptor per charger (its socket's end here) and a margin for
	// the store, the listener and the pipes.
	if want := uint64(o.chargers + 256); sim.RaiseFileLimit(want) < want {
		fmt.Fprintf(stderr, "loadcompare %s: open-file limit below %d\n", o.serve, want)
	}
	var srv server
	switch o.serve {
	case "chargedesk":
		srv, err = startChargedesk(ctx, o, stderr)
	case "ocppgo":
		srv, err = startOCPPGo(ctx)
	case "floor":
		srv, err = startFloor()
	default:
		err = fmt.Errorf("unknown server %q", o.serve)
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.Close()) }()
	enc := json.NewEncoder(out)
	if err := enc.Encode(childStatus{URL: srv.URL()}); err != nil {
		return err
	}
	reqs := make(chan childRequest)
	readErr := make(chan error, 1)
	go func() {
		defer close(reqs)
		dec := json.NewDecoder(in)
		for {
			var r childRequest
			if err := dec.Decode(&r); err != nil {
				if !errors.Is(err, io.EOF) {
					readErr <- err
				}
				return
			}
			reqs <- r
		}
	}()
	var steady chan childStatus // the steady window's outcome, once started
	for {
		var req childRequest
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return err
		case r, ok := <-reqs:
			if !ok {
				return nil
			}
			req = r
		}
		var st childStatus
		switch req.Op {
		case "mem":
			st = childStatus{Bytes: sim.MemInUse(), Goroutines: runtime.NumGoroutine(), OpenFiles: openFiles(), CPU: cpuSeconds()}
		case "steady":
			if steady != nil {
				st.Error = "steady window already started"
				break
			}
			steady = make(chan childStatus, 1)
			go func() { steady <- steadyWindow(ctx, o, srv, req.Duration) }()
		case "result":
			if steady == nil {
				st.Error = "no steady window started"
				break
			}
			select {
			case st = <-steady:
			case <-ctx.Done():
				return ctx.Err()
			}
			if ar, ok := srv.(afterRunner); ok {
				st.Note = ar.AfterRun()
			}
		default:
			st.Error = fmt.Sprintf("unknown request %q", req.Op)
		}
		if err := enc.Encode(st); err != nil {
			return err
		}
	}
}

// steadyWindow sends the commands, if any, for d and measures the CPU this
// process used meanwhile.
func steadyWindow(ctx context.Context, o options, srv server, d time.Duration) childStatus {
	cpu0, start := cpuSeconds(), time.Now()
	var st childStatus
	if o.cmdRate > 0 {
		rep, err := sim.RunCommands(ctx, sim.CommandLoadConfig{Rate: o.cmdRate, Duration: d, Chargers: o.chargers,
			IDPrefix: o.prefix, Timeout: o.callTimeout, Send: srv.Command})
		if err != nil {
			st.Error = err.Error()
		}
		st.Commands = &rep
	} else {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	st.SteadyCPU, st.SteadyWall = cpuSeconds()-cpu0, time.Since(start)
	return st
}

// cpuSeconds is this process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// openFiles counts this process's open descriptors, or 0 where /proc cannot
// tell.
func openFiles() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents) - 1 // the directory being read
}

// child is a server child seen from the parent.
type child struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	in     io.WriteCloser
	enc    *json.Encoder
	dec    *json.Decoder
	url    string
}

// startChild starts the server target in a child process (this executable
// with the hidden -serve flag) and waits for its URL.
func startChild(ctx context.Context, target string, o options) (_ *child, err error) {
	args := []string{"-serve", target, "-chargers", strconv.Itoa(o.chargers), "-id-prefix", o.prefix,
		"-commands-rate", fmt.Sprint(o.cmdRate), "-call-timeout", o.callTimeout.String(), "-commander", o.commander}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// Bounded: chargedesk registers the chargers first (a few thousand a
	// second), then the connect phase, the steady phase and the close.
	bound := 5*time.Minute + time.Duration(float64(o.chargers)/o.connectRate*float64(time.Second)) + o.duration + 2*o.callTimeout
	cctx, cancel := context.WithTimeout(ctx, bound)
	c := &child{cancel: cancel}
	defer func() {
		if err != nil {
			if c.in != nil {
				c.in.Close()
			}
			if c.cmd != nil && c.cmd.Process != nil {
				err = errors.Join(err, c.cmd.Wait())
			}
			cancel()
		}
	}()
	c.cmd = exec.CommandContext(cctx, exe, args...)
	c.cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
	c.cmd.Stderr = os.Stderr
	c.cmd.WaitDelay = 10 * time.Second
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	c.enc, c.dec = json.NewEncoder(c.in), json.NewDecoder(bufio.NewReader(out))
	var first childStatus
	if err := c.dec.Decode(&first); err != nil {
		return nil, fmt.Errorf("%s server stopped before serving: %w", target, err)
	}
	if first.Error != "" || !strings.HasPrefix(first.URL, "ws://") {
		return nil, fmt.Errorf("%s server said %+v, not its URL", target, first)
	}
	c.url = first.URL
	return c, nil
}

// ask sends a request and reads the answer.
func (c *child) ask(req childRequest) (childStatus, error) {
	var st childStatus
	if err := c.enc.Encode(req); err != nil {
		return st, err
	}
	if err := c.dec.Decode(&st); err != nil {
		return st, fmt.Errorf("server child: %w", err)
	}
	if st.Error != "" {
		return st, fmt.Errorf("server child: %s", st.Error)
	}
	return st, nil
}

// close ends the child's input, which stops it, and waits for it.
func (c *child) close() error {
	defer c.cancel()
	c.in.Close()
	return c.cmd.Wait()
}
