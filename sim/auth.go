package sim

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
	v16 "github.com/chargedesk/chargedesk/ocpp/v16"
	v201 "github.com/chargedesk/chargedesk/ocpp/v201"
)

// Authorization statuses the simulator uses in both versions.
const (
	AuthAccepted     = "Accepted"
	AuthBlocked      = "Blocked"
	AuthExpired      = "Expired"
	AuthInvalid      = "Invalid"
	AuthConcurrentTx = "ConcurrentTx"
)

// ErrReaderFault is returned by TapCard when the RFID reader is broken: no
// Authorize is sent.
var ErrReaderFault = errors.New("sim: RFID reader does not respond")

// ErrTokenTooLong is returned (wrapped, with the token's length) when a
// token is longer than the charger's protocol allows: 20 characters for a
// 1.6 idTag, 36 for a 2.0.1 idToken. It is a chargedesk.EINVALID error, so
// chargedesk.ErrorCode maps it without knowing the simulator.
var ErrTokenTooLong = chargedesk.Errorf(chargedesk.EINVALID, "token is longer than the charger's protocol allows (1.6: 20 characters, 2.0.1: 36)")

// Token length limits of the two versions (1.6 CiString20, 2.0.1
// identifierString of 36).
const (
	maxIDTag16    = 20
	maxIDToken201 = 36
)

// checkToken refuses a token the charger's protocol cannot carry.
func (c *Charger) checkToken(idTag string) error {
	limit := maxIDToken201
	if c.cfg.Protocol == chargedesk.OCPP16 {
		limit = maxIDTag16
	}
	if n := utf8.RuneCountInString(idTag); n > limit {
		return fmt.Errorf("%w: %q has %d characters, %s allows %d", ErrTokenTooLong, idTag, n, c.cfg.Protocol, limit)
	}
	return nil
}

// authEntry is one token in the local list or the cache.
type authEntry struct {
	status string
	expiry time.Time
}

// valid reports whether the entry authorizes now.
func (e authEntry) valid(now time.Time) bool {
	return e.status == AuthAccepted && (e.expiry.IsZero() || now.Before(e.expiry))
}

// localEntry looks a token up in the local list, then the cache, as the
// configuration allows; c.mu must be held.
func (c *Charger) localEntry(idTag string) (authEntry, bool) {
	if c.boolSetting(keyLocalAuthListEnabled) {
		if e, ok := c.localList[idTag]; ok {
			return e, true
		}
	}
	if c.boolSetting(keyAuthorizationCacheEnabled) {
		if e, ok := c.cache[idTag]; ok {
			return e, true
		}
	}
	return authEntry{}, false
}

// authorize decides whether idTag may charge on connector id: from the local
// list or cache when the configuration says so, otherwise with an Authorize
// to the CSMS. It returns the authorization status.
//
// idType is the 2.0.1 IdTokenType ("" for an RFID card, ISO14443); a 1.6
// charger ignores it.
func (c *Charger) authorize(ctx context.Context, id int, idTag, idType string) (string, error) {
	c.mu.Lock()
	now := c.now()
	e, known := c.localEntry(idTag)
	pre := c.boolSetting(keyLocalPreAuthorize)
	offlineOK := c.boolSetting(keyLocalAuthorizeOffline)
	trustRejections := c.hasFaultLocked(FaultLocalListStale, id)
	c.mu.Unlock()

	if known && pre && e.valid(now) {
		return AuthAccepted, nil
	}
	if known && trustRejections && !e.valid(now) {
		return e.status, nil
	}
	status, err := c.sendAuthorize(ctx, idTag, idType)
	if err == nil {
		c.mu.Lock()
		if c.boolSetting(keyAuthorizationCacheEnabled) {
			if _, inList := c.localList[idTag]; !inList || !c.boolSetting(keyLocalAuthListEnabled) {
				c.cache[idTag] = authEntry{status: status}
			}
		}
		c.mu.Unlock()
		return status, nil
	}
	var ce *CallError
	if errors.As(err, &ce) || ctx.Err() != nil {
		return "", err
	}
	// Off line (or the CSMS did not answer): decide locally.
	if known && offlineOK {
		if e.valid(now) {
			return AuthAccepted, nil
		}
		return e.status, nil
	}
	return AuthInvalid, nil
}

