package csms

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
)

// bulkFake is an in-memory store of charger descriptions with both the
// single and the bulk update, recording the groups it commits. While gate
// is set, each bulk call waits for a value on it.
type bulkFake struct {
	mu       sync.Mutex
	desc     map[string]string
	groups   [][]string
	singles  int
	gate     chan struct{}
	batchErr error
}

func (f *bulkFake) UpdateCharger(_ context.Context, id string, fn func(*chargedesk.Charger) error) (*chargedesk.Charger, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.singles++
	return nil, f.apply(id, fn)
}

func (f *bulkFake) apply(id string, fn func(*chargedesk.Charger) error) error {
	d, ok := f.desc[id]
	if !ok {
		return chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", id)
	}
	c := &chargedesk.Charger{ID: id, Description: d}
	if err := fn(c); err != nil {
		return err
	}
	f.desc[id] = c.Description
	return nil
}

func (f *bulkFake) UpdateChargers(_ context.Context, updates map[string]func(*chargedesk.Charger) error) (map[string]error, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range updates {
		ids = append(ids, id)
	}
	f.groups = append(f.groups, ids)
	if f.batchErr != nil {
		return nil, f.batchErr
	}
	var failed map[string]error
	for id, fn := range updates {
		if err := f.apply(id, fn); err != nil {
			if failed == nil {
				failed = map[string]error{}
			}
			failed[id] = err
		}
	}
	return failed, nil
}

// singleOnly hides the bulk update of a bulkFake.
type singleOnly struct{ f *bulkFake }

func (s singleOnly) UpdateCharger(ctx context.Context, id string, fn func(*chargedesk.Charger) error) (*chargedesk.Charger, error) {
	return s.f.UpdateCharger(ctx, id, fn)
}

func appendDesc(s string) func(*chargedesk.Charger) error {
	return func(c *chargedesk.Charger) error { c.Description += s; return nil }
}

func TestChargerWriterGroups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &bulkFake{desc: map[string]string{}, gate: make(chan struct{})}
		for i := range 10 {
			f.desc[fmt.Sprintf("CP-%d", i)] = ""
		}
		w := newChargerWriter(f)
		ctx := context.Background()
		errs := make(chan error, 32)
		// The first update's commit is held: everything sent meanwhile
		// waits, then goes in as few groups as ids allow.
		go func() { errs <- w.update(ctx, "CP-0", appendDesc("a")) }()
		synctest.Wait()
		for i := 1; i < 10; i++ {
			go func() { errs <- w.update(ctx, fmt.Sprintf("CP-%d", i), appendDesc("a")) }()
		}
		synctest.Wait()
		// A second update of CP-1, queued after its first: it must come
		// in a later group, and after it.
		go func() { errs <- w.update(ctx, "CP-1", appendDesc("b")) }()
		go func() { errs <- w.update(ctx, "CP-404", appendDesc("a")) }()
		synctest.Wait()
		close(f.gate)
		var notFound int
		for range 12 {
			err := <-errs
			switch {
			case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
				notFound++
			case err != nil:
				t.Errorf("update: %v", err)
			}
		}
		if notFound != 1 {
			t.Errorf("%d ENOTFOUND results, want 1 (for CP-404 only)", notFound)
		}
		if len(f.groups) != 3 {
			t.Fatalf("groups %v, want 3: CP-0 alone, the rest, then CP-1's second update", f.groups)
		}
		if len(f.groups[1]) != 10 || len(f.groups[2]) != 1 || f.groups[2][0] != "CP-1" {
			t.Errorf("groups %v", f.groups)
		}
		if f.desc["CP-1"] != "ab" {
			t.Errorf("CP-1 = %q, want updates applied in order (ab)", f.desc["CP-1"])
		}
		if f.singles != 0 {
			t.Errorf("%d single updates with a bulk store", f.singles)
		}
	})
}

func TestChargerWriterResults(t *testing.T) {
	errOwn := errors.New("refused")
	tests := []struct {
		name     string
		store    func(f *bulkFake) chargerUpdater
		batchErr error
		fn       func(*chargedesk.Charger) error
		want     error
		wantDesc string
	}{
		{name: "bulk ok", store: func(f *bulkFake) chargerUpdater { return f }, fn: appendDesc("x"), wantDesc: "x"},
		{name: "bulk fn error", store: func(f *bulkFake) chargerUpdater { return f }, fn: func(*chargedesk.Charger) error { return errOwn }, want: errOwn},
		{name: "bulk batch error", store: func(f *bulkFake) chargerUpdater { return f }, batchErr: errOwn, fn: appendDesc("x"), want: errOwn},
		{name: "single ok", store: func(f *bulkFake) chargerUpdater { return singleOnly{f} }, fn: appendDesc("x"), wantDesc: "x"},
		{name: "single fn error", store: func(f *bulkFake) chargerUpdater { return singleOnly{f} }, fn: func(*chargedesk.Charger) error { return errOwn }, want: errOwn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &bulkFake{desc: map[string]string{"CP-1": ""}, batchErr: tt.batchErr}
			w := newChargerWriter(tt.store(f))
			if err := w.update(context.Background(), "CP-1", tt.fn); !errors.Is(err, tt.want) {
				t.Errorf("update = %v, want %v", err, tt.want)
			}
			if f.desc["CP-1"] != tt.wantDesc {
				t.Errorf("stored %q, want %q", f.desc["CP-1"], tt.wantDesc)
			}
		})
	}
}

