package httpadapter_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// Every answer the suite records through serve is checked against the
// OpenAPI document the same handler serves at /openapi.json, by kin-openapi
// (software nobody here wrote). The checker lives in the examples module
// (examples/internal/openapicheck), which requires kin-openapi, so that the
// library's go.mod does not: a test-only require would still land in every
// consumer's go.sum. The suite writes each answer, with the name of the
// test that recorded it, and each distinct document to a directory; when
// the tests are done TestMain runs the checker over it, and a violation
// fails the package. Where the examples module is absent (the library's
// tests run from the module cache) the check is left out with a notice, and
// refused when CI=true.

// answerLog is where serve records answers: a directory with the
// documents, by the hex SHA-256 of their bytes, and answers.jsonl.
var answerLog struct {
	mu   sync.Mutex
	dir  string
	enc  *json.Encoder
	docs map[[32]byte]bool
	n    int
}

// recordedAnswer is a line of answers.jsonl; the checker reads the same
// fields.
type recordedAnswer struct {
	Test      string      `json:"test"`
	Doc       string      `json:"doc"`
	Method    string      `json:"method"`
	Target    string      `json:"target"`
	ReqHeader http.Header `json:"req_header"`
	Status    int         `json:"status"`
	Header    http.Header `json:"header"`
	Body      []byte      `json:"body"`
}

// conformanceFetches numbers the fetches of the document.
var conformanceFetches atomic.Uint32

// documentOf returns the document h serves, nil when it serves none.
func documentOf(h http.Handler) []byte {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/openapi.json", nil)
	// Each fetch comes from an address of its own (in 100.64.0.0/10, which
	// no test trusts as a proxy), so that it spends no client's rate limit.
	n := conformanceFetches.Add(1)
	req.RemoteAddr = netip.AddrFrom4([4]byte{100, 64 | byte(n>>16&0x3f), byte(n >> 8), byte(n)}).String() + ":9"
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil
	}
	return rec.Body.Bytes()
}

// recordAnswer writes the answer res to req, and the document h serves, to
// the answer log for the checker. Requests for the document itself, and
// handlers that serve none (a test's own mux), are not recorded.
func recordAnswer(t testing.TB, h http.Handler, req *http.Request, res result) {
	t.Helper()
	if req.URL.Path == "/openapi.json" {
		return
	}
	answerLog.mu.Lock()
	enabled := answerLog.enc != nil
	answerLog.mu.Unlock()
	if !enabled {
		return
	}
	doc := documentOf(h)
	if doc == nil {
		return
	}
	key := sha256.Sum256(doc)
	name := hex.EncodeToString(key[:])
	answerLog.mu.Lock()
	defer answerLog.mu.Unlock()
	if !answerLog.docs[key] {
		if err := os.WriteFile(filepath.Join(answerLog.dir, name+".json"), doc, 0o600); err != nil {
			t.Fatalf("record the OpenAPI document: %v", err)
		}
		answerLog.docs[key] = true
	}
	line := recordedAnswer{
		Test: t.Name(), Doc: name, Method: req.Method, Target: req.URL.RequestURI(),
		ReqHeader: req.Header, Status: res.status, Header: res.header, Body: res.body,
	}
	if err := answerLog.enc.Encode(line); err != nil {
		t.Fatalf("record the answer: %v", err)
	}
	answerLog.n++
}

// TestMain runs the tests, then the OpenAPI conformance check of every
// answer they recorded.
func TestMain(m *testing.M) {
	os.Exit(runWithConformance(m))
}

func runWithConformance(m *testing.M) int {
	examples, err := examplesModule()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: the OpenAPI conformance check cannot run: %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "httpadapter: OpenAPI conformance not checked: %v\n", err)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "usermgmt-answers-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: answer log: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "answers.jsonl"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: answer log: %v\n", err)
		return 1
	}
	answerLog.dir, answerLog.enc, answerLog.docs = dir, json.NewEncoder(f), map[[32]byte]bool{}

	code := m.Run()

	answerLog.mu.Lock()
	answerLog.enc = nil
	n := answerLog.n
	answerLog.mu.Unlock()
	if err := f.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: answer log: %v\n", err)
		return 1
	}
	if n == 0 {
		return code
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.Command(goBin, "run", "./internal/openapicheck", dir)
	cmd.Dir = examples
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: OpenAPI conformance of the %d recorded answers: %v\n", n, err)
		return 1
	}
	return code
}

// examplesModule returns the directory of the examples module, which holds
// the checker: ../examples from this package's directory.
func examplesModule() (string, error) {
	dir, err := filepath.Abs(filepath.Join("..", "examples"))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "internal", "openapicheck")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("the examples module (with internal/openapicheck) is not beside this package: %w", err)
		}
		return "", err
	}
	return dir, nil
}
