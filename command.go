package chargedesk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// CommandKind names a version-agnostic remote command. Each maps to one
// OCPP 1.6 and one OCPP 2.0.1 message.
type CommandKind string

// Commands, with their 1.6 / 2.0.1 messages.
const (
	CmdRemoteStart         CommandKind = "RemoteStart"         // RemoteStartTransaction / RequestStartTransaction
	CmdRemoteStop          CommandKind = "RemoteStop"          // RemoteStopTransaction / RequestStopTransaction
	CmdReset               CommandKind = "Reset"               // Reset Soft|Hard / Reset OnIdle|Immediate
	CmdUnlockConnector     CommandKind = "UnlockConnector"     // UnlockConnector
	CmdTriggerMessage      CommandKind = "TriggerMessage"      // TriggerMessage
	CmdChangeAvailability  CommandKind = "ChangeAvailability"  // ChangeAvailability
	CmdClearCache          CommandKind = "ClearCache"          // ClearCache
	CmdSendLocalList       CommandKind = "SendLocalList"       // SendLocalList
	CmdGetLocalListVersion CommandKind = "GetLocalListVersion" // GetLocalListVersion
	CmdGetConfiguration    CommandKind = "GetConfiguration"    // GetConfiguration / GetVariables
	CmdChangeConfiguration CommandKind = "ChangeConfiguration" // ChangeConfiguration / SetVariables
	CmdDataTransfer        CommandKind = "DataTransfer"        // DataTransfer
)

// CommandKinds lists every command kind.
var CommandKinds = []CommandKind{
	CmdRemoteStart, CmdRemoteStop, CmdReset, CmdUnlockConnector, CmdTriggerMessage,
	CmdChangeAvailability, CmdClearCache, CmdSendLocalList, CmdGetLocalListVersion,
	CmdGetConfiguration, CmdChangeConfiguration, CmdDataTransfer,
}

// Reset types. Soft maps to 2.0.1 OnIdle, Hard to Immediate.
const (
	ResetSoft = "Soft"
	ResetHard = "Hard"
)

// Availability values of ChangeAvailability.
const (
	AvailabilityOperative   = "Operative"
	AvailabilityInoperative = "Inoperative"
)

// Messages a TriggerMessage command may ask for. TransactionEvent is a
// transaction's current state and meter reading: 2.0.1 sends it as a
// TransactionEvent Updated, 1.6 (which has no such message) is asked for
// MeterValues, which carry the transaction's reading.
var TriggerableMessages = []string{"StatusNotification", "Heartbeat", "BootNotification", "MeterValues", "TransactionEvent"}

// Local list update types.
const (
	UpdateFull         = "Full"
	UpdateDifferential = "Differential"
)

// DefaultCommandTimeout is a command's deadline when it sets none.
const DefaultCommandTimeout = 30 * time.Second

// MaxCommandTimeout bounds a command's deadline.
const MaxCommandTimeout = 5 * time.Minute

// Command is a remote command to one charger. Which fields matter depends on
// Kind; Validate says which are required.
type Command struct {
	// ID correlates the command's audit entries; NewCommandID makes one.
	ID        string      `json:"id,omitempty"`
	Kind      CommandKind `json:"kind"`
	ChargerID string      `json:"chargerId"`
	// ConnectorID is the connector (1.6) or EVSE (2.0.1); 0 means the whole
	// charger where the message allows it.
	ConnectorID   int    `json:"connectorId,omitempty"`
	IDTag         string `json:"idTag,omitempty"`
	TransactionID string `json:"transactionId,omitempty"`
	ResetType     string `json:"resetType,omitempty"`
	Trigger       string `json:"trigger,omitempty"`
	Availability  string `json:"availability,omitempty"`

	// SendLocalList.
	ListVersion int              `json:"listVersion,omitempty"`
	UpdateType  string           `json:"updateType,omitempty"`
	LocalList   []LocalListEntry `json:"localList,omitempty"`

	// GetConfiguration: Keys (all when empty). ChangeConfiguration: Key and
	// Value. For 2.0.1 a key is "Component.Variable" or
	// "Component[instance].Variable"; a bare 1.6 key name is looked up in a
	// table of equivalents.
	Keys  []string `json:"keys,omitempty"`
	Key   string   `json:"key,omitempty"`
	Value string   `json:"value,omitempty"`

	// DataTransfer.
	VendorID  string `json:"vendorId,omitempty"`
	MessageID string `json:"messageId,omitempty"`
	Data      string `json:"data,omitempty"`

	// Timeout is the deadline for the charger's answer.
	Timeout time.Duration `json:"timeout,omitempty"`

	// Actor is who asked (an operator's key name, "agent:<conversation>");
	// Reason is why. Both go to the audit log.
	Actor  string `json:"actor,omitempty"`
	Reason string `json:"reason,omitempty"`
	// DriverID is the driver an agent acts for, once the caller has been
	// verified to be that driver; the policy checks that sessions and
	// tokens touched are theirs. Empty for operators.
	DriverID string `json:"driverId,omitempty"`
}

