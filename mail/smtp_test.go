package mail_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	umail "github.com/usermgmt/usermgmt/mail"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// smtpServer is a minimal SMTP server over a real socket: EHLO, STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
type smtpServer struct {
	addr     string
	cert     tls.Certificate
	noTLS    bool   // does not offer STARTTLS
	user     string // expected AUTH PLAIN credentials
	pass     string
	mu       sync.Mutex
	tlsUsed  bool
	authOK   bool
	from     string
	rcpts    []string
	data     string
	commands []string
}

func startSMTP(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(l string) { w.WriteString(l + "\r\n"); w.Flush() }
	reply("220 test ESMTP")
	inTLS := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		s.mu.Lock()
		s.commands = append(s.commands, verb)
		s.mu.Unlock()
		switch verb {
		case "EHLO":
			w.WriteString("250-test\r\n")
			if !s.noTLS && !inTLS {
				w.WriteString("250-STARTTLS\r\n")
			}
			reply("250 AUTH PLAIN")
		case "STARTTLS":
			reply("220 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if err := tc.Handshake(); err != nil {
				return
			}
			inTLS = true
			s.mu.Lock()
			s.tlsUsed = true
			s.mu.Unlock()
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
		case "AUTH":
			parts := strings.Fields(line)
			if len(parts) != 3 || parts[1] != "PLAIN" {
				reply("504 unsupported")
				continue
			}
			raw, _ := base64.StdEncoding.DecodeString(parts[2])
			if string(raw) != "\x00"+s.user+"\x00"+s.pass {
				reply("535 bad credentials")
				continue
			}
			s.mu.Lock()
			s.authOK = true
			s.mu.Unlock()
			reply("235 ok")
		case "MAIL":
			s.mu.Lock()
			s.from = line
			s.mu.Unlock()
			reply("250 ok")
		case "RCPT":
			s.mu.Lock()
			s.rcpts = append(s.rcpts, line)
			s.mu.Unlock()
			reply("250 ok")
		case "DATA":
			reply("354 go on")
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
			s.mu.Lock()
			s.data = b.String()
			s.mu.Unlock()
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown")
		}
	}
}

func TestSMTPSend(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := startSMTP(t, &smtpServer{cert: cert, user: "mailer", pass: "s3cret"})
	host, port, _ := net.SplitHostPort(srv.addr)
	p, _ := strconv.Atoi(port)
	tr := &umail.SMTP{
		Host: host, Port: p, Username: "mailer", Password: "s3cret",
		From: "noreply@example.com", FromName: "Project Name",
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: host},
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	msg := umail.Message{To: []string{"jane@example.com"}, Subject: "Hello – verify", Text: "Open https://x.example/verify?token=abc\n", HTML: "<p>Open <a href=\"https://x.example/verify?token=abc\">it</a></p>"}
	if err := tr.Send(context.Background(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !srv.tlsUsed || !srv.authOK {
		t.Fatalf("tls %v auth %v; commands %v", srv.tlsUsed, srv.authOK, srv.commands)
	}
	if srv.from != "MAIL FROM:<noreply@example.com>" || len(srv.rcpts) != 1 || srv.rcpts[0] != "RCPT TO:<jane@example.com>" {
		t.Fatalf("envelope %q %q", srv.from, srv.rcpts)
	}
	parsed, err := mail.ReadMessage(strings.NewReader(srv.data))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, srv.data)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if subj != msg.Subject || !strings.Contains(parsed.Header.Get("From"), "noreply@example.com") {
		t.Fatalf("headers %v", parsed.Header)
	}
	_, params, err := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(parsed.Body, params["boundary"])
	var bodies []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part) // NextPart decodes quoted-printable
		bodies = append(bodies, string(b))
	}
	if len(bodies) != 2 || !strings.Contains(bodies[0], "https://x.example/verify?token=abc") || !strings.Contains(bodies[1], "<a href=") {
		t.Fatalf("bodies %q", bodies)
	}
}

func TestSMTPFailures(t *testing.T) {
	cert, pool := selfSigned(t)
	tests := []struct {
		name string
		srv  *smtpServer
		user string
	}{
		{"no STARTTLS offered", &smtpServer{cert: cert, noTLS: true, user: "u", pass: "p"}, "u"},
		{"wrong credentials", &smtpServer{cert: cert, user: "u", pass: "other"}, "u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.srv)
			host, port, _ := net.SplitHostPort(srv.addr)
			p, _ := strconv.Atoi(port)
			tr := &umail.SMTP{Host: host, Port: p, Username: tt.user, Password: "p", From: "a@example.com",
				TLSConfig: &tls.Config{RootCAs: pool, ServerName: host}}
			err := tr.Send(context.Background(), umail.Message{To: []string{"b@example.com"}, Subject: "s", Text: "t"})
			if err == nil {
				t.Fatal("Send succeeded")
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.data != "" {
				t.Fatalf("message delivered despite %v", err)
			}
		})
	}
	// A server that never answers is cut off by the timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	tr := &umail.SMTP{Host: host, Port: p, From: "a@example.com", Timeout: 200 * time.Millisecond}
	start := time.Now()
	if err := tr.Send(context.Background(), umail.Message{To: []string{"b@example.com"}, Subject: "s", Text: "t"}); err == nil {
		t.Fatal("Send to a silent server succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Send took %v despite a 200ms timeout", d)
	}
}

func TestMessageValidate(t *testing.T) {
	tests := []struct {
		name string
		msg  umail.Message
		ok   bool
	}{
		{"ok", umail.Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"}, true},
		{"no recipient", umail.Message{Subject: "s", Text: "t"}, false},
		{"bad recipient", umail.Message{To: []string{"not an address"}, Subject: "s", Text: "t"}, false},
		{"header injection", umail.Message{To: []string{"a@example.com"}, Subject: "s\r\nBcc: x@example.com", Text: "t"}, false},
		{"empty body", umail.Message{To: []string{"a@example.com"}, Subject: "s"}, false},
		{"bad from", umail.Message{From: "x", To: []string{"a@example.com"}, Subject: "s", Text: "t"}, false},
	}
	for _, tt := range tests {
		if err := tt.msg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v", tt.name, err)
		}
	}
}
