package natsbus

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/nats-io/nats.go"
)

var testLogLevel = slog.LevelWarn

// testLogger writes the bus's logs to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{t}, &slog.HandlerOptions{Level: testLogLevel}))
}

type tbWriter struct{ t testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// openBus opens a bus that the test closes at its end.
func openBus(t testing.TB, cfg Config) *Bus {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// twoNodes returns two buses sharing one server: a runs it embedded and
// listening on a loopback port, b connects to it like a second node would.
func twoNodes(t testing.TB, a, b Config) (*Bus, *Bus) {
	t.Helper()
	a.Listen = "127.0.0.1:0"
	if a.Name == "" {
		a.Name = "node-a"
	}
	na := openBus(t, a)
	b.URL = na.ClientURL()
	if b.Name == "" {
		b.Name = "node-b"
	}
	return na, openBus(t, b)
}

func TestOpen(t *testing.T) {
	t.Run("embedded without a port", func(t *testing.T) {
		b := openBus(t, Config{})
		if got := b.ClientURL(); got != "" {
			t.Errorf("ClientURL() = %q, want none without Listen", got)
		}
		if !b.nc.IsConnected() {
			t.Error("not connected")
		}
	})
	t.Run("embedded listening", func(t *testing.T) {
		b := openBus(t, Config{Listen: "127.0.0.1:0"})
		u := b.ClientURL()
		if !strings.HasPrefix(u, "nats://127.0.0.1:") || strings.HasSuffix(u, ":0") || strings.HasSuffix(u, ":-1") {
			t.Fatalf("ClientURL() = %q, want nats://127.0.0.1:<port>", u)
		}
		nc, err := nats.Connect(u)
		if err != nil {
			t.Fatalf("connect to %s: %v", u, err)
		}
		nc.Close()
	})
	t.Run("close twice", func(t *testing.T) {
		b, err := Open(t.Context(), Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("first Close: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		err = b.PublishEvent(chargedesk.Event{ChargerID: "CP1", Type: "CALL"})
		if chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
			t.Errorf("PublishEvent after Close = %v, want EUNAVAILABLE", err)
		}
		_, err = b.Send(t.Context(), chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP1"})
		if chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
			t.Errorf("Send after Close = %v, want EUNAVAILABLE", err)
		}
	})

	bad := []struct {
		name string
		cfg  Config
		code string
	}{
		{"url and listen", Config{URL: "nats://127.0.0.1:4222", Listen: "127.0.0.1:0"}, chargedesk.EINVALID},
		{"bad prefix", Config{SubjectPrefix: "a..b"}, chargedesk.EINVALID},
		{"wildcard prefix", Config{SubjectPrefix: "a.*"}, chargedesk.EINVALID},
		{"bad listen", Config{Listen: "nowhere"}, chargedesk.EINVALID},
		{"bad port", Config{Listen: "127.0.0.1:99999"}, chargedesk.EINVALID},
		{"negative margin", Config{RequestMargin: -time.Second}, chargedesk.EINVALID},
		{"unreachable server", Config{URL: "nats://127.0.0.1:1", StartTimeout: 2 * time.Second}, chargedesk.EUNAVAILABLE},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Open(t.Context(), tt.cfg)
			if err == nil {
				b.Close()
				t.Fatal("Open succeeded")
			}
			if got := chargedesk.ErrorCode(err); got != tt.code {
				t.Errorf("Open: %v (code %s), want code %s", err, got, tt.code)
			}
		})
	}

	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		b, err := Open(ctx, Config{})
		if err == nil {
			b.Close()
			t.Fatal("Open succeeded")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Open: %v, want context.Canceled", err)
		}
	})
}

// externalURL returns the external NATS server to test against, or skips.
func externalURL(t *testing.T) string {
	u := os.Getenv("CHARGEDESK_TEST_NATS_URL")
	if u == "" {
		t.Skip("CHARGEDESK_TEST_NATS_URL is not set; set it to a NATS server (e.g. nats://127.0.0.1:4222) to run this test")
	}
	return u
}

func TestPing(t *testing.T) {
	b, err := Open(t.Context(), Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := b.Ping(ctx); err != nil {
		t.Errorf("Ping on an open bus: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Ping(ctx); chargedesk.ErrorCode(err) != chargedesk.EUNAVAILABLE {
		t.Errorf("Ping after Close = %v, want EUNAVAILABLE", err)
	}
}
