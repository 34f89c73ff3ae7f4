package peertest

import (
	"strconv"
	"sync"
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/firmware"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/localauth"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/remotetrigger"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"
	"github.com/lorenzodonini/ocpp-go/ws"
)

// goCP16 is the OCPP 1.6 charge point on ocpp-go: the scenario and the
// handlers of the Core, LocalAuthListManagement and RemoteTrigger profiles.
type goCP16 struct {
	p  *goPeer
	s  Scenario
	cp ocpp16.ChargePoint

	mu     sync.Mutex
	status core.ChargePointStatus // of connector 1
	tx     *tx16
	// starting is closed once a StartTransaction in flight has its
	// answer (nil when none is): the CSMS may ask to stop the
	// transaction the moment it answered, before the peer took its id.
	starting         chan struct{}
	meterWh          int
	localListVersion int
	config           map[string]*configValue
}

type tx16 struct {
	id    int
	idTag string
}

// configValue is one configuration key (1.6) or component variable (2.0.1).
type configValue struct {
	value    string
	readonly bool
}

func newGoCP16(p *goPeer, s Scenario, client ws.WsClient) *goCP16 {
	c := &goCP16{
		p:      p,
		s:      s,
		status: core.ChargePointStatusAvailable,
		config: map[string]*configValue{
			"HeartbeatInterval":         {value: "300"},
			"MeterValueSampleInterval":  {value: "60"},
			"ConnectionTimeOut":         {value: "60"},
			"AuthorizeRemoteTxRequests": {value: "true"},
			"LocalAuthListEnabled":      {value: "true"},
			"LocalAuthListMaxLength":    {value: "100", readonly: true},
			"NumberOfConnectors":        {value: "1", readonly: true},
			"SupportedFeatureProfiles":  {value: "Core,LocalAuthListManagement,RemoteTrigger", readonly: true},
		},
	}
	c.cp = ocpp16.NewChargePoint(s.ChargerID, nil, client)
	c.cp.SetCoreHandler(c)
	c.cp.SetLocalAuthListHandler(c)
	c.cp.SetRemoteTriggerHandler(c)
	return c
}

func (c *goCP16) now() *types.DateTime { return types.NewDateTime(time.Now()) }

func (c *goCP16) boot() *core.BootNotificationConfirmation {
	res, err := c.p.call(core.NewBootNotificationRequest("ocpp-go", "chargedesk-interop"))
	if err != nil {
		return nil
	}
	conf := res.(*core.BootNotificationConfirmation)
	if conf.Status == core.RegistrationStatusAccepted {
		c.p.startHeartbeat(time.Duration(conf.Interval)*time.Second, func() { _, _ = c.p.call(core.NewHeartbeatRequest()) })
	}
	return conf
}

func (c *goCP16) statusNotification(connectorID int, status core.ChargePointStatus) {
	if connectorID == 1 {
		c.mu.Lock()
		c.status = status
		c.mu.Unlock()
	}
	req := core.NewStatusNotificationRequest(connectorID, core.NoError, status)
	req.Timestamp = c.now()
	_, _ = c.p.call(req)
}

func (c *goCP16) meterValues() []types.MeterValue {
	c.mu.Lock()
	wh := c.meterWh
	c.mu.Unlock()
	return []types.MeterValue{{
		Timestamp: c.now(),
		SampledValue: []types.SampledValue{{
			Value:     strconv.Itoa(wh),
			Context:   types.ReadingContextSamplePeriodic,
			Measurand: types.MeasurandEnergyActiveImportRegister,
			Unit:      types.UnitOfMeasureWh,
		}},
	}}
}

func (c *goCP16) startTransaction(idTag string) *tx16 {
	c.mu.Lock()
	wh := c.meterWh
	started := make(chan struct{})
	c.starting = started
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.starting = nil
		c.mu.Unlock()
		close(started)
	}()
	res, err := c.p.call(core.NewStartTransactionRequest(1, idTag, wh, c.now()))
	if err != nil {
		return nil
	}
	tx := &tx16{id: res.(*core.StartTransactionConfirmation).TransactionId, idTag: idTag}
	c.mu.Lock()
	c.tx = tx
	c.mu.Unlock()
	c.statusNotification(1, core.ChargePointStatusCharging)
	return tx
}

