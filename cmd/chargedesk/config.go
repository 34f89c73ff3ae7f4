package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/csms"
	"github.com/chargedesk/chargedesk/policy"
)

// config is the configuration of "chargedesk serve". Each field has a flag
// and a CHARGEDESK_* environment variable; a flag wins over the variable.
// Secrets may also be read from the file named by the variable with _FILE.
type config struct {
	HTTPAddr        string
	OCPPAddr        string
	TLSCert, TLSKey string
	// ClientCAs, when set, are the CAs that chargers' client certificates
	// must chain to (security profile 3); RequireClientCert refuses a
	// charger without one at the TLS handshake.
	ClientCAs            *x509.CertPool
	RequireClientCert    bool
	DataDir              string
	DatabaseURL          string
	NATSURL              string
	NATSPrefix           string
	APIKeys              map[string]string // key -> name
	AutoRegister         bool
	AllowUnauthenticated bool
	HeartbeatInterval    time.Duration
	// Upstream, when set, runs proxy mode; UpstreamTLS trusts UpstreamCA.
	Upstream    string
	UpstreamTLS *tls.Config
	// UpstreamBoot and UpstreamConflict are proxy mode's policies (see
	// csms.Config).
	UpstreamBoot     csms.UpstreamBoot
	UpstreamConflict csms.UpstreamConflict
	Node             string
	LogLevel         slog.Level
	LogFormat        string
	// ConsoleSecure marks the console's cookies Secure (served over TLS).
	ConsoleSecure bool
	// AgentCommands, when not empty, narrows what the agent may send.
	AgentCommands []chargedesk.CommandKind
	// LLM is the optional language model; off when its URL is empty.
	LLM llmConfig
	// Twilio connects a phone number; off when its auth token is empty.
	Twilio twilioConfig
	// Voice is the phone line's mode and human number.
	Voice voiceConfig
}

// envVar documents one setting for the README's configuration table.
type envVar struct{ name, flag, def, help string }

