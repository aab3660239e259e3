package usermgmt

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
)

// BcryptHasher reports each slot's wait once ReportWait gave it a
// function: a wait behind a held slot is at least as long as the slot was
// held.
func TestBcryptHasherReportsWait(t *testing.T) {
	h := NewBcryptHasher(4, 1)
	var calls atomic.Int64
	var longest atomic.Int64
	h.ReportWait(func(_ context.Context, d time.Duration) {
		calls.Add(1)
		if int64(d) > longest.Load() {
			longest.Store(int64(d))
		}
	})
	hash, err := h.Hash(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	// Hold the only slot for 50 ms from now. Compare starts waiting a
	// little later than the timer (more so on a loaded machine), so its
	// wait is asked to be at least 10 ms, not the whole 50.
	h.sem <- struct{}{}
	go func() { time.Sleep(50 * time.Millisecond); h.release() }()
	if err := h.Compare(context.Background(), hash, "x"); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || time.Duration(longest.Load()) < 10*time.Millisecond {
		t.Fatalf("reported %d waits, the longest %v; want 2, one of at least 10ms", calls.Load(), time.Duration(longest.Load()))
	}
}

// Without providers the Manager creates nothing: no tracer, no metrics,
// no cache counters (the hot path's only test is a nil check).
func TestTelemetryOffWithoutProviders(t *testing.T) {
	var m Manager
	if err := m.initTelemetry(); err != nil {
		t.Fatal(err)
	}
	if m.tel.tracer != nil || m.tel.on || m.tel.cache != nil {
		t.Fatalf("telemetry without providers: %+v", m.tel)
	}
	m.meterProvider = metricnoop.NewMeterProvider()
	if err := m.initTelemetry(); err != nil {
		t.Fatal(err)
	}
	if !m.tel.on || m.tel.cache == nil {
		t.Fatalf("telemetry with a meter provider: %+v", m.tel)
	}
}

// outcome names an error by its stable code, through wrapping, and
// anything else "error".
func TestOutcome(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "success"},
		{ErrInvalidLogin, "invalid_credentials"},
		{fmt.Errorf("login: %w", ErrSessionRevoked), "session_revoked"},
		{&OTPChallengeError{}, "otp_required"},
		{errors.New("disk full"), "error"},
	} {
		if got := outcome(c.err); got != c.want {
			t.Errorf("outcome(%v) = %q; want %q", c.err, got, c.want)
		}
	}
}
