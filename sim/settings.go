package sim

import (
	"slices"
	"strconv"
	"strings"
)

// Configuration keys of OCPP 1.6 the simulator implements. 2.0.1 chargers
// expose the same values as the component variables of variables201.
const (
	keyHeartbeatInterval          = "HeartbeatInterval"
	keyMeterValueSampleInterval   = "MeterValueSampleInterval"
	keyAuthorizeRemoteTxRequests  = "AuthorizeRemoteTxRequests"
	keyLocalAuthListEnabled       = "LocalAuthListEnabled"
	keyLocalAuthorizeOffline      = "LocalAuthorizeOffline"
	keyLocalPreAuthorize          = "LocalPreAuthorize"
	keyAuthorizationCacheEnabled  = "AuthorizationCacheEnabled"
	keyConnectionTimeOut          = "ConnectionTimeOut"
	keyNumberOfConnectors         = "NumberOfConnectors"
	keyStopTransactionOnInvalidID = "StopTransactionOnInvalidId"
	keyLocalAuthListMaxLength     = "LocalAuthListMaxLength"
	keySendLocalListMaxLength     = "SendLocalListMaxLength"
	keySupportedFeatureProfiles   = "SupportedFeatureProfiles"
	keyMeterValuesSampledData     = "MeterValuesSampledData"
	keyGetConfigurationMaxKeys    = "GetConfigurationMaxKeys"
	keyUnlockOnEVSideDisconnect   = "UnlockConnectorOnEVSideDisconnect"
	keyStopTxOnEVSideDisconnect   = "StopTransactionOnEVSideDisconnect"
	keyClockAlignedDataInterval   = "ClockAlignedDataInterval"
	keyResetRetries               = "ResetRetries"
	// keyTransactionMessageAttempts and keyTransactionMessageRetryInterval
	// are 2.0.1's OCPPCommCtrlr MessageAttempts and MessageAttemptInterval.
	keyTransactionMessageAttempts      = "TransactionMessageAttempts"
	keyTransactionMessageRetryInterval = "TransactionMessageRetryInterval"
)

type settingKind int

const (
	kindInt settingKind = iota
	kindBool
	kindString
)

// settingSpec describes one configuration key.
type settingSpec struct {
	kind     settingKind
	readonly bool
	// min is the smallest allowed integer value.
	min int
}

var settingSpecs = map[string]settingSpec{
	keyHeartbeatInterval:               {kind: kindInt},
	keyMeterValueSampleInterval:        {kind: kindInt},
	keyAuthorizeRemoteTxRequests:       {kind: kindBool},
	keyLocalAuthListEnabled:            {kind: kindBool},
	keyLocalAuthorizeOffline:           {kind: kindBool},
	keyLocalPreAuthorize:               {kind: kindBool},
	keyAuthorizationCacheEnabled:       {kind: kindBool},
	keyConnectionTimeOut:               {kind: kindInt, min: 1},
	keyNumberOfConnectors:              {kind: kindInt, readonly: true},
	keyStopTransactionOnInvalidID:      {kind: kindBool},
	keyLocalAuthListMaxLength:          {kind: kindInt, readonly: true},
	keySendLocalListMaxLength:          {kind: kindInt, readonly: true},
	keySupportedFeatureProfiles:        {kind: kindString, readonly: true},
	keyMeterValuesSampledData:          {kind: kindString},
	keyGetConfigurationMaxKeys:         {kind: kindInt, readonly: true},
	keyUnlockOnEVSideDisconnect:        {kind: kindBool},
	keyStopTxOnEVSideDisconnect:        {kind: kindBool},
	keyClockAlignedDataInterval:        {kind: kindInt},
	keyResetRetries:                    {kind: kindInt},
	keyTransactionMessageAttempts:      {kind: kindInt},
	keyTransactionMessageRetryInterval: {kind: kindInt},
}

// maxLocalList is the capacity of the local authorization list.
const maxLocalList = 500