// settings lists every setting once; parseConfig and the README table come
// from it.
var settings = []envVar{
	{"CHARGEDESK_HTTP_ADDR", "http", ":8080", "address of the operator API, /metrics, /healthz and /readyz"},
	{"CHARGEDESK_OCPP_ADDR", "ocpp", ":9000", "address of the OCPP WebSocket endpoint ws://HOST/ocpp/{chargerId}"},
	{"CHARGEDESK_OCPP_TLS_CERT", "tls-cert", "", "PEM certificate for the OCPP endpoint (security profile 2: wss:// with Basic auth)"},
	{"CHARGEDESK_OCPP_TLS_KEY", "tls-key", "", "PEM private key for the certificate"},
	{"CHARGEDESK_OCPP_CLIENT_CA", "client-ca", "", "PEM CA certificates that chargers' client certificates must chain to (security profile 3, needs -tls-cert): a verified certificate authenticates the charger whose id is its subject common name; chargers without one still connect with Basic auth"},
	{"CHARGEDESK_OCPP_REQUIRE_CLIENT_CERT", "require-client-cert", "false", "with -client-ca, refuse at the TLS handshake every charger that presents no valid client certificate (no Basic auth alone)"},
	{"CHARGEDESK_DATA_DIR", "data", "data", "directory of the SQLite database (chargedesk.db)"},
	{"CHARGEDESK_DATABASE_URL", "db", "", "database instead of SQLite: postgres://... (or _FILE)"},
	{"CHARGEDESK_NATS_URL", "nats", "", "external NATS server; empty runs an embedded one in-process"},
	{"CHARGEDESK_NATS_PREFIX", "nats-prefix", "chargedesk", "first token(s) of every NATS subject: nodes of one deployment share it; deployments sharing a NATS server (staging, production) each need their own"},
	{"CHARGEDESK_API_KEYS", "api-keys", "", "operator API keys, name:key[,name:key...] (or _FILE); keys of 16+ characters"},
	{"CHARGEDESK_AUTO_REGISTER", "auto-register", "false", "accept unknown chargers as Pending instead of refusing them"},
	{"CHARGEDESK_ALLOW_UNAUTHENTICATED", "allow-unauthenticated", "false", "let chargers without a registered password connect without Basic auth (profile 0)"},
	{"CHARGEDESK_HEARTBEAT_INTERVAL", "heartbeat-interval", "300s", "heartbeat interval given to chargers at boot"},
	{"CHARGEDESK_NODE", "node", "", "name of this node (default: the host name)"},
	{"CHARGEDESK_LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"CHARGEDESK_LOG_FORMAT", "log-format", "text", "text or json"},
	{"CHARGEDESK_UPSTREAM_URL", "upstream", "", "proxy mode: ws:// or wss:// URL of the central system that runs the network; each charger is relayed to URL/{chargerId} as itself"},
	{"CHARGEDESK_UPSTREAM_CA", "upstream-ca", "", "PEM CA certificates that a wss:// upstream's certificate must chain to (default: the system's roots)"},
	{"CHARGEDESK_UPSTREAM_BOOT", "upstream-boot", "known", "proxy mode: a BootNotification while the upstream cannot be asked is answered: known (Accepted if the upstream accepted the charger's last boot, else Pending), accept, or pending"},
	{"CHARGEDESK_UPSTREAM_CONFLICT", "upstream-conflict", "wait", "proxy mode: chargedesk's own command that clashes with an upstream command in flight on the same connector: wait for it, or refuse"},
	{"CHARGEDESK_AGENT_COMMANDS", "agent-commands", "", "narrow the remote commands the support agent may send, e.g. UnlockConnector,TriggerMessage (default: all it may: RemoteStart, RemoteStop, soft Reset, UnlockConnector, TriggerMessage, ChangeAvailability, ClearCache, SendLocalList, GetLocalListVersion, GetConfiguration)"},
	{"CHARGEDESK_CONSOLE_SECURE", "console-secure", "false", "mark the operator console's session cookie Secure: set it when /console is reached over https"},
}

// llmSettings are the settings of the optional language model, taken by
// serve, demo and nlu.
var llmSettings = []envVar{
	{"CHARGEDESK_LLM_URL", "llm-url", "", "base URL of an OpenAI-compatible API (e.g. https://api.openai.com/v1) that helps understand unsure messages; empty: off"},
	{"CHARGEDESK_LLM_MODEL", "llm-model", "", "model name sent to that API"},
	{"CHARGEDESK_LLM_API_KEY", "llm-api-key", "", "bearer key of that API (or _FILE)"},
	{"CHARGEDESK_LLM_API_KEY_FILE", "llm-api-key-file", "", "file holding the bearer key"},
}

// llmConfig is the optional language model's configuration.
type llmConfig struct {
	URL, Model string
	APIKey     string // never logged
}

// on reports whether a language model is configured.
func (c llmConfig) on() bool { return c.URL != "" }

// registerSettings declares a flag for each setting, its default taken
// from its environment variable, and returns the flags' values by name.
func registerSettings(fs *flag.FlagSet, list []envVar, getenv func(string) string) (map[string]*string, error) {
	vals := make(map[string]*string, len(list))
	for _, s := range list {
		def := s.def
		if v, err := readEnv(getenv, s.name); err != nil {
			return nil, err
		} else if v != "" {
			def = v
		}
		v := def
		vals[s.flag] = &v
		if s.def == "true" || s.def == "false" {
			fs.Var((*boolFlag)(&v), s.flag, s.help+" ["+s.name+"]")
		} else {
			fs.StringVar(&v, s.flag, def, s.help+" ["+s.name+"]")
		}
		if secretSettings[s.name] {
			// The usage message shows no secret taken from the environment.
			fs.Lookup(s.flag).DefValue = s.def
		}
	}
	return vals, nil
}

// secretSettings are the settings whose values the usage message hides.
var secretSettings = map[string]bool{"CHARGEDESK_API_KEYS": true, "CHARGEDESK_DATABASE_URL": true, "CHARGEDESK_LLM_API_KEY": true,
	"CHARGEDESK_TWILIO_AUTH_TOKEN": true}

// llmFromFlags reads the language model's settings after fs is parsed.
// The key comes from -llm-api-key when given, else from the file of
// -llm-api-key-file (or CHARGEDESK_LLM_API_KEY_FILE), else from
// CHARGEDESK_LLM_API_KEY.
func llmFromFlags(fs *flag.FlagSet, vals map[string]*string) (llmConfig, error) {
	get := func(f string) string { return strings.TrimSpace(*vals[f]) }
	c := llmConfig{URL: get("llm-url"), Model: get("llm-model"), APIKey: get("llm-api-key")}
	keyFlag := false
	fs.Visit(func(f *flag.Flag) { keyFlag = keyFlag || f.Name == "llm-api-key" })
	if path := get("llm-api-key-file"); path != "" && !keyFlag {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("-llm-api-key-file: %w", err)
		}
		c.APIKey = strings.TrimSpace(string(b))
	}
	if c.URL == "" {
		return c, nil
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("-llm-url: must be an http:// or https:// URL")
	}
	if c.Model == "" {
		return c, fmt.Errorf("-llm-model: required with -llm-url")
	}
	return c, nil
}

