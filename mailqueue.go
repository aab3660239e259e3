package usermgmt

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/usermgmt/usermgmt/mail"
)

// Defaults of the mail queue.
const (
	defaultMailAttempts  = 3
	defaultMailBackoff   = 2 * time.Second
	defaultMailTimeout   = 30 * time.Second
	defaultMailQueueSize = 256
	mailWorkers          = 2
)

// queuedMail is one message waiting to be sent; kind and user are for the
// logs, which never carry the message itself (its links are live tokens).
type queuedMail struct {
	msg  mail.Message
	kind string
	user string
	// decoy is dropped by the worker unsent and unlogged (see queueMail).
	decoy bool
}

// mailQueue sends messages in the background, so that a slow mail server
// never holds a request.
type mailQueue struct {
	mailer Mailer
	opt    mailOptions
	m      *Manager

	mu     sync.Mutex
	closed bool
	ch     chan queuedMail
	wg     sync.WaitGroup
}

// initAccountSecurity derives the keys of codes and TOTP secrets and, with
// a mailer, starts the mail queue.
func (m *Manager) initAccountSecurity() error {
	// Every secret yields its keys: the current one hashes new codes and
	// seals new TOTP secrets, the previous ones still check and open what
	// was made before a rotation (recovery codes live for years).
	for _, s := range append([][]byte{m.cfg.JWTSecret}, m.cfg.JWTPreviousSecrets...) {
		ck, err := deriveKey(s, "usermgmt one-time codes")
		if err != nil {
			return err
		}
		tk, err := deriveKey(s, "usermgmt totp secret")
		if err != nil {
			return err
		}
		m.codeKeys = append(m.codeKeys, ck)
		m.otpKeys = append(m.otpKeys, tk)
	}
	o := &m.mailOpt
	if o.attempts <= 0 {
		o.attempts = defaultMailAttempts
	}
	if o.backoff <= 0 {
		o.backoff = defaultMailBackoff
	}
	if o.timeout <= 0 {
		o.timeout = defaultMailTimeout
	}
	if o.queueSize <= 0 {
		o.queueSize = defaultMailQueueSize
	}
	if o.resolver == nil {
		o.resolver = net.DefaultResolver
	}
	if m.mailer == nil {
		return nil
	}
	q := &mailQueue{mailer: m.mailer, opt: *o, m: m, ch: make(chan queuedMail, o.queueSize)}
	for range mailWorkers {
		q.wg.Add(1)
		go q.work()
	}
	m.mail = q
	return nil
}

// closeMail stops taking mail and waits for the queue to drain.
func (m *Manager) closeMail() {
	q := m.mail
	if q == nil {
		return
	}
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	q.wg.Wait()
}

// enqueue queues qm; a full or closed queue drops it with an error log.
func (q *mailQueue) enqueue(ctx context.Context, qm queuedMail) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		if !qm.decoy {
			q.m.log.ErrorContext(ctx, "mail dropped: the manager is closed", "kind", qm.kind, "user", qm.user)
		}
		return
	}
	select {
	case q.ch <- qm:
	default:
		if !qm.decoy {
			q.m.log.ErrorContext(ctx, "mail dropped: queue full", "kind", qm.kind, "user", qm.user)
		}
	}
}

func (q *mailQueue) work() {
	defer q.wg.Done()
	for qm := range q.ch {
		if qm.decoy {
			continue
		}
		q.send(qm)
	}
}

// send tries qm up to the configured attempts, waiting between them.
func (q *mailQueue) send(qm queuedMail) {
	wait := q.opt.backoff
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), q.opt.timeout)
		err := q.mailer.Send(ctx, qm.msg)
		cancel()
		if err == nil {
			q.m.log.Info("mail sent", "kind", qm.kind, "user", qm.user, "attempt", attempt)
			q.m.tel.mailed(qm.kind, "sent")
			return
		}
		if attempt >= q.opt.attempts {
			q.m.log.Error("mail not sent", "kind", qm.kind, "user", qm.user, "attempts", attempt, "err", err)
			q.m.tel.mailed(qm.kind, "failed")
			return
		}
		q.m.log.Warn("mail send failed; retrying", "kind", qm.kind, "user", qm.user, "attempt", attempt, "err", err)
		time.Sleep(wait)
		wait *= 2
	}
}

// enqueueWait queues qm, waiting while the queue is full; it fails when
// ctx ends or the manager is closed first.
func (q *mailQueue) enqueueWait(ctx context.Context, qm queuedMail) error {
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return errors.New("usermgmt: the manager is closed")
		}
		select {
		case q.ch <- qm:
			q.mu.Unlock()
			return nil
		default:
		}
		q.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
