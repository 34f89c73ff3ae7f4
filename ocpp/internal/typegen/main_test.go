package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreFresh fails when the checked-in payload types differ
// from what the generator makes of the embedded schemas; run go generate in
// package ocpp to fix it.
func TestGeneratedFilesAreFresh(t *testing.T) {
	for _, cfg := range []config{v16Config(), v201Config()} {
		t.Run(cfg.pkg, func(t *testing.T) {
			tmp := t.TempDir()
			if err := run(cfg, filepath.Join("..", "..", "schemas", cfg.pkg), tmp); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(tmp, "types_gen.go"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("..", "..", cfg.pkg, "types_gen.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/types_gen.go is stale; run go generate ./ocpp", cfg.pkg)
			}
		})
	}
}

func TestGoIdent(t *testing.T) {
	for in, want := range map[string]string{
		"IdTag":            "IDTag",
		"EvseId":           "EvseID",
		"Idle":             "Idle",
		"UnknownMessageId": "UnknownMessageID",
		"Ids":              "Ids",
		"ResponderUrl":     "ResponderURL",
		"Id":               "ID",
	} {
		if got := goIdent(in); got != want {
			t.Errorf("goIdent(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConstName(t *testing.T) {
	for _, c := range []struct{ typ, value, want string }{
		{"Measurand", "Energy.Active.Import.Register", "MeasurandEnergyActiveImportRegister"},
		{"Phase", "L1-N", "PhaseL1N"},
		{"UnitOfMeasure", "kWh", "UnitOfMeasureKWh"},
		{"DataTransferStatus", "UnknownMessageId", "DataTransferStatusUnknownMessageID"},
	} {
		if got := constName(c.typ, c.value); got != c.want {
			t.Errorf("constName(%q, %q) = %q, want %q", c.typ, c.value, got, c.want)
		}
	}
}
