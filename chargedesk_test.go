package chargedesk_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func TestValidateChargerID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"CP-0042", true}, {"site_1.bay.2", true}, {strings.Repeat("a", 48), true},
		{"", false}, {strings.Repeat("a", 49), false}, {"CP 1", false}, {"CP:1", false}, {"CP/1", false}, {"CP*", false}, {"é", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := chargedesk.ValidateChargerID(tt.id)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateChargerID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
			if err != nil && chargedesk.ErrorCode(err) != chargedesk.EINVALID {
				t.Fatalf("code %q", chargedesk.ErrorCode(err))
			}
		})
	}
}

func TestPasswords(t *testing.T) {
	pw := "a-random-key-0123456"
	h := chargedesk.HashPassword(pw)
	if !chargedesk.CheckPassword(h, pw) {
		t.Fatal("hash does not match its password")
	}
	if chargedesk.CheckPassword(h, pw+"x") || chargedesk.CheckPassword("garbage", pw) || chargedesk.CheckPassword("", "") {
		t.Fatal("a wrong password or hash matched")
	}
	if h == chargedesk.HashPassword(pw) {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"short", strings.Repeat("x", 41), "has a space in it!!", "tab\there-1234567890"} {
		if chargedesk.ValidatePassword(bad) == nil {
			t.Errorf("ValidatePassword(%q) accepted", bad)
		}
	}
}