func defaultSettings(connectors int) map[string]string {
	return map[string]string{
		keyHeartbeatInterval:               "60",
		keyMeterValueSampleInterval:        "60",
		keyAuthorizeRemoteTxRequests:       "false",
		keyLocalAuthListEnabled:            "true",
		keyLocalAuthorizeOffline:           "true",
		keyLocalPreAuthorize:               "false",
		keyAuthorizationCacheEnabled:       "true",
		keyConnectionTimeOut:               "60",
		keyNumberOfConnectors:              strconv.Itoa(connectors),
		keyStopTransactionOnInvalidID:      "true",
		keyLocalAuthListMaxLength:          strconv.Itoa(maxLocalList),
		keySendLocalListMaxLength:          strconv.Itoa(maxLocalList),
		keySupportedFeatureProfiles:        "Core,LocalAuthListManagement,RemoteTrigger",
		keyMeterValuesSampledData:          "Energy.Active.Import.Register,Power.Active.Import",
		keyGetConfigurationMaxKeys:         "50",
		keyUnlockOnEVSideDisconnect:        "true",
		keyStopTxOnEVSideDisconnect:        "true",
		keyClockAlignedDataInterval:        "0",
		keyResetRetries:                    "1",
		keyTransactionMessageAttempts:      "3",
		keyTransactionMessageRetryInterval: "30",
	}
}

// settingKeys returns the implemented keys in a stable order.
func settingKeys() []string {
	keys := make([]string, 0, len(settingSpecs))
	for k := range settingSpecs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkSetting validates a new value for key. ok false with known true
// means the value is refused; known false means the key does not exist.
func checkSetting(key, value string) (normalized string, known, ok bool) {
	spec, known := settingSpecs[key]
	if !known {
		return "", false, false
	}
	if spec.readonly {
		return "", true, false
	}
	switch spec.kind {
	case kindInt:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < spec.min {
			return "", true, false
		}
		return strconv.Itoa(n), true, true
	case kindBool:
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "true":
			return "true", true, true
		case "false":
			return "false", true, true
		}
		return "", true, false
	}
	return value, true, true
}

// intSetting and boolSetting read a key; c.mu must be held.
func (c *Charger) intSetting(key string) int {
	n, _ := strconv.Atoi(c.settings[key])
	return n
}

func (c *Charger) boolSetting(key string) bool { return c.settings[key] == "true" }

// variable201 maps a 2.0.1 component variable to a 1.6 key.
type variable201 struct{ component, variable string }

var variables201 = map[variable201]string{
	{"OCPPCommCtrlr", "HeartbeatInterval"}:      keyHeartbeatInterval,
	{"SampledDataCtrlr", "TxUpdatedInterval"}:   keyMeterValueSampleInterval,
	{"SampledDataCtrlr", "TxUpdatedMeasurands"}: keyMeterValuesSampledData,
	{"AlignedDataCtrlr", "Interval"}:            keyClockAlignedDataInterval,
	{"AuthCtrlr", "AuthorizeRemoteStart"}:       keyAuthorizeRemoteTxRequests,
	{"AuthCtrlr", "LocalAuthorizeOffline"}:      keyLocalAuthorizeOffline,
	{"AuthCtrlr", "LocalPreAuthorize"}:          keyLocalPreAuthorize,
	{"LocalAuthListCtrlr", "Enabled"}:           keyLocalAuthListEnabled,
	{"LocalAuthListCtrlr", "Entries"}:           varLocalAuthListEntries,
	{"AuthCacheCtrlr", "Enabled"}:               keyAuthorizationCacheEnabled,
	{"TxCtrlr", "EVConnectionTimeOut"}:          keyConnectionTimeOut,
	{"TxCtrlr", "StopTxOnInvalidId"}:            keyStopTransactionOnInvalidID,
	{"TxCtrlr", "StopTxOnEVSideDisconnect"}:     keyStopTxOnEVSideDisconnect,
	{"OCPPCommCtrlr", "ResetRetries"}:           keyResetRetries,
	{"OCPPCommCtrlr", "MessageAttempts"}:        keyTransactionMessageAttempts,
	{"OCPPCommCtrlr", "MessageAttemptInterval"}: keyTransactionMessageRetryInterval,
}

// varLocalAuthListEntries is LocalAuthListCtrlr.Entries, the number of
// tokens in the local list now: read only, computed, not a 1.6 key.
const varLocalAuthListEntries = "LocalAuthListCtrlr.Entries"

// variableLocked is the value of the 2.0.1 variable mapped to key; c.mu
// must be held.
func (c *Charger) variableLocked(key string) string {
	if key == varLocalAuthListEntries {
		return strconv.Itoa(len(c.localList))
	}
	return c.settings[key]
}

// components201 is the set of component names the 2.0.1 charger knows.
func knownComponent201(name string) bool {
	for k := range variables201 {
		if k.component == name {
			return true
		}
	}
	return false
}
