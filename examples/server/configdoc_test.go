package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// configRead matches the environment variables the server's parser reads:
// p.str("NAME", ...), p.boolean("NAME", ...) and the other methods of the
// parser, whose receiver is p in every file of this package.
var configRead = regexp.MustCompile(`\bp\.[a-zA-Z]+\("([A-Z][A-Z0-9_]+)"`)

// TestConfigDocumented keeps README.md, the server's configuration page, in
// step with the code: every variable the server reads has a row there.
func TestConfigDocumented(t *testing.T) {
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range srcs {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range configRead.FindAllSubmatch(b, -1) {
			seen[string(m[1])] = true
		}
	}
	if len(seen) < 50 {
		t.Fatalf("found only %d variables in the parser's calls; has the parser changed?", len(seen))
	}
	for name := range seen {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("examples/server/README.md does not document %s", name)
		}
	}
}