// sendAuthorize asks the CSMS about a token.
func (c *Charger) sendAuthorize(ctx context.Context, idTag, idType string) (string, error) {
	if c.cfg.Protocol == chargedesk.OCPP16 {
		var resp v16.AuthorizeResponse
		if err := c.callOnline(ctx, "Authorize", v16.AuthorizeRequest{IDTag: idTag}, &resp); err != nil {
			return "", err
		}
		return string(resp.IDTagInfo.Status), nil
	}
	var resp v201.AuthorizeResponse
	if err := c.callOnline(ctx, "Authorize", v201.AuthorizeRequest{IDToken: idToken201(idTag, idType)}, &resp); err != nil {
		return "", err
	}
	return string(resp.IDTokenInfo.Status), nil
}

// idToken201 is the 2.0.1 form of a token of type idType: the type a
// remote start named, or an RFID card (ISO14443) when idType is "".
func idToken201(idTag, idType string) v201.IDToken {
	if idType == "" {
		return v201.IDToken{IDToken: idTag, Type: v201.IDTokenTypeISO14443}
	}
	return v201.IDToken{IDToken: idTag, Type: v201.IDTokenType(idType)}
}

// Local list updates, common to both versions.

// listUpdate is one entry of a SendLocalList: status "" removes the token.
type listUpdate struct {
	idTag  string
	status string
	expiry time.Time
}

// applyLocalList applies a SendLocalList and returns the status to answer:
// Accepted, Failed, NotSupported (1.6 only) or VersionMismatch.
func (c *Charger) applyLocalList(version int, full bool, entries []listUpdate) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.notifyLocked()
	if !c.boolSetting(keyLocalAuthListEnabled) {
		if c.cfg.Protocol == chargedesk.OCPP16 {
			return "NotSupported"
		}
		return "Failed"
	}
	if len(entries) > maxLocalList {
		return "Failed"
	}
	if full {
		list := map[string]authEntry{}
		for _, e := range entries {
			if e.status == "" {
				// A full update lists tokens with their info.
				return "Failed"
			}
			list[e.idTag] = authEntry{status: e.status, expiry: e.expiry}
		}
		c.localList, c.listVer = list, version
		c.onAuthListsChangedLocked()
		return "Accepted"
	}
	if version <= c.listVer {
		return "VersionMismatch"
	}
	next := make(map[string]authEntry, len(c.localList)+len(entries))
	for k, v := range c.localList {
		next[k] = v
	}
	for _, e := range entries {
		if e.status == "" {
			delete(next, e.idTag)
			continue
		}
		next[e.idTag] = authEntry{status: e.status, expiry: e.expiry}
	}
	if len(next) > maxLocalList {
		return "Failed"
	}
	c.localList, c.listVer = next, version
	c.onAuthListsChangedLocked()
	return "Accepted"
}

// localListVersion returns the version to report: -1 when the list is
// disabled (1.6), 0 when it was never set.
func (c *Charger) localListVersion() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.boolSetting(keyLocalAuthListEnabled) && c.cfg.Protocol == chargedesk.OCPP16 {
		return -1
	}
	return c.listVer
}

// SetLocalList replaces the local authorization list directly, as an
// installer would at the factory: tokens map to their status.
func (c *Charger) SetLocalList(version int, tokens map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.localList = map[string]authEntry{}
	for k, v := range tokens {
		c.localList[k] = authEntry{status: v}
	}
	c.listVer = version
	c.notifyLocked()
}
