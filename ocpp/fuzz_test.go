package ocpp

import (
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
	frames, _ := filepath.Glob(filepath.Join("testdata", "frames", "*", "*.json"))
	for _, path := range frames {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
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
