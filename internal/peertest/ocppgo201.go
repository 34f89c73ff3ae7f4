package peertest

import (
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"time"

	ocpp201 "github.com/lorenzodonini/ocpp-go/ocpp2.0.1"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/authorization"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/availability"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/data"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/diagnostics"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/meter"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/provisioning"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/remotecontrol"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/transactions"
	"github.com/lorenzodonini/ocpp-go/ocpp2.0.1/types"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// goCP201 is the OCPP 2.0.1 charging station on ocpp-go, with one EVSE of
// one connector: the scenario and the handlers of the commands chargedesk
// sends.
type goCP201 struct {
	p  *goPeer
	s  Scenario
	cs ocpp201.ChargingStation

	mu               sync.Mutex
	status           availability.ConnectorStatus // of EVSE 1 connector 1
	tx               *tx201
	meterWh          float64
	localListVersion int
	config           map[string]*configValue // "Component/Variable"
}

type tx201 struct {
	id    string
	idTag string
	seqNo int
}

func newGoCP201(p *goPeer, s Scenario, client ws.WsClient) *goCP201 {
	c := &goCP201{
		p:      p,
		s:      s,
		status: availability.ConnectorStatusAvailable,
		config: map[string]*configValue{
			"OCPPCommCtrlr/HeartbeatInterval":    {value: "300"},
			"SampledDataCtrlr/TxUpdatedInterval": {value: "60"},
			"TxCtrlr/EVConnectionTimeOut":        {value: "60"},
			"AuthCtrlr/AuthorizeRemoteStart":     {value: "true"},
			"LocalAuthListCtrlr/Enabled":         {value: "true"},
			"LocalAuthListCtrlr/Entries":         {value: "0", readonly: true},
			"DeviceDataCtrlr/ItemsPerMessage":    {value: "10", readonly: true},
		},
	}
	c.cs = ocpp201.NewChargingStation(s.ChargerID, nil, client)
	c.cs.SetProvisioningHandler(c)
	c.cs.SetAuthorizationHandler(c)
	c.cs.SetLocalAuthListHandler(c)
	c.cs.SetRemoteControlHandler(c)
	c.cs.SetAvailabilityHandler(c)
	c.cs.SetDataHandler(c)
	return c
}

func (c *goCP201) now() *types.DateTime { return types.NewDateTime(time.Now()) }

func (c *goCP201) boot(reason provisioning.BootReason) *provisioning.BootNotificationResponse {
	res, err := c.p.call(provisioning.NewBootNotificationRequest(reason, "ocpp-go", "chargedesk-interop"))
	if err != nil {
		return nil
	}
	conf := res.(*provisioning.BootNotificationResponse)
	if conf.Status == provisioning.RegistrationStatusAccepted {
		c.p.startHeartbeat(time.Duration(conf.Interval)*time.Second, func() { _, _ = c.p.call(availability.NewHeartbeatRequest()) })
	}
	return conf
}

func (c *goCP201) statusNotification(evse, connector int, status availability.ConnectorStatus) {
	if evse == 1 && connector == 1 {
		c.mu.Lock()
		c.status = status
		c.mu.Unlock()
	}
	_, _ = c.p.call(availability.NewStatusNotificationRequest(c.now(), status, evse, connector))
}

func (c *goCP201) meterValues(ctx types.ReadingContext) []types.MeterValue {
	c.mu.Lock()
	wh := c.meterWh
	c.mu.Unlock()
	return []types.MeterValue{{
		Timestamp: *c.now(),
		SampledValue: []types.SampledValue{{
			Value:         wh,
			Context:       ctx,
			Measurand:     types.MeasurandEnergyActiveImportRegister,
			UnitOfMeasure: &types.UnitOfMeasure{Unit: "Wh"},
		}},
	}}
}

func (c *goCP201) idToken(tag string) *types.IdToken {
	return &types.IdToken{IdToken: tag, Type: types.IdTokenTypeISO14443}
}

// transactionEvent sends one event of the running transaction, numbered
// with the next seqNo; fill adds the fields particular to it.
func (c *goCP201) transactionEvent(tx *tx201, typ transactions.TransactionEvent, trigger transactions.TriggerReason, info transactions.Transaction, fill func(*transactions.TransactionEventRequest)) error {
	c.mu.Lock()
	seq := tx.seqNo
	tx.seqNo++
	c.mu.Unlock()
	info.TransactionID = tx.id
	req := transactions.NewTransactionEventRequest(typ, c.now(), trigger, seq, info)
	if fill != nil {
		fill(req)
	}
	_, err := c.p.call(req)
	return err
}

func newTransactionID() string {
	return rand.Text() // 26 characters, within the 36 allowed
}

func (c *goCP201) startTransaction(tag string, remoteStartID *int) *tx201 {
	tx := &tx201{id: newTransactionID(), idTag: tag}
	c.mu.Lock()
	c.tx = tx
	c.mu.Unlock()
	trigger := transactions.TriggerReasonAuthorized
	if remoteStartID != nil {
		trigger = transactions.TriggerReasonRemoteStart
	}
	connector := 1
	err := c.transactionEvent(tx, transactions.TransactionEventStarted, trigger,
		transactions.Transaction{ChargingState: transactions.ChargingStateEVConnected, RemoteStartID: remoteStartID},
		func(r *transactions.TransactionEventRequest) {
			r.IDToken = c.idToken(tag)
			r.Evse = &types.EVSE{ID: 1, ConnectorID: &connector}
			r.MeterValue = c.meterValues(types.ReadingContextTransactionBegin)
		})
	if err != nil {
		return nil
	}
	c.statusNotification(1, 1, availability.ConnectorStatusOccupied)
	_ = c.transactionEvent(tx, transactions.TransactionEventUpdated, transactions.TriggerReasonChargingStateChanged,
		transactions.Transaction{ChargingState: transactions.ChargingStateCharging}, nil)
	return tx
}

func (c *goCP201) stopTransaction(trigger transactions.TriggerReason, reason transactions.Reason) {
	c.mu.Lock()
	tx := c.tx
	c.mu.Unlock()
	if tx == nil {
		return
	}
	_ = c.transactionEvent(tx, transactions.TransactionEventEnded, trigger,
		transactions.Transaction{ChargingState: transactions.ChargingStateIdle, StoppedReason: reason},
		func(r *transactions.TransactionEventRequest) {
			r.MeterValue = c.meterValues(types.ReadingContextTransactionEnd)
		})
	c.mu.Lock()
	c.tx = nil
	c.mu.Unlock()
	c.statusNotification(1, 1, availability.ConnectorStatusAvailable)
}

func (c *goCP201) addEnergy(wh float64) {
	c.mu.Lock()
	c.meterWh += wh
	c.mu.Unlock()
}

func (c *goCP201) scenario() {
	boot := c.boot(provisioning.BootReasonPowerUp)
	if boot == nil || boot.Status != provisioning.RegistrationStatusAccepted {
		msg := "boot not accepted: no answer"
		if boot != nil {
			msg = "boot not accepted: " + string(boot.Status)
		}
		c.p.log.add(PeerEvent{Event: EventError, Action: provisioning.BootNotificationFeatureName, Message: msg})
		return
	}
	c.statusNotification(1, 1, availability.ConnectorStatusAvailable)
	_, _ = c.p.call(authorization.NewAuthorizationRequest(c.s.IDTag, types.IdTokenTypeISO14443))
	tx := c.startTransaction(c.s.IDTag, nil)
	if tx == nil {
		return
	}
	c.addEnergy(1500)
	_ = c.transactionEvent(tx, transactions.TransactionEventUpdated, transactions.TriggerReasonMeterValuePeriodic,
		transactions.Transaction{ChargingState: transactions.ChargingStateCharging},
		func(r *transactions.TransactionEventRequest) {
			r.MeterValue = c.meterValues(types.ReadingContextSamplePeriodic)
		})
	c.addEnergy(500)
	c.stopTransaction(transactions.TriggerReasonStopAuthorized, transactions.ReasonLocal)
	c.p.log.add(PeerEvent{Event: EventScenarioDone, TransactionID: tx.id})
}

// OnRequestStartTransaction accepts when idle and available, then starts a
// transaction for the token.
func (c *goCP201) OnRequestStartTransaction(req *remotecontrol.RequestStartTransactionRequest) (*remotecontrol.RequestStartTransactionResponse, error) {
	c.mu.Lock()
	busy := c.tx != nil || c.status == availability.ConnectorStatusUnavailable
	c.mu.Unlock()
	if busy {
		return remotecontrol.NewRequestStartTransactionResponse(remotecontrol.RequestStartStopStatusRejected), nil
	}
	tag, remoteID := req.IDToken.IdToken, req.RemoteStartID
	c.p.afterResponse(func() { c.startTransaction(tag, &remoteID) })
	return remotecontrol.NewRequestStartTransactionResponse(remotecontrol.RequestStartStopStatusAccepted), nil
}

// OnRequestStopTransaction accepts for the running transaction, then ends it.
func (c *goCP201) OnRequestStopTransaction(req *remotecontrol.RequestStopTransactionRequest) (*remotecontrol.RequestStopTransactionResponse, error) {
	c.mu.Lock()
	running := c.tx != nil && c.tx.id == req.TransactionID
	c.mu.Unlock()
	if !running {
		return remotecontrol.NewRequestStopTransactionResponse(remotecontrol.RequestStartStopStatusRejected), nil
	}
	c.p.afterResponse(func() { c.stopTransaction(transactions.TriggerReasonRemoteStop, transactions.ReasonRemote) })
	return remotecontrol.NewRequestStopTransactionResponse(remotecontrol.RequestStartStopStatusAccepted), nil
}

// OnReset accepts every reset and does nothing.
func (c *goCP201) OnReset(*provisioning.ResetRequest) (*provisioning.ResetResponse, error) {
	return provisioning.NewResetResponse(provisioning.ResetStatusAccepted), nil
}

// OnUnlockConnector unlocks EVSE 1 connector 1.
func (c *goCP201) OnUnlockConnector(req *remotecontrol.UnlockConnectorRequest) (*remotecontrol.UnlockConnectorResponse, error) {
	if req.EvseID != 1 || req.ConnectorID != 1 {
		return remotecontrol.NewUnlockConnectorResponse(remotecontrol.UnlockStatusUnknownConnector), nil
	}
	return remotecontrol.NewUnlockConnectorResponse(remotecontrol.UnlockStatusUnlocked), nil
}

// OnTriggerMessage accepts the messages a station can send and sends the
// requested one after the answer.
func (c *goCP201) OnTriggerMessage(req *remotecontrol.TriggerMessageRequest) (*remotecontrol.TriggerMessageResponse, error) {
	evse, connector := 1, 1
	if req.Evse != nil {
		evse = req.Evse.ID
		if req.Evse.ConnectorID != nil {
			connector = *req.Evse.ConnectorID
		}
	}
	c.mu.Lock()
	tx := c.tx
	c.mu.Unlock()
	var follow func()
	switch req.RequestedMessage {
	case remotecontrol.MessageTriggerBootNotification:
		follow = func() { c.boot(provisioning.BootReasonTriggered) }
	case remotecontrol.MessageTriggerHeartbeat:
		follow = func() { _, _ = c.p.call(availability.NewHeartbeatRequest()) }
	case remotecontrol.MessageTriggerStatusNotification:
		follow = func() {
			c.mu.Lock()
			status := c.status
			c.mu.Unlock()
			c.statusNotification(evse, connector, status)
		}
	case remotecontrol.MessageTriggerMeterValues:
		follow = func() { _, _ = c.p.call(meter.NewMeterValuesRequest(evse, c.meterValues(types.ReadingContextTrigger))) }
	case remotecontrol.MessageTriggerTransactionEvent:
		if tx == nil {
			return remotecontrol.NewTriggerMessageResponse(remotecontrol.TriggerMessageStatusRejected), nil
		}
		follow = func() {
			_ = c.transactionEvent(tx, transactions.TransactionEventUpdated, transactions.TriggerReasonTrigger,
				transactions.Transaction{ChargingState: transactions.ChargingStateCharging},
				func(r *transactions.TransactionEventRequest) {
					r.MeterValue = c.meterValues(types.ReadingContextTrigger)
				})
		}
	case remotecontrol.MessageTriggerLogStatusNotification:
		follow = func() {
			_, _ = c.p.call(diagnostics.NewLogStatusNotificationRequest(diagnostics.UploadLogStatusIdle, 0))
		}
	case remotecontrol.MessageTriggerFirmwareStatusNotification:
		follow = func() { _, _ = c.p.call(firmware.NewFirmwareStatusNotificationRequest(firmware.FirmwareStatusIdle)) }
	default:
		return remotecontrol.NewTriggerMessageResponse(remotecontrol.TriggerMessageStatusNotImplemented), nil
	}
	c.p.afterResponse(follow)
	return remotecontrol.NewTriggerMessageResponse(remotecontrol.TriggerMessageStatusAccepted), nil
}

// OnChangeAvailability accepts, or schedules going inoperative during a
// transaction, and reports the new status.
func (c *goCP201) OnChangeAvailability(req *availability.ChangeAvailabilityRequest) (*availability.ChangeAvailabilityResponse, error) {
	next := availability.ConnectorStatusAvailable
	if req.OperationalStatus == availability.OperationalStatusInoperative {
		next = availability.ConnectorStatusUnavailable
	}
	c.mu.Lock()
	busy := c.tx != nil
	c.mu.Unlock()
	if busy && next == availability.ConnectorStatusUnavailable {
		return availability.NewChangeAvailabilityResponse(availability.ChangeAvailabilityStatusScheduled), nil
	}
	c.p.afterResponse(func() { c.statusNotification(1, 1, next) })
	return availability.NewChangeAvailabilityResponse(availability.ChangeAvailabilityStatusAccepted), nil
}

// OnClearCache accepts.
func (c *goCP201) OnClearCache(*authorization.ClearCacheRequest) (*authorization.ClearCacheResponse, error) {
	return authorization.NewClearCacheResponse(authorization.ClearCacheStatusAccepted), nil
}

// OnGetLocalListVersion reports the version of the last list accepted.
func (c *goCP201) OnGetLocalListVersion(*localauth.GetLocalListVersionRequest) (*localauth.GetLocalListVersionResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return localauth.NewGetLocalListVersionResponse(c.localListVersion), nil
}

// OnSendLocalList stores the list version; a differential update must raise it.
func (c *goCP201) OnSendLocalList(req *localauth.SendLocalListRequest) (*localauth.SendLocalListResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.UpdateType == localauth.UpdateTypeDifferential && req.VersionNumber <= c.localListVersion {
		return localauth.NewSendLocalListResponse(localauth.SendLocalListStatusVersionMismatch), nil
	}
	c.localListVersion = req.VersionNumber
	return localauth.NewSendLocalListResponse(localauth.SendLocalListStatusAccepted), nil
}

// variable looks a component variable up: its value, whether the component
// is known, and whether the variable is.
func (c *goCP201) variable(component, variable string) (*configValue, bool, bool) {
	v, ok := c.config[component+"/"+variable]
	if ok {
		return v, true, true
	}
	for k := range c.config {
		if strings.HasPrefix(k, component+"/") {
			return nil, true, false
		}
	}
	return nil, false, false
}

// OnGetVariables reports the Actual value of known variables.
func (c *goCP201) OnGetVariables(req *provisioning.GetVariablesRequest) (*provisioning.GetVariablesResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	results := make([]provisioning.GetVariableResult, 0, len(req.GetVariableData))
	for _, d := range req.GetVariableData {
		r := provisioning.GetVariableResult{Component: d.Component, Variable: d.Variable, AttributeType: d.AttributeType}
		v, knownComponent, known := c.variable(d.Component.Name, d.Variable.Name)
		switch {
		case !knownComponent:
			r.AttributeStatus = provisioning.GetVariableStatusUnknownComponent
		case !known:
			r.AttributeStatus = provisioning.GetVariableStatusUnknownVariable
		case d.AttributeType != "" && d.AttributeType != types.AttributeActual:
			r.AttributeStatus = provisioning.GetVariableStatusNotSupported
		default:
			r.AttributeStatus = provisioning.GetVariableStatusAccepted
			r.AttributeValue = v.value
		}
		results = append(results, r)
	}
	return provisioning.NewGetVariablesResponse(results), nil
}

// OnSetVariables sets known writable variables.
func (c *goCP201) OnSetVariables(req *provisioning.SetVariablesRequest) (*provisioning.SetVariablesResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	results := make([]provisioning.SetVariableResult, 0, len(req.SetVariableData))
	for _, d := range req.SetVariableData {
		r := provisioning.SetVariableResult{Component: d.Component, Variable: d.Variable, AttributeType: d.AttributeType}
		v, knownComponent, known := c.variable(d.Component.Name, d.Variable.Name)
		switch {
		case !knownComponent:
			r.AttributeStatus = provisioning.SetVariableStatusUnknownComponent
		case !known:
			r.AttributeStatus = provisioning.SetVariableStatusUnknownVariable
		case v.readonly:
			r.AttributeStatus = provisioning.SetVariableStatusRejected
		default:
			v.value = d.AttributeValue
			r.AttributeStatus = provisioning.SetVariableStatusAccepted
		}
		results = append(results, r)
	}
	return provisioning.NewSetVariablesResponse(results), nil
}

// OnGetBaseReport is not supported by this station.
func (c *goCP201) OnGetBaseReport(*provisioning.GetBaseReportRequest) (*provisioning.GetBaseReportResponse, error) {
	return provisioning.NewGetBaseReportResponse(types.GenericDeviceModelStatusNotSupported), nil
}

// OnGetReport is not supported by this station.
func (c *goCP201) OnGetReport(*provisioning.GetReportRequest) (*provisioning.GetReportResponse, error) {
	return provisioning.NewGetReportResponse(types.GenericDeviceModelStatusNotSupported), nil
}

// OnSetNetworkProfile is answered with a CALLERROR: ocpp-go would marshal a
// refusal with "statusInfo": null, which the schema forbids.
func (c *goCP201) OnSetNetworkProfile(*provisioning.SetNetworkProfileRequest) (*provisioning.SetNetworkProfileResponse, error) {
	return nil, fmt.Errorf("set network profile is not supported by this station")
}

// OnDataTransfer accepts vendor "chargedesk" and echoes its data.
func (c *goCP201) OnDataTransfer(req *data.DataTransferRequest) (*data.DataTransferResponse, error) {
	if req.VendorID != "chargedesk" {
		return data.NewDataTransferResponse(data.DataTransferStatusUnknownVendorId), nil
	}
	res := data.NewDataTransferResponse(data.DataTransferStatusAccepted)
	res.Data = req.Data
	return res, nil
}
