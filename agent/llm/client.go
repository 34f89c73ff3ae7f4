package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Client calls the chat-completions endpoint of an OpenAI-compatible API.
// It is safe for concurrent use.
type Client struct {
	endpoint string // {base}/chat/completions
	model    string
	key      string
	http     *http.Client
	// jsonObject asks for response_format json_object instead of
	// json_schema, for servers that do not take a schema.
	jsonObject bool
}

// NewClient returns a client of the API at base (e.g.
// "https://api.openai.com/v1"). key may be empty for servers without
// authentication; hc nil means http.DefaultClient.
func NewClient(base, model, key string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{endpoint: strings.TrimRight(base, "/") + "/chat/completions", model: model, key: key, http: hc}
}

// maxResponseBytes bounds the response body read.
const maxResponseBytes = 1 << 20

// Errors of Complete, besides the context's.
var (
	// ErrRefused means the model declined to answer.
	ErrRefused = errors.New("llm: the model refused")
	// ErrMalformed means the response is not the API's JSON.
	ErrMalformed = errors.New("llm: malformed response")
)

// StatusError is a non-2xx answer of the API.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("llm: HTTP status %d", e.Code) }

type chatRequest struct {
	Model          string    `json:"model"`
	Messages       []Message `json:"messages"`
	Temperature    float64   `json:"temperature"`
	ResponseFormat any       `json:"response_format,omitempty"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

// Complete sends msgs at temperature 0 asking for a JSON answer that
// follows schema (named name), and returns the first choice's content.
// Errors: the context's error, *StatusError, ErrRefused, ErrMalformed, or
// a transport error.
func (c *Client) Complete(ctx context.Context, msgs []Message, name string, schema any) (string, error) {
	req := chatRequest{Model: c.model, Messages: msgs}
	if c.jsonObject {
		req.ResponseFormat = map[string]string{"type": "json_object"}
	} else {
		req.ResponseFormat = map[string]any{
			"type":        "json_schema",
			"json_schema": map[string]any{"name": name, "strict": true, "schema": schema},
		}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if c.key != "" {
		hr.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		return "", &StatusError{Code: resp.StatusCode}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", err
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil || len(cr.Choices) == 0 {
		return "", ErrMalformed
	}
	ch := cr.Choices[0]
	if ch.Message.Refusal != nil && strings.TrimSpace(*ch.Message.Refusal) != "" || ch.FinishReason == "content_filter" {
		return "", ErrRefused
	}
	if ch.Message.Content == nil {
		return "", ErrMalformed
	}
	return *ch.Message.Content, nil
}