// parseConfig reads flags over environment variables over defaults.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals, err := registerSettings(fs, slices.Concat(settings, llmSettings, twilioSettings, voiceSettings), getenv)
	if err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	get := func(f string) string { return strings.TrimSpace(*vals[f]) }
	cfg := &config{
		HTTPAddr: get("http"), OCPPAddr: get("ocpp"), TLSCert: get("tls-cert"), TLSKey: get("tls-key"),
		DataDir: get("data"), DatabaseURL: get("db"), NATSURL: get("nats"), NATSPrefix: get("nats-prefix"), Node: get("node"),
		LogFormat: get("log-format"),
	}
	var errs []error
	boolean := func(f string) bool {
		b, err := strconv.ParseBool(get(f))
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s: %q is not a boolean", f, get(f)))
		}
		return b
	}
	cfg.AutoRegister = boolean("auto-register")
	cfg.AllowUnauthenticated = boolean("allow-unauthenticated")
	cfg.ConsoleSecure = boolean("console-secure")
	if cfg.AgentCommands, err = parseAgentCommands(get("agent-commands")); err != nil {
		errs = append(errs, err)
	}
	hb, err := time.ParseDuration(get("heartbeat-interval"))
	if err != nil || hb < 10*time.Second || hb > 24*time.Hour {
		errs = append(errs, fmt.Errorf("-heartbeat-interval: %q must be a duration from 10s to 24h", get("heartbeat-interval")))
	}
	cfg.HeartbeatInterval = hb
	if err := cfg.LogLevel.UnmarshalText([]byte(get("log-level"))); err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %w", err))
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("-log-format: %q is not text or json", cfg.LogFormat))
	}
	if cfg.Upstream, cfg.UpstreamTLS, err = upstreamFromFlags(get("upstream"), get("upstream-ca")); err != nil {
		errs = append(errs, err)
	}
	switch cfg.UpstreamBoot = csms.UpstreamBoot(get("upstream-boot")); cfg.UpstreamBoot {
	case csms.BootKnown, csms.BootAccept, csms.BootPending:
	default:
		errs = append(errs, fmt.Errorf("-upstream-boot: %q is not known, accept or pending", cfg.UpstreamBoot))
	}
	switch cfg.UpstreamConflict = csms.UpstreamConflict(get("upstream-conflict")); cfg.UpstreamConflict {
	case csms.ConflictWait, csms.ConflictRefuse:
	default:
		errs = append(errs, fmt.Errorf("-upstream-conflict: %q is not wait or refuse", cfg.UpstreamConflict))
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		errs = append(errs, errors.New("-tls-cert and -tls-key go together"))
	}
	cfg.RequireClientCert = boolean("require-client-cert")
	if cfg.ClientCAs, err = clientCAsFromFlags(get("client-ca"), cfg.TLSCert != "", cfg.RequireClientCert); err != nil {
		errs = append(errs, err)
	}
	if cfg.APIKeys, err = parseAPIKeys(get("api-keys")); err != nil {
		errs = append(errs, err)
	}
	if cfg.LLM, err = llmFromFlags(fs, vals); err != nil {
		errs = append(errs, err)
	}
	if cfg.Twilio, err = twilioFromFlags(vals); err != nil {
		errs = append(errs, err)
	}
	if cfg.Voice, err = voiceFromFlags(vals); err != nil {
		errs = append(errs, err)
	}
	if cfg.Node == "" {
		cfg.Node, _ = os.Hostname()
		if cfg.Node == "" {
			cfg.Node = "node-1"
		}
	}
	return cfg, errors.Join(errs...)
}