// AgentActorPrefix starts the Actor of every command the support agent
// sends; the policy holds such commands to the agent's stricter rules.
const AgentActorPrefix = "agent:"

// ByAgent reports whether the support agent sent the command.
func (c *Command) ByAgent() bool { return strings.HasPrefix(c.Actor, AgentActorPrefix) }

// LocalListEntry is one entry of a SendLocalList. In a Differential update an
// entry without Status removes the token from the charger's list.
type LocalListEntry struct {
	IDTag       string     `json:"idTag"`
	Status      AuthStatus `json:"status,omitempty"`
	ExpiresAt   time.Time  `json:"expiresAt,omitzero"`
	ParentIDTag string     `json:"parentIdTag,omitempty"`
}

// NewConversationID returns a random conversation id ("C-" and 32 hex
// digits).
func NewConversationID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "C-" + hex.EncodeToString(b)
}

// NewCommandID returns a random command id.
func NewCommandID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Validate checks that the command has what its kind needs and fills
// defaults (Timeout).
func (c *Command) Validate() error {
	if err := ValidateChargerID(c.ChargerID); err != nil {
		return err
	}
	if c.ConnectorID < 0 || c.ConnectorID > 100 {
		return Errorf(EINVALID, "connectorId %d is out of range", c.ConnectorID)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultCommandTimeout
	}
	if c.Timeout < 0 || c.Timeout > MaxCommandTimeout {
		return Errorf(EINVALID, "timeout must be between 0 and %s", MaxCommandTimeout)
	}
	if len(c.ID) > 64 {
		return Errorf(EINVALID, "command id is longer than 64 characters")
	}
	if len(c.Reason) > 500 || len(c.Actor) > 100 || len(c.DriverID) > 64 {
		return Errorf(EINVALID, "actor or reason is too long")
	}
	need := func(ok bool, what string) error {
		if !ok {
			return Errorf(EINVALID, "%s needs %s", c.Kind, what)
		}
		return nil
	}
	switch c.Kind {
	case CmdRemoteStart:
		if err := need(c.IDTag != "" && len(c.IDTag) <= MaxIDTagLen, "an idTag of at most 36 characters"); err != nil {
			return err
		}
	case CmdRemoteStop:
		return need(c.TransactionID != "" && len(c.TransactionID) <= 36, "a transactionId")
	case CmdReset:
		return need(c.ResetType == ResetSoft || c.ResetType == ResetHard, "resetType Soft or Hard")
	case CmdUnlockConnector:
		return need(c.ConnectorID > 0, "a connectorId above 0")
	case CmdTriggerMessage:
		for _, m := range TriggerableMessages {
			if c.Trigger == m {
				return nil
			}
		}
		return need(false, "trigger StatusNotification, Heartbeat, BootNotification, MeterValues or TransactionEvent")
	case CmdChangeAvailability:
		return need(c.Availability == AvailabilityOperative || c.Availability == AvailabilityInoperative, "availability Operative or Inoperative")
	case CmdClearCache, CmdGetLocalListVersion:
	case CmdSendLocalList:
		if err := need(c.UpdateType == UpdateFull || c.UpdateType == UpdateDifferential, "updateType Full or Differential"); err != nil {
			return err
		}
		if err := need(c.ListVersion > 0, "a listVersion above 0"); err != nil {
			return err
		}
		if len(c.LocalList) > 1000 {
			return Errorf(EINVALID, "localList has more than 1000 entries")
		}
		for _, e := range c.LocalList {
			if e.IDTag == "" || len(e.IDTag) > MaxIDTagLen {
				return Errorf(EINVALID, "localList entry idTag must be 1 to %d characters", MaxIDTagLen)
			}
			switch e.Status {
			case AuthAccepted, AuthBlocked, AuthExpired, AuthInvalid, AuthConcurrentTx:
			case "":
				if c.UpdateType == UpdateFull {
					return Errorf(EINVALID, "a Full localList entry needs a status")
				}
			default:
				return Errorf(EINVALID, "localList entry status %q is not valid", e.Status)
			}
		}
	case CmdGetConfiguration:
		if len(c.Keys) > 100 {
			return Errorf(EINVALID, "at most 100 keys")
		}
		for _, k := range c.Keys {
			if k == "" || len(k) > 100 {
				return Errorf(EINVALID, "a configuration key must be 1 to 100 characters")
			}
		}
	case CmdChangeConfiguration:
		if err := need(c.Key != "" && len(c.Key) <= 100, "a key of at most 100 characters"); err != nil {
			return err
		}
		return need(len(c.Value) <= 500, "a value of at most 500 characters")
	case CmdDataTransfer:
		if err := need(c.VendorID != "" && len(c.VendorID) <= 255, "a vendorId of at most 255 characters"); err != nil {
			return err
		}
		if len(c.MessageID) > 50 || len(c.Data) > 64<<10 {
			return Errorf(EINVALID, "DataTransfer messageId or data is too long")
		}
	default:
		return Errorf(EINVALID, "unknown command kind %q", c.Kind)
	}
	return nil
}

