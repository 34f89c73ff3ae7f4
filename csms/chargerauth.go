package csms

import (
	"crypto/x509"
	"net/http"

	"github.com/chargedesk/chargedesk"
)

// credential says how a charger proved who it is.
type credential string

const (
	// byCertificate: a client certificate the TLS handshake verified,
	// whose subject common name is the charger id (security profile 3).
	byCertificate credential = "certificate"
	// byPassword: HTTP Basic auth (security profiles 1 and 2).
	byPassword credential = "password"
	// byNothing: no credentials, for a charger registered without a
	// password while AllowUnauthenticated is on (profile 0).
	byNothing credential = "none"
)

// admission is what authenticate lets in: the boot status to give and how
// the charger proved its identity.
type admission struct {
	boot chargedesk.RegistrationStatus
	by   credential
}

// authenticate checks the charger's credentials before the WebSocket
// handshake. A verified client certificate authenticates the charger its
// subject common name names, and no other; HTTP Basic auth, when sent, must
// be right even alongside such a certificate, so that no wrong password is
// ever let through. A charger registered Rejected is disabled: refused
// however it authenticates. Errors: EUNAUTHORIZED (no or wrong
// credentials, or a password too weak to auto-register with), EFORBIDDEN (a
// certificate for another charger, a disabled charger), ENOTFOUND (unknown
// charger, auto-registration off), EUNAVAILABLE (the store).
func (s *Server) authenticate(r *http.Request, id string) (admission, error) {
	user, pw, hasAuth := r.BasicAuth()
	if hasAuth && user != id {
		return admission{}, chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "basic auth user must be the charger id")
	}
	cert := verifiedClientCert(r)
	if cert != nil && cert.Subject.CommonName != id {
		return admission{}, chargedesk.Errorf(chargedesk.EFORBIDDEN, "client certificate is for charger %q, not %q", cert.Subject.CommonName, id)
	}
	hash, boot, err := s.cfg.Store.ChargerCredentials(r.Context(), id)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ENOTFOUND:
		return s.autoRegister(r, id, cert != nil)
	case err != nil:
		s.log.Error("read charger credentials", "charger_id", id, "err", err)
		return admission{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "cannot check credentials now")
	}
	by, err := s.checkCredentials(hash, cert != nil, hasAuth, pw)
	if err != nil {
		return admission{}, err
	}
	if boot == chargedesk.RegistrationRejected {
		return admission{}, chargedesk.Errorf(chargedesk.EFORBIDDEN, "charger is disabled (registration status Rejected)")
	}
	return admission{boot: boot, by: by}, nil
}

// checkCredentials judges what a registered charger presented against its
// password hash ("" for a charger registered without one).
func (s *Server) checkCredentials(hash string, hasCert, hasAuth bool, pw string) (credential, error) {
	switch {
	case hasCert && !hasAuth:
		return byCertificate, nil
	case hasCert && hash == "":
		return "", chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "charger has no password registered: send none with its client certificate")
	case hasCert:
		if !chargedesk.CheckPassword(hash, pw) {
			return "", chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "wrong charger id or password")
		}
		return byCertificate, nil
	case hash == "":
		if !s.cfg.AllowUnauthenticated {
			return "", chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "charger has no password registered: it must present its client certificate")
		}
		return byNothing, nil
	case !hasAuth || !chargedesk.CheckPassword(hash, pw):
		return "", chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "wrong charger id or password")
	}
	return byPassword, nil
}

// autoRegister registers an unknown charger as Pending when AutoRegister
// is on, keeping the password it presents; a charger that presents only a
// verified certificate is registered without one.
func (s *Server) autoRegister(r *http.Request, id string, hasCert bool) (admission, error) {
	if !s.cfg.AutoRegister {
		return admission{}, chargedesk.Errorf(chargedesk.ENOTFOUND, "unknown charger")
	}
	_, pw, hasAuth := r.BasicAuth()
	reg := chargedesk.ChargerRegistration{ID: id, BootStatus: chargedesk.RegistrationPending, Description: "auto-registered"}
	by := byNothing
	switch {
	case hasAuth:
		if err := chargedesk.ValidatePassword(pw); err != nil {
			return admission{}, chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "%s", chargedesk.ErrorMessage(err))
		}
		reg.PasswordHash, by = chargedesk.HashPassword(pw), byPassword
	case !hasCert && !s.cfg.AllowUnauthenticated:
		return admission{}, chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "authorization required")
	}
	if hasCert {
		by = byCertificate
	}
	_, err := s.cfg.Store.RegisterCharger(r.Context(), reg)
	switch {
	case chargedesk.ErrorCode(err) == chargedesk.ECONFLICT:
		// Registered meanwhile by a simultaneous connection: check
		// against what that one stored.
		return s.authenticate(r, id)
	case err != nil:
		s.log.Error("auto-register charger", "charger_id", id, "err", err)
		return admission{}, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "cannot register charger now")
	}
	s.log.Info("charger auto-registered as Pending", "charger_id", id, "auth", by)
	return admission{boot: chargedesk.RegistrationPending, by: by}, nil
}

// verifiedClientCert returns the client certificate that the TLS handshake
// verified, or nil. Only a listener that verifies client certificates
// against trusted CAs (tls.VerifyClientCertIfGiven or
// tls.RequireAndVerifyClientCert, as serve sets up with a client CA) fills
// in VerifiedChains: a certificate merely presented is never trusted.
func verifiedClientCert(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

// certLogAttrs names the request's verified client certificate, if any,
// for the log line of a refusal.
func certLogAttrs(r *http.Request) []any {
	cert := verifiedClientCert(r)
	if cert == nil {
		return nil
	}
	return []any{"cert_cn", cert.Subject.CommonName, "cert_issuer", cert.Issuer.CommonName, "cert_serial", cert.SerialNumber.Text(16)}
}

// refusalStatus is the HTTP status a handshake refused with err answers.
func refusalStatus(err error) int {
	switch chargedesk.ErrorCode(err) {
	case chargedesk.EINVALID:
		return http.StatusBadRequest
	case chargedesk.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case chargedesk.EFORBIDDEN:
		return http.StatusForbidden
	case chargedesk.ENOTFOUND:
		return http.StatusNotFound
	default:
		return http.StatusServiceUnavailable
	}
}
