package main

import (
	"net"
	"strings"
	"testing"
)

// TestNothingAnswersSuggestsTheDevStack: a command whose API address has
// nothing listening says so, and how to start the dev stack or point
// elsewhere.
func TestNothingAnswersSuggestsTheDevStack(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	out, err := run(t, "reviews", "--server", "http://"+addr, "--token", "cs_x")
	if err == nil || !strings.Contains(err.Error(), "cannot reach the countersign API at http://"+addr) ||
		!strings.Contains(err.Error(), "make dev starts the dev stack") || !strings.Contains(err.Error(), "--server or COUNTERSIGN_SERVER") {
		t.Fatalf("reviews with nothing at %s: %v\n%s; want the address, make dev and --server named", addr, err, out)
	}
}

// TestOneLineKeepsEscapesFromTheTerminal: a draft value carrying an escape
// sequence reaches the reviewer's terminal as text, not as a command.
func TestOneLineKeepsEscapesFromTheTerminal(t *testing.T) {
	if got := oneLine("Acme\x1b]0;owned\x07 Corp\n Ltd"); got != "Acme\uFFFD]0;owned\uFFFD Corp Ltd" {
		t.Fatalf("oneLine = %q", got)
	}
}
