// Command openapicheck checks the answers the library's HTTP test suite
// recorded against the OpenAPI document that answered them, with
// kin-openapi (software nobody here wrote). The httpadapter tests run it
// when they are done (see httpadapter/openapi_conformance_test.go); it
// lives in the examples module so that the library's go.mod needs no
// kin-openapi.
//
//	go run ./internal/openapicheck DIR
//
// DIR holds answers.jsonl, a recorded answer per line, and the documents
// as <hex SHA-256>.json. Each violation is printed with the test that
// recorded it; the exit status is 1 when there is one.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openapicheck DIR")
		os.Exit(2)
	}
	bad, err := run(os.Args[1], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapicheck:", err)
		os.Exit(1)
	}
	if bad > 0 {
		os.Exit(1)
	}
}

// run checks every answer in dir, prints each violation to out, and
// returns how many there were.
func run(dir string, out io.Writer) (int, error) {
	f, err := os.Open(filepath.Join(dir, "answers.jsonl"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	c := newChecker(func(name string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, name+".json"))
	})
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	n, bad := 0, 0
	for sc.Scan() {
		var a Answer
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return bad, fmt.Errorf("answers.jsonl line %d: %w", n+1, err)
		}
		n++
		if err := c.check(a); err != nil {
			bad++
			fmt.Fprintf(out, "%s: OpenAPI conformance of %s %s → %d: %v\n", a.Test, a.Method, a.Target, a.Status, err)
		}
	}
	if err := sc.Err(); err != nil {
		return bad, fmt.Errorf("read answers.jsonl: %w", err)
	}
	fmt.Fprintf(out, "openapicheck: %d answers against %d documents, %d violations\n", n, len(c.docs), bad)
	return bad, nil
}
