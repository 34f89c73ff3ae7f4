package chargedesk

import (
	"context"
	"time"
	"unicode/utf8"
)

// Setting is a named value operators change while chargedesk runs and
// every node reads from the store: the support agent's switches.
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// UpdatedBy is who set it last, as the audit log names actors
	// ("console:ada"); "" when unknown.
	UpdatedBy string    `json:"updatedBy,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// MaxSettingValueLen bounds a setting's value, in bytes.
const MaxSettingValueLen = 4000

// Validate checks the setting: a key of 1 to 100 characters among
// lower-case letters, digits, '.', '-' and '_'; a value and an author of
// bounded UTF-8.
func (s *Setting) Validate() error {
	if !validSettingKey(s.Key) {
		return Errorf(EINVALID, "a setting's key is 1 to 100 characters of a-z, 0-9, '.', '-' or '_'")
	}
	if len(s.Value) > MaxSettingValueLen || !utf8.ValidString(s.Value) {
		return Errorf(EINVALID, "setting %s: the value is at most %d bytes of UTF-8", s.Key, MaxSettingValueLen)
	}
	if len(s.UpdatedBy) > 200 || !utf8.ValidString(s.UpdatedBy) {
		return Errorf(EINVALID, "setting %s: who set it is at most 200 bytes of UTF-8", s.Key)
	}
	return nil
}

func validSettingKey(k string) bool {
	if k == "" || len(k) > 100 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// SettingStore keeps settings.
type SettingStore interface {
	// PutSetting creates or replaces a setting after validating it;
	// UpdatedAt becomes now and is written back. EINVALID.
	PutSetting(ctx context.Context, s *Setting) error
	// Setting returns one setting. ENOTFOUND.
	Setting(ctx context.Context, key string) (*Setting, error)
	// Settings lists the settings whose key starts with prefix ("" for
	// all), in key order, at most 1000.
	Settings(ctx context.Context, prefix string) ([]*Setting, error)
}
