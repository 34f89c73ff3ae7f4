package csms

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	"github.com/chargedesk/chargedesk/ocpp/v201"
)

// TestHeartbeatAnswerValid checks the Heartbeat answer that answer sends
// without validating it: it validates against both versions' schemas, at
// any time of day, and decodes to the time it was built at (to the ms).
func TestHeartbeatAnswerValid(t *testing.T) {
	s := &Server{touches: newTouchBatch()}
	for _, at := range []time.Time{
		time.Date(2026, 12, 7, 1, 2, 3, 456789000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("x", -5*3600)),
		time.Date(2030, 1, 1, 0, 0, 0, 0, time.Local),
	} {
		s.now = func() time.Time { return at }
		for _, p := range []chargedesk.Protocol{chargedesk.OCPP16, chargedesk.OCPP201} {
			resp, err := heartbeat(t.Context(), &conn{s: s, id: "CP-1", proto: p}, nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, ok := resp.(preEncoded)
			if !ok {
				t.Fatalf("heartbeat answer is %T, want preEncoded", resp)
			}
			if err := validator.Validate(p, "Heartbeat", true, raw); err != nil {
				t.Fatalf("%s answer %s: %v", p, raw, err)
			}
			var got ocpp.DateTime
			if p == chargedesk.OCPP16 {
				var r v16.HeartbeatResponse
				err, got = json.Unmarshal(raw, &r), r.CurrentTime
			} else {
				var r v201.HeartbeatResponse
				err, got = json.Unmarshal(raw, &r), r.CurrentTime
			}
			if err != nil || !got.Equal(at.Truncate(time.Millisecond)) {
				t.Fatalf("%s answer %s decodes to %v, %v; want %v", p, raw, got, err, at)
			}
		}
	}
}
