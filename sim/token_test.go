package sim

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
)

// TestTokenLengthPerProtocol: a token longer than the charger's protocol
// allows is refused before anything is built or sent, with an error that
// maps to EINVALID; a token at the limit is taken.
func TestTokenLengthPerProtocol(t *testing.T) {
	ops := map[string]func(c *Charger, tag string) error{
		"TapCard": func(c *Charger, tag string) error {
			_, err := c.TapCard(context.Background(), 1, tag)
			return err
		},
		"InjectFault": func(c *Charger, tag string) error {
			return c.InjectFault(context.Background(), 1, FaultLocalListStale, FaultOptions{IDTag: tag})
		},
	}
	tests := []struct {
		name    string
		p       chargedesk.Protocol
		length  int
		refused bool
	}{
		{"1.6 at 20", chargedesk.OCPP16, 20, false},
		{"1.6 at 21", chargedesk.OCPP16, 21, true},
		{"1.6 at 25", chargedesk.OCPP16, 25, true},
		{"2.0.1 at 25", chargedesk.OCPP201, 25, false},
		{"2.0.1 at 36", chargedesk.OCPP201, 36, false},
		{"2.0.1 at 37", chargedesk.OCPP201, 37, true},
	}
	for _, tt := range tests {
		for name, op := range ops {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				c := NewCharger(ChargerConfig{ID: "CP-TOK", Protocol: tt.p, Validator: testValidator})
				err := op(c, strings.Repeat("A", tt.length))
				if got := errors.Is(err, ErrTokenTooLong); got != tt.refused {
					t.Fatalf("err %v, refused %v, want %v", err, got, tt.refused)
				}
				if tt.refused && chargedesk.ErrorCode(err) != chargedesk.EINVALID {
					t.Errorf("code %q, want %q", chargedesk.ErrorCode(err), chargedesk.EINVALID)
				}
				if n := c.State().Counters.InvalidOutgoing; n != 0 {
					t.Errorf("%d invalid frames built", n)
				}
			})
		}
	}
}
