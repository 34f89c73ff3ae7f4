package chargedesk

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Charger passwords are OCPP authorization keys: random strings of 16 to 40
// characters (the 2.0.1 BasicAuthPassword bounds, also used for 1.6). Being
// high-entropy machine secrets rather than human passwords, they are stored as
// a salted SHA-256, which keeps a reconnect storm of thousands of chargers
// cheap; a slow password hash would buy nothing against a 16+ character random
// key and would cap connection rates.
const (
	MinPasswordLen = 16
	MaxPasswordLen = 40
)

// ValidatePassword checks a charger password's length and characters.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
		return Errorf(EINVALID, "charger password must be %d to %d characters", MinPasswordLen, MaxPasswordLen)
	}
	for i := 0; i < len(pw); i++ {
		if pw[i] < 0x21 || pw[i] > 0x7e {
			return Errorf(EINVALID, "charger password must be printable ASCII without spaces")
		}
	}
	return nil
}

// HashPassword returns the stored form of a charger password.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	return "sha256$" + hex.EncodeToString(salt) + "$" + digest(salt, pw)
}

// CheckPassword reports whether pw matches a hash made by HashPassword.
func CheckPassword(hash, pw string) bool {
	scheme, rest, ok := strings.Cut(hash, "$")
	if !ok || scheme != "sha256" {
		return false
	}
	saltHex, sum, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	salt, err := hex.DecodeString(saltHex)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(digest(salt, pw)), []byte(sum)) == 1
}

func digest(salt []byte, pw string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pw))
	return hex.EncodeToString(h.Sum(nil))
}
