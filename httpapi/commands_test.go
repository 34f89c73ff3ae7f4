package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/httpapi"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// commandAnswer is the command result as a client reads it.
type commandAnswer struct {
	CommandID string `json:"commandId"`
	Status    string `json:"status"`
	Detail    string `json:"detail"`
	ErrorCode string `json:"errorCode"`
	Protocol  string `json:"protocol"`
	ElapsedMs int64  `json:"elapsedMs"`
}

func TestCommandSend(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		body    string
		result  chargedesk.Result
		wantCmd chargedesk.Command // ID checked apart when empty
		want    commandAnswer
	}{
		{
			name:   "remote start, actor forced",
			key:    aliceKey,
			body:   `{"kind":"RemoteStart","connectorId":1,"idTag":"TAG1","timeout":"45s","reason":"driver called"}`,
			result: chargedesk.Result{Status: chargedesk.ResultAccepted, Protocol: chargedesk.OCPP16, Elapsed: 1234*time.Millisecond + 500*time.Microsecond},
			wantCmd: chargedesk.Command{Kind: chargedesk.CmdRemoteStart, ChargerID: "CP1", ConnectorID: 1, IDTag: "TAG1",
				Timeout: 45 * time.Second, Actor: "operator:alice", Reason: "driver called"},
			want: commandAnswer{Status: "Accepted", Protocol: "ocpp1.6", ElapsedMs: 1234},
		},
		{
			name:    "other key, default timeout, own id, matching chargerId",
			key:     bobKey,
			body:    `{"id":"cmd-42","kind":"Reset","chargerId":"CP1","resetType":"Soft"}`,
			result:  chargedesk.Result{CommandID: "cmd-42", Status: chargedesk.ResultAccepted},
			wantCmd: chargedesk.Command{ID: "cmd-42", Kind: chargedesk.CmdReset, ChargerID: "CP1", ResetType: "Soft", Timeout: chargedesk.DefaultCommandTimeout, Actor: "operator:bob"},
			want:    commandAnswer{CommandID: "cmd-42", Status: "Accepted"},
		},
		{
			name:    "timeout is an answer",
			key:     aliceKey,
			body:    `{"kind":"UnlockConnector","connectorId":2,"timeout":"1m"}`,
			result:  chargedesk.Result{Status: chargedesk.ResultTimeout, Elapsed: time.Minute},
			wantCmd: chargedesk.Command{Kind: chargedesk.CmdUnlockConnector, ChargerID: "CP1", ConnectorID: 2, Timeout: time.Minute, Actor: "operator:alice"},
			want:    commandAnswer{Status: "Timeout", ElapsedMs: 60000},
		},
		{
			name:    "offline is an answer",
			key:     aliceKey,
			body:    `{"kind":"TriggerMessage","trigger":"StatusNotification"}`,
			result:  chargedesk.Result{Status: chargedesk.ResultChargerOffline},
			wantCmd: chargedesk.Command{Kind: chargedesk.CmdTriggerMessage, ChargerID: "CP1", Trigger: "StatusNotification", Timeout: chargedesk.DefaultCommandTimeout, Actor: "operator:alice"},
			want:    commandAnswer{Status: "ChargerOffline"},
		},
		{
			name:    "refused is an answer",
			key:     aliceKey,
			body:    `{"kind":"RemoteStop","transactionId":"7"}`,
			result:  chargedesk.Result{Status: chargedesk.ResultRefused, Detail: "transaction belongs to another driver"},
			wantCmd: chargedesk.Command{Kind: chargedesk.CmdRemoteStop, ChargerID: "CP1", TransactionID: "7", Timeout: chargedesk.DefaultCommandTimeout, Actor: "operator:alice"},
			want:    commandAnswer{Status: "Refused", Detail: "transaction belongs to another driver"},
		},
		{
			name:    "call error is an answer",
			key:     aliceKey,
			body:    `{"kind":"ClearCache"}`,
			result:  chargedesk.Result{Status: chargedesk.ResultCallError, ErrorCode: "NotSupported", Detail: "no cache"},
			wantCmd: chargedesk.Command{Kind: chargedesk.CmdClearCache, ChargerID: "CP1", Timeout: chargedesk.DefaultCommandTimeout, Actor: "operator:alice"},
			want:    commandAnswer{Status: "CallError", ErrorCode: "NotSupported", Detail: "no cache"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := newCalls[chargedesk.Command]()
			cmdr := &fakeCommander{SendFn: func(_ context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
				sent.add(cmd)
				return tt.result, nil
			}}
			api := start(t, httpapi.Config{Commands: cmdr})
			res := api.raw("POST", "/api/v1/chargers/CP1/commands", strings.NewReader(tt.body),
				map[string]string{"Authorization": "Bearer " + tt.key})
			var got commandAnswer
			wantJSON(t, res, http.StatusOK, &got)
			cmds := sent.all()
			if len(cmds) != 1 {
				t.Fatalf("Send called %d times, want 1", len(cmds))
			}
			if cmds[0].ID == "" {
				t.Error("the command was sent without an id")
			}
			ignoreID := cmpopts.IgnoreFields(chargedesk.Command{}, "ID")
			if tt.wantCmd.ID != "" {
				ignoreID = cmp.Options{}
			}
			if diff := cmp.Diff(tt.wantCmd, cmds[0], ignoreID); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			if tt.want.CommandID == "" {
				tt.want.CommandID = cmds[0].ID // filled in from the command when the result has none
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if strings.Contains(string(res.body), `"elapsed"`) {
				t.Errorf("answer %s has elapsed in nanoseconds; want elapsedMs only", res.body)
			}
		})
	}
}

func TestCommandSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		path, body string
		sendErr    error // nil: Send must not be called
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{name: "actor in body", body: `{"kind":"ClearCache","actor":"agent:c1"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "actor is set from the api key"},
		{name: "chargerId differs", body: `{"kind":"ClearCache","chargerId":"CP2"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "differs"},
		{name: "unknown kind", body: `{"kind":"SelfDestruct"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "unknown command kind"},
		{name: "no kind", body: `{}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "unknown command kind"},
		{name: "reset without type", body: `{"kind":"Reset"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "resetType"},
		{name: "remote start without idTag", body: `{"kind":"RemoteStart"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "idTag"},
		{name: "timeout as number", body: `{"kind":"ClearCache","timeout":30000}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: `duration string such as "30s"`},
		{name: "timeout unparsable", body: `{"kind":"ClearCache","timeout":"soon"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: `"soon" is not a duration`},
		{name: "timeout too long", body: `{"kind":"ClearCache","timeout":"6m"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "timeout must be between"},
		{name: "id too long", body: `{"kind":"ClearCache","id":"` + strings.Repeat("i", 65) + `"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "command id"},
		{name: "unknown field", body: `{"kind":"ClearCache","force":true}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: `unknown field "force"`},
		{name: "bad charger id", path: "/api/v1/chargers/a:b/commands", body: `{"kind":"ClearCache"}`, wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "character outside"},
		{name: "commander says invalid", body: `{"kind":"ClearCache"}`, sendErr: chargedesk.Errorf(chargedesk.EINVALID, "charger CP1 is not registered"), wantStatus: 400, wantCode: chargedesk.EINVALID, wantMsg: "not registered"},
		{name: "commander times out", body: `{"kind":"ClearCache"}`, sendErr: chargedesk.Errorf(chargedesk.ETIMEOUT, "bus request timed out"), wantStatus: 504, wantCode: chargedesk.ETIMEOUT, wantMsg: "bus"},
		{name: "bus unavailable", body: `{"kind":"ClearCache"}`, sendErr: chargedesk.Errorf(chargedesk.EUNAVAILABLE, "bus down"), wantStatus: 503, wantCode: chargedesk.EUNAVAILABLE, wantMsg: "bus down"},
		{name: "commander fails", body: `{"kind":"ClearCache"}`, sendErr: errors.New("nats: secret"), wantStatus: 500, wantCode: chargedesk.EINTERNAL, wantMsg: "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := newCalls[chargedesk.Command]()
			cmdr := &fakeCommander{SendFn: func(_ context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
				sent.add(cmd)
				return chargedesk.Result{}, tt.sendErr
			}}
			api := start(t, httpapi.Config{Commands: cmdr})
			path := tt.path
			if path == "" {
				path = "/api/v1/chargers/CP1/commands"
			}
			wantError(t, api.call("POST", path, tt.body), tt.wantStatus, tt.wantCode, tt.wantMsg)
			n := len(sent.all())
			if wantSent := tt.sendErr != nil; (n == 1) != wantSent || n > 1 {
				t.Errorf("Send called %d times, want it called %v", n, wantSent)
			}
		})
	}
}
