package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseFlagsTargets(t *testing.T) {
	for _, target := range []string{
		"http://localhost:8000", "http://10.0.0.1:8000", "https://127.0.0.1:8000",
		"http://127.0.0.1", "http://127.0.0.1:8000/api", "http://example.com:80",
	} {
		if _, err := parseFlags([]string{"-target", target}); err == nil {
			t.Errorf("-target %s accepted; only http://127.0.0.1:PORT is", target)
		}
	}
	o, err := parseFlags([]string{"-target", "http://127.0.0.1:18080/", "-duration", "2s"})
	if err != nil || o.target != "http://127.0.0.1:18080" || o.duration != 2*time.Second {
		t.Errorf("parseFlags = %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"-duration", "0s"}); err == nil {
		t.Errorf("-duration 0s accepted")
	}
}

func TestPercentile(t *testing.T) {
	r := &result{}
	for i := 1; i <= 100; i++ {
		r.lat = append(r.lat, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := r.Percentile(p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if (&result{}).Percentile(99) != 0 {
		t.Errorf("empty percentile is not 0")
	}
}

// closedLoop stops at its request bound and counts non-2xx answers apart.
func TestClosedLoopBoundsAndCounts(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	a := newAPI(srv.URL, "/api", 4)
	r := closedLoop(context.Background(), "ping", 4, limits{duration: time.Minute, maxRequests: 100, timeout: 5 * time.Second},
		func(ctx context.Context, _ int) (int, error) { return a.ping(ctx) })
	if got := r.OK + r.Failed(); got != 100 {
		t.Errorf("sent %d requests, want exactly 100", got)
	}
	if r.Non2xx[http.StatusServiceUnavailable] != 10 || r.Errors != 0 {
		t.Errorf("non-2xx %v, errors %d; want 10×503", r.Non2xx, r.Errors)
	}
}

// openLoop keeps its pace and stops at its duration.
func TestOpenLoopPaced(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	a := newAPI(srv.URL, "/api", 4)
	r := openLoop(context.Background(), "ping", 100, 10, limits{duration: 500 * time.Millisecond, maxRequests: 1000, timeout: time.Second},
		func(ctx context.Context, _ int) (int, error) { return a.ping(ctx) })
	if r.OK != 50 || r.Failed() != 0 {
		t.Errorf("ok %d failed %d; want 50 requests at 100/s over 0.5 s", r.OK, r.Failed())
	}
}