func (c *goCP16) stopTransaction(reason core.Reason) {
	c.mu.Lock()
	tx, wh := c.tx, c.meterWh
	c.tx = nil
	c.mu.Unlock()
	if tx == nil {
		return
	}
	req := core.NewStopTransactionRequest(wh, c.now(), tx.id)
	req.IdTag = tx.idTag
	req.Reason = reason
	_, _ = c.p.call(req)
	c.statusNotification(1, core.ChargePointStatusAvailable)
}

func (c *goCP16) addEnergy(wh int) {
	c.mu.Lock()
	c.meterWh += wh
	c.mu.Unlock()
}

func (c *goCP16) scenario() {
	boot := c.boot()
	if boot == nil || boot.Status != core.RegistrationStatusAccepted {
		msg := "boot not accepted: no answer"
		if boot != nil {
			msg = "boot not accepted: " + string(boot.Status)
		}
		c.p.log.add(PeerEvent{Event: EventError, Action: core.BootNotificationFeatureName, Message: msg})
		return
	}
	c.statusNotification(1, core.ChargePointStatusAvailable)
	_, _ = c.p.call(core.NewAuthorizationRequest(c.s.IDTag))
	tx := c.startTransaction(c.s.IDTag)
	if tx == nil {
		return
	}
	c.addEnergy(1500)
	mv := core.NewMeterValuesRequest(1, c.meterValues())
	mv.TransactionId = &tx.id
	_, _ = c.p.call(mv)
	c.addEnergy(500)
	c.stopTransaction(core.ReasonLocal)
	c.p.log.add(PeerEvent{Event: EventScenarioDone, TransactionID: strconv.Itoa(tx.id)})
}

// OnRemoteStartTransaction accepts when no transaction runs and the
// connector is available, then starts one with the given idTag.
func (c *goCP16) OnRemoteStartTransaction(req *core.RemoteStartTransactionRequest) (*core.RemoteStartTransactionConfirmation, error) {
	c.mu.Lock()
	busy := c.tx != nil || c.status == core.ChargePointStatusUnavailable
	c.mu.Unlock()
	if busy {
		return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusRejected), nil
	}
	c.p.afterResponse(func() { c.startTransaction(req.IdTag) })
	return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}

// OnRemoteStopTransaction accepts for the running transaction, then stops it.
func (c *goCP16) OnRemoteStopTransaction(req *core.RemoteStopTransactionRequest) (*core.RemoteStopTransactionConfirmation, error) {
	c.mu.Lock()
	if started := c.starting; started != nil {
		c.mu.Unlock()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
		}
		c.mu.Lock()
	}
	running := c.tx != nil && c.tx.id == req.TransactionId
	c.mu.Unlock()
	if !running {
		return core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusRejected), nil
	}
	c.p.afterResponse(func() { c.stopTransaction(core.ReasonRemote) })
	return core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusAccepted), nil
}

// OnReset accepts every reset and does nothing.
func (c *goCP16) OnReset(*core.ResetRequest) (*core.ResetConfirmation, error) {
	return core.NewResetConfirmation(core.ResetStatusAccepted), nil
}

// OnUnlockConnector unlocks connector 1.
func (c *goCP16) OnUnlockConnector(req *core.UnlockConnectorRequest) (*core.UnlockConnectorConfirmation, error) {
	if req.ConnectorId != 1 {
		return core.NewUnlockConnectorConfirmation(core.UnlockStatusNotSupported), nil
	}
	return core.NewUnlockConnectorConfirmation(core.UnlockStatusUnlocked), nil
}

// OnChangeAvailability accepts, or schedules going inoperative during a
// transaction, and reports the new status.
func (c *goCP16) OnChangeAvailability(req *core.ChangeAvailabilityRequest) (*core.ChangeAvailabilityConfirmation, error) {
	next := core.ChargePointStatusAvailable
	if req.Type == core.AvailabilityTypeInoperative {
		next = core.ChargePointStatusUnavailable
	}
	c.mu.Lock()
	busy := c.tx != nil
	c.mu.Unlock()
	if busy && next == core.ChargePointStatusUnavailable {
		return core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusScheduled), nil
	}
	connector := 1
	if req.ConnectorId == 0 {
		connector = 0
	}
	c.p.afterResponse(func() { c.statusNotification(connector, next) })
	return core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusAccepted), nil
}

// OnClearCache accepts.
func (c *goCP16) OnClearCache(*core.ClearCacheRequest) (*core.ClearCacheConfirmation, error) {
	return core.NewClearCacheConfirmation(core.ClearCacheStatusAccepted), nil
}

