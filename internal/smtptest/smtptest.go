// Package smtptest is an SMTP server for tests: a real listener on
// 127.0.0.1 speaking enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT; no STARTTLS, no AUTH) for mail.SMTP with NoTLS to deliver
// to it, and keeping what it receives.
package smtptest

import (
	"bufio"
	"context"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server received.
type Message struct {
	From string   // the MAIL FROM address
	To   []string // the RCPT TO addresses
	Data string   // the message as sent, dot-unstuffed, CRLF line ends
}

// Parse parses the message's header and body.
func (m Message) Parse() (*mail.Message, error) { return mail.ReadMessage(strings.NewReader(m.Data)) }

// Server is a running test SMTP server.
type Server struct {
	// Host and Port are where it listens.
	Host string
	Port int

	ln net.Listener
	ch chan Message
	wg sync.WaitGroup
}

// Start starts a server that t stops when it ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	s := &Server{Host: addr.IP.String(), Port: addr.Port, ln: ln, ch: make(chan Message, 64)}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

// Next returns the next message received, waiting for it until ctx ends.
func (s *Server) Next(ctx context.Context) (Message, error) {
	select {
	case m := <-s.ch:
		return m, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Pending returns how many received messages Next has not returned.
func (s *Server) Pending() int { return len(s.ch) }

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(line string) {
		_, _ = w.WriteString(line + "\r\n")
		_ = w.Flush()
	}
	reply("220 smtptest ESMTP")
	var cur Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reply("250-smtptest")
			reply("250 8BITMIME")
		case "HELO", "NOOP":
			reply("250 ok")
		case "RSET":
			cur = Message{}
			reply("250 ok")
		case "MAIL":
			cur = Message{From: address(arg)}
			reply("250 ok")
		case "RCPT":
			cur.To = append(cur.To, address(arg))
			reply("250 ok")
		case "DATA":
			if cur.From == "" || len(cur.To) == 0 {
				reply("503 MAIL and RCPT first")
				continue
			}
			reply("354 end with <CRLF>.<CRLF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = b.String()
			select {
			case s.ch <- cur:
				reply("250 queued")
			default:
				reply("452 mailbox full")
			}
			cur = Message{}
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// address takes the address out of "FROM:<a@b>" or "TO:<a@b> ...".
func address(arg string) string {
	_, rest, _ := strings.Cut(arg, ":")
	rest = strings.TrimSpace(rest)
	if i := strings.IndexByte(rest, '>'); strings.HasPrefix(rest, "<") && i > 0 {
		return rest[1:i]
	}
	return rest
}
