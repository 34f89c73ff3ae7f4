package ocpp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/chargedesk/chargedesk/internal/textcut"
)

// FuzzParse checks that Parse never panics, that whatever it rejects is a
// *FrameError, and that whatever it accepts encodes to a frame that parses
// to the same message (a CALLERROR description cut to 255 bytes aside).
// Seeds: testdata/fuzz/FuzzParse and every frame in testdata/frames.
func FuzzParse(f *testing.F) {
	addFrameSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if _, ok := err.(*FrameError); !ok {
				t.Fatalf("Parse error is %T, want *FrameError", err)
			}
			return
		}
		enc := m.Encode()
		again, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-encoded frame %q does not parse: %v", enc, err)
		}
		want := m
		want.ErrorDescription = textcut.Bytes(want.ErrorDescription, 255)
		if !reflect.DeepEqual(normal(again), normal(want)) {
			t.Fatalf("re-parsed message differs\n got: %#v\nwant: %#v", again, want)
		}
	})
}

// addFrameSeeds seeds f with every frame in testdata/frames.
func addFrameSeeds(f *testing.F) {
	frames, _ := filepath.Glob(filepath.Join("testdata", "frames", "*", "*.json"))
	for _, path := range frames {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// normal makes empty and nil raw payloads compare equal.
func normal(m Message) Message {
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	if len(m.ErrorDetails) == 0 {
		m.ErrorDetails = nil
	}
	return m
}

// FuzzParseFast checks that the fast path agrees with the generic decoder:
// whatever parseFast accepts, parseFull accepts as the same Message.
// Seeds: the frames of FuzzParse and hand-written near misses.
func FuzzParseFast(f *testing.F) {
	addFrameSeeds(f)
	for _, s := range []string{
		`[2,"1","Heartbeat",{}]`,
		` [ 2 , "1" , "Heartbeat" , { } ] `,
		"[2,\"1\",\"Heartbeat\",{}]\n",
		`[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]`,
		`[3,"1",{"a":[1,{"b":"]"}]}]`,
		`[2,"1","Heartbeat",{}]]`,
		`[2,"1","Heartbeat",{}],`,
		`[2,"1","Heartbeat",{},{}]`,
		`[2,"1","Heartbeat",{"a":1} {"b":2}]`,
		`[2,"1","Heartbeat",{"a":"\u00e9"}]`,
		`[2,"\u0031","Heartbeat",{}]`,
		`[2,"","Heartbeat",{}]`,
		`[2,"1","",{}]`,
		`[2,"1","Heart\"beat",{}]`,
		`[2,"1","Heartbeat",[]]`,
		`[2,"1","Heartbeat",null]`,
		`[2,"1","Heartbeat"]`,
		`[20,"1","Heartbeat",{}]`,
		`[2.0,"1","Heartbeat",{}]`,
		`[2e0,"1","Heartbeat",{}]`,
		`[3,"1","x",{}]`,
		`[3,"1",{}]x`,
		`[3,"1",{"a":}]`,
		"[3,\"1\",{\"a\":\"\xff\"}]",
		"[2,\"\xc3\xa9\",\"Heartbeat\",{}]",
		`[2,"0123456789012345678901234567890123456","Heartbeat",{}]`,
		`[4,"1","GenericError","",{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := parseFast(data)
		full, err := parseFull(data)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("fast path accepts %q, the decoder refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(normal(fast), normal(full)) {
			t.Fatalf("fast path and decoder differ on %q\nfast: %#v\nfull: %#v", data, fast, full)
		}
		if got, err := Parse(data); err != nil || !reflect.DeepEqual(got, fast) {
			t.Fatalf("Parse(%q) = %#v, %v; want the fast path's %#v", data, got, err, fast)
		}
	})
}

// TestParseFastTakes checks that the common frames do take the fast path.
func TestParseFastTakes(t *testing.T) {
	for _, s := range []string{
		`[2,"1","Heartbeat",{}]`,
		` [ 2 , "abc-1" , "StatusNotification" , {"connectorId":1,"status":"Available","errorCode":"NoError"} ] `,
		`[3,"19223201",{"currentTime":"2024-01-01T00:00:00Z"}]`,
	} {
		if _, ok := parseFast([]byte(s)); !ok {
			t.Errorf("parseFast(%s) fell back", s)
		}
	}
}

// FuzzAppendString checks that appendString quotes every string as
// json.Marshal does.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "19223201", "Heartbeat", "a\"b", "a\\b", "<&>", "\x00\x1f\x7f", "é", "\u2028", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