// TestConnectionsRecordedTogether connects many chargers at once to a real
// SQLite store: each is stored as connected and booted before it is
// answered, whatever group its writes went in.
func TestConnectionsRecordedTogether(t *testing.T) {
	e := newEnv(t, nil)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		id := fmt.Sprintf("CP-G%02d", i)
		e.register(id)
		wg.Go(func() {
			c := e.connect(id, chargedesk.OCPP16)
			c.send(`[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]`)
			if m := c.next(); m.Type != ocpp.CallResult {
				t.Errorf("%s boot answered %+v", id, m)
			}
			ch, err := e.store.Charger(context.Background(), id)
			if err != nil || !ch.Connected || ch.Node != "test-node" || ch.Vendor != "V" || ch.LastBootAt.IsZero() {
				t.Errorf("%s stored %+v, %v: want connected and booted", id, ch, err)
			}
		})
	}
	wg.Wait()
}

// TestHandshakeReadAhead sends the upgrade request and the first frame in
// one write, so that net/http reads the frame ahead with the request: the
// small-buffer hijack must hand it to the WebSocket all the same.
func TestHandshakeReadAhead(t *testing.T) {
	e := newEnv(t, nil)
	e.register("CP-RA")
	addr := strings.TrimPrefix(strings.TrimSuffix(e.url, "/ocpp"), "ws://")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Lost read-ahead bytes would leave the server waiting: fail instead.
	if err := nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("CP-RA:" + testPassword))
	req := "GET /ocpp/CP-RA HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: Basic " + auth + "\r\n\r\n"
	payload := []byte(`[2,"hb-1","Heartbeat",{}]`)
	// A masked client text frame (mask key zero keeps the payload as is).
	frame := append([]byte{0x81, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
	if _, err := nc.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, "101") {
		t.Fatalf("handshake answer %q, %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	hdr := make([]byte, 2)
	if _, err := br.Read(hdr[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := br.Read(hdr[1:]); err != nil {
		t.Fatal(err)
	}
	if hdr[0] != 0x81 || hdr[1]&0x80 != 0 || hdr[1] >= 126 {
		t.Fatalf("answer frame header % x, want a short unmasked text frame", hdr)
	}
	body := make([]byte, hdr[1])
	for read := 0; read < len(body); {
		n, err := br.Read(body[read:])
		if err != nil {
			t.Fatal(err)
		}
		read += n
	}
	if !strings.HasPrefix(string(body), `[3,"hb-1",{"currentTime":`) {
		t.Errorf("answer %s, want the Heartbeat's CALLRESULT", body)
	}
}

func TestValidCache(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		payload string
		wantErr bool
	}{
		{"heartbeat", "Heartbeat", `{}`, false},
		{"invalid not cached", "Heartbeat", `{"x":1}`, true},
		{"boot", "BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`, false},
		{"boot missing field", "BootNotification", `{"chargePointVendor":"V"}`, true},
	}
	s := &Server{cfg: Config{Validator: validator}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 2 { // the second time from the cache, if valid
				err := s.validateIncoming(chargedesk.OCPP16, tt.action, []byte(tt.payload))
				if (err != nil) != tt.wantErr {
					t.Fatalf("try %d: err = %v, want error %v", i, err, tt.wantErr)
				}
			}
			if got := s.validIn.valid(chargedesk.OCPP16, tt.action, []byte(tt.payload)); got == tt.wantErr {
				t.Errorf("cached as valid = %v", got)
			}
			if s.validIn.valid(chargedesk.OCPP201, tt.action, []byte(tt.payload)) {
				t.Error("verdict shared across protocols")
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		var v validCache
		for i := range maxValidCached + 10 {
			v.add(chargedesk.OCPP16, "DataTransfer", []byte(fmt.Sprintf(`{"vendorId":"%d"}`, i)))
		}
		if v.n > maxValidCached {
			t.Errorf("%d payloads cached, bound %d", v.n, maxValidCached)
		}
		long := []byte(`{"vendorId":"` + strings.Repeat("x", maxValidCachedLen) + `"}`)
		v.add(chargedesk.OCPP16, "DataTransfer", long)
		if v.valid(chargedesk.OCPP16, "DataTransfer", long) {
			t.Error("a long payload was cached")
		}
	})
}
