package testbrowser

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserRecordsScriptErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte(`<!doctype html><title>ok</title><p id="p">fine</p>`))
		case "/throws":
			_, _ = w.Write([]byte(`<!doctype html><title>bad</title><script>null.boom()</script>`))
		}
	}))
	defer srv.Close()
	var errs []string
	t.Run("browse", func(t *testing.T) {
		b := New(t, time.Minute)
		if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL+"/ok")); err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(b.Ctx, chromedp.Text("#p"))
		if err != nil {
			t.Fatal(err)
		}
		if text != "fine" {
			t.Fatalf("text = %q", text)
		}
		b.Check()
		if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL+"/throws"), chromedp.WaitReady("body")); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); len(b.Errors()) == 0 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond) // the event travels from the browser on its own
		}
		errs = b.Errors()
		b.mu.Lock()
		b.errs = nil // recorded as expected: do not fail this test for it
		b.mu.Unlock()
	})
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "uncaught exception") {
		t.Fatalf("the thrown error was not recorded: %q", errs)
	}
}

// TestHelperNeedsBrowser is run as a subprocess by TestMissingBrowser.
func TestHelperNeedsBrowser(t *testing.T) {
	if os.Getenv("TESTBROWSER_HELPER") != "1" {
		return
	}
	Path(t)
	t.Log("found a browser")
}

func TestMissingBrowser(t *testing.T) {
	tests := []struct {
		name     string
		ci       string
		wantFail bool
		wantOut  string
	}{
		{"CI fails", "true", true, "must run"},
		{"locally skips", "", false, "install Debian's chromium"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNeedsBrowser$", "-test.v")
			// An empty PATH hides every browser; EnvVar unset.
			cmd.Env = append(os.Environ(), "TESTBROWSER_HELPER=1", EnvVar+"=", "PATH=", "CI="+tt.ci)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tt.wantFail {
				t.Errorf("failed = %v, want %v; output:\n%s", failed, tt.wantFail, out)
			}
			if !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out)
			}
		})
	}
}
