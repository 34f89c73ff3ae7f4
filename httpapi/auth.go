package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/chargedesk/chargedesk"
)

// maxKeyNameLen bounds an API key's name so that "operator:<name>" fits in
// a command's 100-character actor.
const maxKeyNameLen = 64

// keyring checks operator API keys. It keeps only their SHA-256 digests and
// compares a presented key's digest with every one of them in constant time,
// so neither the key's content nor its length shows in the response time.
type keyring struct {
	entries []keyEntry
}

type keyEntry struct {
	digest [sha256.Size]byte
	name   string
}

// newKeyring validates keys (key → name) and returns a keyring.
func newKeyring(keys map[string]string) (*keyring, error) {
	k := &keyring{}
	for key, name := range keys {
		if len(key) < MinAPIKeyLen {
			return nil, fmt.Errorf("api key named %q is shorter than %d characters", name, MinAPIKeyLen)
		}
		if name == "" || len(name) > maxKeyNameLen {
			return nil, fmt.Errorf("an api key name must be 1 to %d characters", maxKeyNameLen)
		}
		for i := 0; i < len(name); i++ {
			if name[i] <= 0x20 || name[i] > 0x7e {
				return nil, fmt.Errorf("api key name %q must be printable ASCII without spaces", name)
			}
		}
		k.entries = append(k.entries, keyEntry{digest: sha256.Sum256([]byte(key)), name: name})
	}
	return k, nil
}

// lookup returns the name of key and whether it is known.
func (k *keyring) lookup(key string) (string, bool) {
	d := sha256.Sum256([]byte(key))
	found := -1
	for i := range k.entries {
		if subtle.ConstantTimeCompare(d[:], k.entries[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return k.entries[found].name, true
}

type operatorKey struct{}

// operatorFrom returns the name of the API key that authenticated the
// request; requireKey puts it in the context.
func operatorFrom(ctx context.Context) string {
	name, _ := ctx.Value(operatorKey{}).(string)
	return name
}

// requireKey wraps next so that it runs only for requests carrying
// "Authorization: Bearer <key>" with a known key; others get 401.
func requireKey(keys *keyring, logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chargedesk"`)
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "an Authorization: Bearer <api key> header is required"))
			return
		}
		name, ok := keys.lookup(strings.TrimSpace(key))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chargedesk", error="invalid_token"`)
			writeError(w, r, logger, chargedesk.Errorf(chargedesk.EUNAUTHORIZED, "the api key is not valid"))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, name)))
	})
}
