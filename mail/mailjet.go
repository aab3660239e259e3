package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"time"
)

// DefaultMailjetEndpoint is the Mailjet v3.1 send API.
const DefaultMailjetEndpoint = "https://api.mailjet.com/v3.1/send"

// Mailjet sends through the Mailjet v3.1 send API: one request per message
// with one entry in Messages, authenticated with the API key pair.
type Mailjet struct {
	// PublicKey and PrivateKey are MJ_APIKEY_PUBLIC and MJ_APIKEY_PRIVATE.
	PublicKey, PrivateKey string
	// From is the sender address (MJ_SENDER_EMAIL); FromName its name.
	From, FromName string
	// Endpoint defaults to DefaultMailjetEndpoint.
	Endpoint string
	// Client defaults to an http.Client with a 30 s timeout.
	Client *http.Client
}

// Validate reports a configuration that cannot send.
func (m *Mailjet) Validate() error {
	var errs []error
	if m.PublicKey == "" || m.PrivateKey == "" {
		errs = append(errs, errors.New("Mailjet public and private API keys are required"))
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		errs = append(errs, fmt.Errorf("Mailjet sender %q is not an address", m.From))
	}
	return errors.Join(errs...)
}

type mjAddress struct {
	Email string `json:"Email"`
	Name  string `json:"Name,omitempty"`
}

type mjMessage struct {
	From     mjAddress   `json:"From"`
	To       []mjAddress `json:"To"`
	Subject  string      `json:"Subject"`
	TextPart string      `json:"TextPart,omitempty"`
	HTMLPart string      `json:"HTMLPart,omitempty"`
}

type mjRequest struct {
	Messages []mjMessage `json:"Messages"`
}

// Send implements the Mailer of usermgmt. Any answer but 200 is an error
// carrying (a bounded part of) Mailjet's body.
func (m *Mailjet) Send(ctx context.Context, msg Message) error {
	if err := msg.Validate(); err != nil {
		return err
	}
	from := mjAddress{Email: m.From, Name: m.FromName}
	if msg.From != "" {
		a, _ := mail.ParseAddress(msg.From)
		from = mjAddress{Email: a.Address, Name: a.Name}
	}
	mm := mjMessage{From: from, Subject: msg.Subject, TextPart: msg.Text, HTMLPart: msg.HTML}
	for _, to := range msg.To {
		a, _ := mail.ParseAddress(to)
		mm.To = append(mm.To, mjAddress{Email: a.Address, Name: a.Name})
	}
	body, err := json.Marshal(mjRequest{Messages: []mjMessage{mm}})
	if err != nil {
		return fmt.Errorf("mail: mailjet encode: %w", err)
	}
	endpoint := m.Endpoint
	if endpoint == "" {
		endpoint = DefaultMailjetEndpoint
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("mail: mailjet request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(m.PublicKey, m.PrivateKey)
	client := m.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("mail: mailjet send: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mail: mailjet answered %d: %s", resp.StatusCode, bytes.TrimSpace(answer))
	}
	return nil
}