func TestTokenVerdict(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		tok  chargedesk.Token
		want chargedesk.AuthStatus
	}{
		{"accepted", chargedesk.Token{Status: chargedesk.AuthAccepted}, chargedesk.AuthAccepted},
		{"accepted until later", chargedesk.Token{Status: chargedesk.AuthAccepted, ExpiresAt: now.Add(time.Second)}, chargedesk.AuthAccepted},
		{"expired now", chargedesk.Token{Status: chargedesk.AuthAccepted, ExpiresAt: now}, chargedesk.AuthExpired},
		{"blocked stays blocked after expiry", chargedesk.Token{Status: chargedesk.AuthBlocked, ExpiresAt: now.Add(-time.Hour)}, chargedesk.AuthBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tok.Verdict(now); got != tt.want {
				t.Fatalf("verdict %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTokenValidate(t *testing.T) {
	tests := []struct {
		name string
		tok  chargedesk.Token
		ok   bool
	}{
		{"minimal", chargedesk.Token{IDTag: "04A2", Status: chargedesk.AuthAccepted}, true},
		{"typed", chargedesk.Token{IDTag: "04A2", Type: "eMAID", Status: chargedesk.AuthBlocked}, true},
		{"empty", chargedesk.Token{Status: chargedesk.AuthAccepted}, false},
		{"too long", chargedesk.Token{IDTag: strings.Repeat("A", 37), Status: chargedesk.AuthAccepted}, false},
		{"control char", chargedesk.Token{IDTag: "A\nB", Status: chargedesk.AuthAccepted}, false},
		{"bad type", chargedesk.Token{IDTag: "A", Type: "Magic", Status: chargedesk.AuthAccepted}, false},
		{"concurrent is not a stored status", chargedesk.Token{IDTag: "A", Status: chargedesk.AuthConcurrentTx}, false},
		{"driver id too long", chargedesk.Token{IDTag: "A", Status: chargedesk.AuthAccepted, DriverID: strings.Repeat("d", 101)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.tok
			err := tok.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
			if err == nil && tok.Type == "" {
				t.Fatal("Validate left Type empty")
			}
		})
	}
}

func TestCommandValidate(t *testing.T) {
	base := func(k chargedesk.CommandKind) chargedesk.Command {
		return chargedesk.Command{Kind: k, ChargerID: "CP-1"}
	}
	with := func(c chargedesk.Command, f func(*chargedesk.Command)) chargedesk.Command { f(&c); return c }
	tests := []struct {
		name string
		cmd  chargedesk.Command
		ok   bool
	}{
		{"remote start", with(base(chargedesk.CmdRemoteStart), func(c *chargedesk.Command) { c.IDTag = "T" }), true},
		{"remote start without token", base(chargedesk.CmdRemoteStart), false},
		{"remote stop", with(base(chargedesk.CmdRemoteStop), func(c *chargedesk.Command) { c.TransactionID = "7" }), true},
		{"remote stop without id", base(chargedesk.CmdRemoteStop), false},
		{"reset soft", with(base(chargedesk.CmdReset), func(c *chargedesk.Command) { c.ResetType = "Soft" }), true},
		{"reset kinda", with(base(chargedesk.CmdReset), func(c *chargedesk.Command) { c.ResetType = "Gentle" }), false},
		{"unlock", with(base(chargedesk.CmdUnlockConnector), func(c *chargedesk.Command) { c.ConnectorID = 1 }), true},
		{"unlock connector 0", base(chargedesk.CmdUnlockConnector), false},
		{"trigger", with(base(chargedesk.CmdTriggerMessage), func(c *chargedesk.Command) { c.Trigger = "Heartbeat" }), true},
		{"trigger unknown", with(base(chargedesk.CmdTriggerMessage), func(c *chargedesk.Command) { c.Trigger = "Firmware" }), false},
		{"availability", with(base(chargedesk.CmdChangeAvailability), func(c *chargedesk.Command) { c.Availability = "Inoperative" }), true},
		{"availability missing", base(chargedesk.CmdChangeAvailability), false},
		{"clear cache", base(chargedesk.CmdClearCache), true},
		{"local list", with(base(chargedesk.CmdSendLocalList), func(c *chargedesk.Command) {
			c.ListVersion, c.UpdateType = 3, "Differential"
			c.LocalList = []chargedesk.LocalListEntry{{IDTag: "A", Status: "Accepted"}, {IDTag: "B"}}
		}), true},
		{"full list entry without status", with(base(chargedesk.CmdSendLocalList), func(c *chargedesk.Command) {
			c.ListVersion, c.UpdateType = 3, "Full"
			c.LocalList = []chargedesk.LocalListEntry{{IDTag: "B"}}
		}), false},
		{"local list version 0", with(base(chargedesk.CmdSendLocalList), func(c *chargedesk.Command) { c.UpdateType = "Full" }), false},
		{"get configuration", with(base(chargedesk.CmdGetConfiguration), func(c *chargedesk.Command) { c.Keys = []string{"HeartbeatInterval"} }), true},
		{"change configuration", with(base(chargedesk.CmdChangeConfiguration), func(c *chargedesk.Command) { c.Key, c.Value = "K", "V" }), true},
		{"change configuration without key", base(chargedesk.CmdChangeConfiguration), false},
		{"data transfer", with(base(chargedesk.CmdDataTransfer), func(c *chargedesk.Command) { c.VendorID = "com.acme" }), true},
		{"data transfer without vendor", base(chargedesk.CmdDataTransfer), false},
		{"unknown kind", base("Explode"), false},
		{"bad charger", chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "a b"}, false},
		{"timeout too long", with(base(chargedesk.CmdClearCache), func(c *chargedesk.Command) { c.Timeout = time.Hour }), false},
		{"id too long", with(base(chargedesk.CmdClearCache), func(c *chargedesk.Command) { c.ID = strings.Repeat("i", 65) }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := tt.cmd
			err := cmd.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
			if err == nil && cmd.Timeout != chargedesk.DefaultCommandTimeout && tt.cmd.Timeout == 0 {
				t.Fatalf("default timeout not filled: %v", cmd.Timeout)
			}
		})
	}
}

func TestAuditHashChain(t *testing.T) {
	e := chargedesk.AuditEntry{Seq: 1, At: time.Unix(1700000000, 123456789), Actor: "operator:alice", CommandID: "c1",
		Kind: "UnlockConnector", ChargerID: "CP-1", Stage: chargedesk.AuditDecision, Allowed: true, Reason: "ok"}
	h := e.ComputeHash()
	if len(h) != 64 || h != e.ComputeHash() {
		t.Fatalf("hash %q is not a stable SHA-256", h)
	}
	// Every field is covered; nanoseconds below the microsecond are not.
	for name, edit := range map[string]func(*chargedesk.AuditEntry){
		"prev":    func(e *chargedesk.AuditEntry) { e.PrevHash = "x" },
		"seq":     func(e *chargedesk.AuditEntry) { e.Seq = 2 },
		"at":      func(e *chargedesk.AuditEntry) { e.At = e.At.Add(time.Microsecond) },
		"actor":   func(e *chargedesk.AuditEntry) { e.Actor = "operator:bob" },
		"allowed": func(e *chargedesk.AuditEntry) { e.Allowed = false },
		"outcome": func(e *chargedesk.AuditEntry) { e.Outcome = "Unlocked" },
		"detail":  func(e *chargedesk.AuditEntry) { e.Detail = []byte(`{}`) },
		// Length-prefixed fields: moving a character between fields changes the hash.
		"boundary": func(e *chargedesk.AuditEntry) { e.Actor, e.CommandID = "operator:alicec", "1" },
	} {
		c := e
		edit(&c)
		if c.ComputeHash() == h {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
	c := e
	c.At = c.At.Add(100 * time.Nanosecond)
	if c.ComputeHash() != h {
		t.Error("sub-microsecond time changes the hash, but stores keep microseconds")
	}
}

func TestErrorCode(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %s", "X"))
	if chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND || chargedesk.ErrorMessage(err) != "charger X" {
		t.Fatalf("code %q message %q", chargedesk.ErrorCode(err), chargedesk.ErrorMessage(err))
	}
	plain := errors.New("secret internals")
	if chargedesk.ErrorCode(plain) != chargedesk.EINTERNAL || chargedesk.ErrorMessage(plain) != "internal error" {
		t.Fatal("a plain error leaks or is not internal")
	}
	if chargedesk.ErrorCode(nil) != "" {
		t.Fatal("nil has a code")
	}
}