// OnDataTransfer accepts vendor "chargedesk" and echoes its data.
func (c *goCP16) OnDataTransfer(req *core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	if req.VendorId != "chargedesk" {
		return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId), nil
	}
	conf := core.NewDataTransferConfirmation(core.DataTransferStatusAccepted)
	conf.Data = req.Data
	return conf, nil
}

// OnGetConfiguration reports the asked keys, or all of them.
func (c *goCP16) OnGetConfiguration(req *core.GetConfigurationRequest) (*core.GetConfigurationConfirmation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := req.Key
	if len(keys) == 0 {
		for k := range c.config {
			keys = append(keys, k)
		}
	}
	conf := core.NewGetConfigurationConfirmation(nil)
	for _, k := range keys {
		v, ok := c.config[k]
		if !ok {
			conf.UnknownKey = append(conf.UnknownKey, k)
			continue
		}
		value := v.value
		conf.ConfigurationKey = append(conf.ConfigurationKey, core.ConfigurationKey{Key: k, Readonly: v.readonly, Value: &value})
	}
	return conf, nil
}

// OnChangeConfiguration sets a known writable key.
func (c *goCP16) OnChangeConfiguration(req *core.ChangeConfigurationRequest) (*core.ChangeConfigurationConfirmation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.config[req.Key]
	switch {
	case !ok:
		return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusNotSupported), nil
	case v.readonly:
		return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusRejected), nil
	}
	v.value = req.Value
	return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusAccepted), nil
}

// OnGetLocalListVersion reports the version of the last list accepted.
func (c *goCP16) OnGetLocalListVersion(*localauth.GetLocalListVersionRequest) (*localauth.GetLocalListVersionConfirmation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return localauth.NewGetLocalListVersionConfirmation(c.localListVersion), nil
}

// OnSendLocalList stores the list version; a differential update must raise it.
func (c *goCP16) OnSendLocalList(req *localauth.SendLocalListRequest) (*localauth.SendLocalListConfirmation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.UpdateType == localauth.UpdateTypeDifferential && req.ListVersion <= c.localListVersion {
		return localauth.NewSendLocalListConfirmation(localauth.UpdateStatusVersionMismatch), nil
	}
	c.localListVersion = req.ListVersion
	return localauth.NewSendLocalListConfirmation(localauth.UpdateStatusAccepted), nil
}

// OnTriggerMessage accepts the messages a charger can send and sends the
// requested one after the answer.
func (c *goCP16) OnTriggerMessage(req *remotetrigger.TriggerMessageRequest) (*remotetrigger.TriggerMessageConfirmation, error) {
	connector := 1
	if req.ConnectorId != nil {
		connector = *req.ConnectorId
	}
	var follow func()
	switch req.RequestedMessage {
	case core.BootNotificationFeatureName:
		follow = func() { c.boot() }
	case core.HeartbeatFeatureName:
		follow = func() { _, _ = c.p.call(core.NewHeartbeatRequest()) }
	case core.StatusNotificationFeatureName:
		follow = func() {
			c.mu.Lock()
			status := c.status
			c.mu.Unlock()
			if connector == 0 {
				status = core.ChargePointStatusAvailable
			}
			c.statusNotification(connector, status)
		}
	case core.MeterValuesFeatureName:
		follow = func() {
			id := connector
			if id == 0 {
				id = 1
			}
			mv := core.NewMeterValuesRequest(id, c.meterValues())
			c.mu.Lock()
			if c.tx != nil {
				txID := c.tx.id
				mv.TransactionId = &txID
			}
			c.mu.Unlock()
			_, _ = c.p.call(mv)
		}
	case firmware.DiagnosticsStatusNotificationFeatureName:
		follow = func() {
			_, _ = c.p.call(firmware.NewDiagnosticsStatusNotificationRequest(firmware.DiagnosticsStatusIdle))
		}
	case firmware.FirmwareStatusNotificationFeatureName:
		follow = func() { _, _ = c.p.call(firmware.NewFirmwareStatusNotificationRequest(firmware.FirmwareStatusIdle)) }
	default:
		return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusNotImplemented), nil
	}
	c.p.afterResponse(follow)
	return remotetrigger.NewTriggerMessageConfirmation(remotetrigger.TriggerMessageStatusAccepted), nil
}