// databaseDSN is the DSN to open: DatabaseURL, or SQLite in DataDir.
func (c *config) databaseDSN() (string, error) {
	if c.DatabaseURL != "" {
		return c.DatabaseURL, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	return "sqlite://" + filepath.Join(c.DataDir, "chargedesk.db"), nil
}

// readEnv returns the variable, or the trimmed contents of the file named by
// NAME_FILE.
func readEnv(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	path := getenv(name + "_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// parseAPIKeys reads "name:key,name:key".
func parseAPIKeys(s string) (map[string]string, error) {
	keys := make(map[string]string)
	if s == "" {
		return keys, nil
	}
	for _, item := range strings.Split(s, ",") {
		name, key, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok || name == "" || len(key) < 16 {
			return nil, fmt.Errorf("-api-keys: each entry must be name:key with a key of 16 or more characters")
		}
		if _, dup := keys[key]; dup {
			return nil, fmt.Errorf("-api-keys: a key is listed twice")
		}
		keys[key] = name
	}
	return keys, nil
}

// boolFlag is a boolean setting kept as text (parsed with the others), that
// can be given as a bare flag: -auto-register means -auto-register=true.
type boolFlag string

func (b *boolFlag) String() string     { return string(*b) }
func (b *boolFlag) Set(v string) error { *b = boolFlag(v); return nil }
func (b *boolFlag) IsBoolFlag() bool   { return true }

// upstreamFromFlags checks proxy mode's upstream URL and reads its CA file.
func upstreamFromFlags(raw, caFile string) (string, *tls.Config, error) {
	if raw == "" {
		if caFile != "" {
			return "", nil, errors.New("-upstream-ca needs -upstream")
		}
		return "", nil, nil
	}
	if err := chargedesk.ValidateUpstreamURL(raw); err != nil {
		return "", nil, fmt.Errorf("-upstream: %s", chargedesk.ErrorMessage(err))
	}
	if caFile == "" {
		return raw, nil, nil
	}
	if !strings.HasPrefix(raw, "wss://") {
		return "", nil, errors.New("-upstream-ca is for a wss:// upstream")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return "", nil, fmt.Errorf("-upstream-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return "", nil, fmt.Errorf("-upstream-ca: %s holds no PEM certificate", caFile)
	}
	return raw, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// clientCAsFromFlags reads the CAs of chargers' client certificates. They
// need the OCPP endpoint's own certificate (client certificates are asked
// for in its TLS handshake), and requiring a client certificate needs them.
func clientCAsFromFlags(caFile string, serverTLS, require bool) (*x509.CertPool, error) {
	if caFile == "" {
		if require {
			return nil, errors.New("-require-client-cert needs -client-ca")
		}
		return nil, nil
	}
	if !serverTLS {
		return nil, errors.New("-client-ca needs -tls-cert and -tls-key: client certificates are asked for over wss://")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("-client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-client-ca: %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// clientCertMode says, for the start-up log, whether the OCPP endpoint asks
// chargers for client certificates.
func (c *config) clientCertMode() string {
	switch {
	case c.ClientCAs == nil:
		return "off"
	case c.RequireClientCert:
		return "required"
	default:
		return "verified if given"
	}
}

// parseAgentCommands reads "Kind,Kind": each a command the agent may send
// at all.
func parseAgentCommands(s string) ([]chargedesk.CommandKind, error) {
	if s == "" {
		return nil, nil
	}
	var out []chargedesk.CommandKind
	for _, item := range strings.Split(s, ",") {
		k := chargedesk.CommandKind(strings.TrimSpace(item))
		if !slices.Contains(policy.AgentKinds(), k) {
			return nil, fmt.Errorf("-agent-commands: %q is not a command the agent may send (%v)", k, policy.AgentKinds())
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}
