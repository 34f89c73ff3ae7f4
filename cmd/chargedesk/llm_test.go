package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLLM is an OpenAI-compatible chat-completions server that answers
// every message with content and records the Authorization headers.
type fakeLLM struct {
	url  string
	mu   sync.Mutex
	auth []string
}

func newFakeLLM(t *testing.T, content string) *fakeLLM {
	f := &fakeLLM{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{
			map[string]any{"finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}},
		}})
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/v1"
	return f
}

func (f *fakeLLM) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

const billingAnswer = `{"category":"billing_dispute","confidence":0.9,"charger_ids":[],"connector":0,"manipulation":false}`

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLLMSettings(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("sk-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"CHARGEDESK_LLM_URL": "https://llm.example/v1", "CHARGEDESK_LLM_MODEL": "m"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    llmConfig
		wantErr string
	}{
		{"off by default", nil, nil, llmConfig{}, ""},
		{"key in the environment", with("CHARGEDESK_LLM_API_KEY", "sk-env"), nil, llmConfig{"https://llm.example/v1", "m", "sk-env"}, ""},
		{"key file in the environment", with("CHARGEDESK_LLM_API_KEY_FILE", keyFile), nil, llmConfig{"https://llm.example/v1", "m", "sk-from-file"}, ""},
		{"key file flag over the environment", with("CHARGEDESK_LLM_API_KEY", "sk-env"), []string{"-llm-api-key-file", keyFile}, llmConfig{"https://llm.example/v1", "m", "sk-from-file"}, ""},
		{"key flag over the key file", with("CHARGEDESK_LLM_API_KEY_FILE", keyFile), []string{"-llm-api-key", "sk-flag"}, llmConfig{"https://llm.example/v1", "m", "sk-flag"}, ""},
		{"flags", nil, []string{"-llm-url", "http://127.0.0.1:8000/v1", "-llm-model", "local"}, llmConfig{"http://127.0.0.1:8000/v1", "local", ""}, ""},
		{"no model", map[string]string{"CHARGEDESK_LLM_URL": "https://llm.example/v1"}, nil, llmConfig{}, "-llm-model"},
		{"not http", with("CHARGEDESK_LLM_URL", "ftp://llm.example"), nil, llmConfig{}, "-llm-url"},
		{"missing key file", nil, []string{"-llm-api-key-file", filepath.Join(t.TempDir(), "none")}, llmConfig{}, "-llm-api-key-file"},
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
			if cfg.LLM != tt.want {
				t.Errorf("LLM = %+v, want %+v", cfg.LLM, tt.want)
			}
		})
	}
}

func TestUsageHidesTheLLMKey(t *testing.T) {
	var errOut strings.Builder
	env := envOf(map[string]string{"CHARGEDESK_LLM_API_KEY": "sk-do-not-show"})
	for _, cmd := range []string{"serve", "demo", "nlu"} {
		errOut.Reset()
		if err := run(context.Background(), []string{cmd, "-h"}, env, strings.NewReader(""), io.Discard, &errOut); err != nil {
			t.Fatalf("%s -h: %v", cmd, err)
		}
		if !strings.Contains(errOut.String(), "CHARGEDESK_LLM_API_KEY") || strings.Contains(errOut.String(), "sk-do-not-show") {
			t.Errorf("%s -h: the key setting is missing or its value is shown:\n%s", cmd, errOut.String())
		}
	}
}

func TestNLUWithLLM(t *testing.T) {
	api := newFakeLLM(t, billingAnswer)
	env := envOf(map[string]string{"CHARGEDESK_LLM_URL": api.url, "CHARGEDESK_LLM_MODEL": "m", "CHARGEDESK_LLM_API_KEY": "sk-nlu"})
	in := `{"id":1,"text":"hello"}` + "\n" + `{"id":2,"text":"the plug is stuck in my car and will not come out"}` + "\n"
	var out, errOut strings.Builder
	if err := nluCommand(context.Background(), []string{"-llm"}, env, strings.NewReader(in), &out, &errOut); err != nil {
		t.Fatalf("nlu -llm: %v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"category":"billing_dispute"`) || !strings.Contains(lines[1], `"category":"connector_stuck"`) {
		t.Errorf("output:\n%s", out.String())
	}
	if got := api.calls(); len(got) != 1 || got[0] != "Bearer sk-nlu" {
		t.Errorf("the model was called with %q, want once with the key", got)
	}

}

func TestServeWithLLM(t *testing.T) {
	api := newFakeLLM(t, billingAnswer)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("sk-serve-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, t.TempDir(), "-llm-url", api.url, "-llm-model", "m", "-llm-api-key-file", keyFile)
	var conv struct{ ID string }
	post := func(path string, body any, out any) {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(p.apiURL+path, "application/json", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
	}
	post("/chat/api/conversations", map[string]string{"language": "en"}, &conv)
	post("/chat/api/conversations/"+conv.ID+"/messages", map[string]string{"text": "hello"}, nil)
	if got := api.calls(); len(got) != 1 || got[0] != "Bearer sk-serve-secret" {
		t.Errorf("the model was called with %q, want once with the key", got)
	}
	_, metrics := p.get(t, "/metrics")
	for _, want := range []string{"chargedesk_llm_calls_total 1", `chargedesk_llm_fallbacks_total{reason="timeout"} 0`, "chargedesk_llm_call_duration_seconds_count 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	time.Sleep(50 * time.Millisecond) // let the log lines land
	lw := p.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	logs := p.stderr.String()
	lw.mu.Unlock()
	if strings.Contains(logs, "sk-serve-secret") || !strings.Contains(logs, "language model") {
		t.Errorf("the log shows the key or does not say the model is on:\n%s", logs)
	}
}
