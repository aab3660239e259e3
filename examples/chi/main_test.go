package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunOnce serves on a random port, runs the client session against
// itself and exits.
func TestRunOnce(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-once", "-bcrypt-cost", "4"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"listening on 127.0.0.1:", "registered jane_doe", "hello, jane_doe", "without a token: 401"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-nope"}, &out); err == nil {
		t.Fatal("run accepted an unknown flag")
	}
	if err := run(t.Context(), []string{"-db", "mysql://x", "-once"}, &out); err == nil {
		t.Fatal("run accepted an unknown database")
	}
}
