package mail

import (
	"context"
	"log/slog"
	"regexp"
	"sync"
)

// Memory keeps every message it is given, for tests. The zero value is
// ready to use.
type Memory struct {
	mu     sync.Mutex
	msgs   []Message
	read   int
	notify chan struct{}
}

// Send implements the Mailer of usermgmt.
func (m *Memory) Send(_ context.Context, msg Message) error {
	if err := msg.Validate(); err != nil {
		return err
	}
	msg.To = append([]string(nil), msg.To...)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	if m.notify != nil {
		close(m.notify)
		m.notify = nil
	}
	return nil
}

// Messages returns every message sent so far, oldest first.
func (m *Memory) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.msgs...)
}

// Next returns the oldest message not yet returned by Next, waiting for one
// until ctx ends.
func (m *Memory) Next(ctx context.Context) (Message, error) {
	for {
		m.mu.Lock()
		if m.read < len(m.msgs) {
			msg := m.msgs[m.read]
			m.read++
			m.mu.Unlock()
			return msg, nil
		}
		if m.notify == nil {
			m.notify = make(chan struct{})
		}
		ch := m.notify
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// Log writes each message (recipients, subject, the links of its text body
// and the text itself) to a logger instead of sending it: for development
// only, since its links and codes are live secrets.
type Log struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

var linkPattern = regexp.MustCompile(`https?://[^\s"'<>]+`)

// Send implements the Mailer of usermgmt.
func (l *Log) Send(ctx context.Context, msg Message) error {
	if err := msg.Validate(); err != nil {
		return err
	}
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "mail (log transport, not sent)", "to", msg.To, "subject", msg.Subject,
		"links", linkPattern.FindAllString(msg.Text, 10), "text", msg.Text)
	return nil
}
