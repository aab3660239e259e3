// Package testbrowser gives tests a headless Chromium, driven with
// chromedp.
//
// The browser is the binary named by the environment variable
// USERMGMT_TEST_CHROMIUM, else chromium (Debian's package, which .ci/run
// installs), chromium-browser or google-chrome on PATH. Without one, tests
// that need it skip, except in CI (CI=true), where they fail: a browser
// test must never pass unnoticed there.
//
// Each browser runs headless with a fresh profile and the flags that keep
// it quiet on a machine without network access (no sandbox, as CI runs as
// root). Every uncaught script exception, console.error call and browser
// log entry of level error but those of the network (a refused script, a
// Content-Security-Policy violation) is recorded; the test fails on them at
// Check and when it ends. Network entries are left out: a page answering
// 4xx on purpose logs one.
package testbrowser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// EnvVar names the Chromium binary to use.
const EnvVar = "USERMGMT_TEST_CHROMIUM"

// candidates are looked up on PATH in order when EnvVar is unset.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Path returns the Chromium binary; it skips the test when there is none,
// or fails it in CI.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvVar); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("testbrowser: %s=%s is not an executable: %v", EnvVar, p, err)
		}
		return p
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatalf("testbrowser: no Chromium found (%s, or %s on PATH): in CI the browser tests must run (.ci/run installs chromium)",
			EnvVar, strings.Join(candidates, ", "))
	}
	t.Skipf("testbrowser: no Chromium found; install Debian's chromium or set %s", EnvVar)
	return ""
}

// Browser is one headless Chromium with one tab.
type Browser struct {
	// Ctx is the tab's chromedp context; it ends with the test.
	Ctx context.Context

	t    testing.TB
	mu   sync.Mutex
	errs []string
}

// New starts a browser for the test, stopped when it ends. timeout bounds
// everything the test does with it.
func New(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	path := Path(t)
	profile := filepath.Join(t.TempDir(), "profile")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1024, 800),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	b := &Browser{Ctx: tabCtx, t: t}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.errs) > 0 {
			t.Errorf("testbrowser: script errors:\n%s", strings.Join(b.errs, "\n"))
		}
	})
	if err := chromedp.Listen(tabCtx, b.listen); err != nil { // starts the browser
		t.Fatalf("testbrowser: start %s: %v", path, err)
	}
	return b
}

// listen records the page's errors.
func (b *Browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = fmt.Sprintf("uncaught exception: %s at %s:%d:%d", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
		if d.Exception != nil && d.Exception.Description != "" {
			msg += ": " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			parts = append(parts, string(a.Value))
		}
		msg = "console.error: " + strings.Join(parts, " ")
	case *log.EventEntryAdded:
		// Network entries report every 4xx document too, which a page
		// refusing a form answers on purpose; the rest (security, a
		// Content-Security-Policy violation among them; javascript;
		// rendering ...) count.
		if ev.Entry.Level != log.EntryLevelError || ev.Entry.Source == log.EntrySourceNetwork {
			return
		}
		msg = fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.errs = append(b.errs, msg)
	b.mu.Unlock()
}

// Errors returns the errors recorded so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// Check fails the test now if the page has reported an error.
func (b *Browser) Check() {
	b.t.Helper()
	if errs := b.Errors(); len(errs) > 0 {
		b.t.Fatalf("testbrowser: script errors:\n%s", strings.Join(errs, "\n"))
	}
}
