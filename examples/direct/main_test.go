package main

import (
	"bytes"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, 4); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	want := `created site_admin jane_doe bob_smith
jane may not list users
jane blocked 1 user
bob can no longer see jane
search b: bob_smith active: false
audit: ban spam
export starts with {"dialect":"sqlite"
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
