// Package mailtest is a real SMTP server on loopback for tests, built on
// go-smtp: STARTTLS with a certificate of its own, PLAIN authentication,
// and the messages it received.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is a real SMTP server on loopback (go-smtp) that offers
// STARTTLS with a certificate of its own (when asked) and PLAIN
// authentication as User/Password, and keeps what it receives.
type Server struct {
	// Addr is where it listens; Roots trusts its certificate.
	Addr  string
	Roots *x509.CertPool
	mu    sync.Mutex
	got   []Message
}

// Message is one message received: its envelope, its data, who
// authenticated and whether TLS was on.
type Message struct {
	From string
	To   []string
	Data string
	User string
	TLS  bool
}

// User and Password are the credentials the server takes.
const (
	User     = "countersign"
	Password = "s3cret"
)

// Start starts a server for the test, offering STARTTLS when offerTLS.
func Start(t testing.TB, offerTLS bool) *Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	m := &Server{Roots: x509.NewCertPool()}
	m.Roots.AddCert(cert)
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{m: m, conn: c}, nil }))
	s.Domain = "127.0.0.1"
	if offerTLS {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	m.Addr = l.Addr().String()
	return m
}

type session struct {
	m    *Server
	conn *smtp.Conn
	cur  Message
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != User || pass != Password {
			return errors.New("invalid credentials")
		}
		s.cur.User = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	_, s.cur.TLS = s.conn.TLSConnectionState()
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(raw)
	s.m.mu.Lock()
	s.m.got = append(s.m.got, s.cur)
	s.m.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = Message{User: s.cur.User} }
func (s *session) Logout() error { return nil }

// Messages are the messages received so far.
func (m *Server) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.got...)
}
