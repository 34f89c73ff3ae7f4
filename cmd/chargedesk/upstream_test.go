package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk/csms"
)

// TestUpstreamSettings checks proxy mode's flag, environment variable and CA
// file.
func TestUpstreamSettings(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	_ = os.WriteFile(junk, []byte("not a certificate"), 0o600)

	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		wantTLS bool
		wantErr string
	}{
		{"off by default", nil, nil, "", false, ""},
		{"environment", map[string]string{"CHARGEDESK_UPSTREAM_URL": "ws://csms.example:9000/ocpp"}, nil, "ws://csms.example:9000/ocpp", false, ""},
		{"flag with CA", nil, []string{"-upstream", "wss://csms.example/ocpp", "-upstream-ca", ca}, "wss://csms.example/ocpp", true, ""},
		{"CA from the environment", map[string]string{"CHARGEDESK_UPSTREAM_URL": "wss://csms.example/ocpp", "CHARGEDESK_UPSTREAM_CA": ca}, nil, "wss://csms.example/ocpp", true, ""},
		{"not ws", nil, []string{"-upstream", "http://csms.example/ocpp"}, "", false, "-upstream"},
		{"credentials in the URL", nil, []string{"-upstream", "ws://u:p@csms.example/ocpp"}, "", false, "-upstream"},
		{"CA without upstream", nil, []string{"-upstream-ca", ca}, "", false, "-upstream-ca"},
		{"CA for ws", nil, []string{"-upstream", "ws://csms.example/ocpp", "-upstream-ca", ca}, "", false, "-upstream-ca"},
		{"CA file without a certificate", nil, []string{"-upstream", "wss://csms.example/ocpp", "-upstream-ca", junk}, "", false, "-upstream-ca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig("serve", tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Upstream != tt.want || (cfg.UpstreamTLS != nil) != tt.wantTLS {
				t.Fatalf("upstream %q tls %v", cfg.Upstream, cfg.UpstreamTLS != nil)
			}
		})
	}
}

// TestUpstreamPolicySettings checks proxy mode's boot and conflict policies.
func TestUpstreamPolicySettings(t *testing.T) {
	cfg, err := parseConfig("serve", nil, envOf(nil), io.Discard)
	if err != nil || cfg.UpstreamBoot != csms.BootKnown || cfg.UpstreamConflict != csms.ConflictWait {
		t.Fatalf("defaults: %q %q %v", cfg.UpstreamBoot, cfg.UpstreamConflict, err)
	}
	cfg, err = parseConfig("serve", []string{"-upstream-boot", "pending"}, envOf(map[string]string{"CHARGEDESK_UPSTREAM_CONFLICT": "refuse"}), io.Discard)
	if err != nil || cfg.UpstreamBoot != csms.BootPending || cfg.UpstreamConflict != csms.ConflictRefuse {
		t.Fatalf("set: %q %q %v", cfg.UpstreamBoot, cfg.UpstreamConflict, err)
	}
	for _, args := range [][]string{{"-upstream-boot", "yes"}, {"-upstream-conflict", "interleave"}} {
		if _, err := parseConfig("serve", args, envOf(nil), io.Discard); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v", args, err)
		}
	}
}