// ResultStatus is the outcome of a command. Most values are the charger's own
// status word (Accepted, Rejected, Unlocked, ...); Timeout, ChargerOffline and
// CallError say that no status word came back.
type ResultStatus string

// Result statuses. The charger's words pass through as they are; these are
// the ones chargedesk adds or maps.
const (
	ResultAccepted                     ResultStatus = "Accepted"
	ResultRejected                     ResultStatus = "Rejected"
	ResultScheduled                    ResultStatus = "Scheduled"
	ResultRebootRequired               ResultStatus = "RebootRequired"
	ResultNotSupported                 ResultStatus = "NotSupported"
	ResultUnlocked                     ResultStatus = "Unlocked"
	ResultUnlockFailed                 ResultStatus = "UnlockFailed"
	ResultOngoingAuthorizedTransaction ResultStatus = "OngoingAuthorizedTransaction"
	ResultUnknownConnector             ResultStatus = "UnknownConnector"
	ResultNotImplemented               ResultStatus = "NotImplemented"
	ResultFailed                       ResultStatus = "Failed"
	ResultVersionMismatch              ResultStatus = "VersionMismatch"
	ResultUnknownVendorID              ResultStatus = "UnknownVendorId"
	ResultUnknownMessageID             ResultStatus = "UnknownMessageId"
	// ResultTimeout: the charger did not answer before the deadline.
	ResultTimeout ResultStatus = "Timeout"
	// ResultChargerOffline: no node holds a connection to the charger.
	ResultChargerOffline ResultStatus = "ChargerOffline"
	// ResultCallError: the charger answered with a CALLERROR (see ErrorCode).
	ResultCallError ResultStatus = "CallError"
	// ResultRefused: the policy did not allow the command, or in proxy mode
	// it would have clashed with the upstream's command in flight; nothing
	// was sent.
	ResultRefused ResultStatus = "Refused"
)

// Result is a charger's answer to a command.
type Result struct {
	CommandID string       `json:"commandId,omitempty"`
	Status    ResultStatus `json:"status"`
	// Detail is extra text: statusInfo reason codes, the CallError
	// description, the policy's reason.
	Detail string `json:"detail,omitempty"`
	// ErrorCode is the CallError code when Status is CallError.
	ErrorCode string `json:"errorCode,omitempty"`
	// ListVersion answers GetLocalListVersion.
	ListVersion int `json:"listVersion,omitempty"`
	// Configuration and UnknownKeys answer GetConfiguration.
	Configuration []ConfigurationValue `json:"configuration,omitempty"`
	UnknownKeys   []string             `json:"unknownKeys,omitempty"`
	// Data answers DataTransfer.
	Data string `json:"data,omitempty"`
	// TransactionID answers a 2.0.1 RequestStartTransaction when the
	// charger already had a transaction (cable plugged in first) that the
	// request authorizes; RemoteStartID is the id sent with the request,
	// which the TransactionEvent it causes carries back.
	TransactionID string `json:"transactionId,omitempty"`
	RemoteStartID int    `json:"remoteStartId,omitempty"`
	// Protocol is the version the command was sent in.
	Protocol Protocol `json:"protocol,omitempty"`
	// Elapsed is the round trip to the charger.
	Elapsed time.Duration `json:"elapsed"`
}

// ConfigurationValue is one configuration key (1.6) or variable (2.0.1).
type ConfigurationValue struct {
	Key      string `json:"key"`
	Value    string `json:"value,omitempty"`
	ReadOnly bool   `json:"readonly"`
	// Status is the 2.0.1 GetVariableStatus when not Accepted.
	Status string `json:"status,omitempty"`
}

// Commander sends a command to a charger, wherever its connection is, and
// returns its answer. An invalid command is an EINVALID error; a charger that
// is offline or silent is a Result (ChargerOffline, Timeout), not an error.
type Commander interface {
	Send(ctx context.Context, cmd Command) (Result, error)
}
