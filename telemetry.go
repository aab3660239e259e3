package usermgmt

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// InstrumentationName is the name of the OpenTelemetry meter and tracer
// the Manager and httpadapter create from the host's providers.
const InstrumentationName = "github.com/usermgmt/usermgmt"

// WithMeterProvider records the Manager's metrics (logins, registrations,
// refreshes, lockouts, mails, hash wait time, cache lookups; see
// docs/metrics.md) through mp. Without it (or with nil) no instrument is
// created and the hot paths pay for none.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(m *Manager) { m.meterProvider = mp }
}

// WithTracerProvider records spans of the Manager's main methods (Login,
// Register, Refresh, Authenticate, SignIn, OpenSession) through tp, as
// children of the span in their context (httpadapter starts one per request
// from its traceparent header). Without it (or with nil) no span is
// started.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(m *Manager) { m.tracerProvider = tp }
}

// MeterProvider returns the provider given to WithMeterProvider, or a no-op
// one, for feature packages and httpadapter to create their instruments.
func (m *Manager) MeterProvider() metric.MeterProvider {
	if m.meterProvider == nil {
		return metricnoop.NewMeterProvider()
	}
	return m.meterProvider
}

// TracerProvider returns the provider given to WithTracerProvider, or a
// no-op one.
func (m *Manager) TracerProvider() trace.TracerProvider {
	if m.tracerProvider == nil {
		return tracenoop.NewTracerProvider()
	}
	return m.tracerProvider
}

// HashWaitReporter is implemented by a Hasher that can tell how long each
// of its computations waited for a free slot (BcryptHasher and
// hashers.Hasher do). With WithMeterProvider, New hands it a function that
// records the usermgmt.hash.wait histogram.
type HashWaitReporter interface {
	ReportWait(func(ctx context.Context, waited time.Duration))
}

// telemetry holds the Manager's instruments. Its zero value (no providers)
// records nothing: every method returns at its first test.
type telemetry struct {
	tracer trace.Tracer // nil: no spans
	on     bool         // metrics are recorded

	logins, registrations, refreshes metric.Int64Counter
	reuses, lockouts, mails          metric.Int64Counter
	hashWait                         metric.Float64Histogram

	// Cache lookups are counted with atomics and read at collection, so
	// that Authenticate calls no instrument.
	cache *cacheStats
}

// cacheStats counts the hits and misses of the three caches of
// Authenticate (cache.go), indexed by cacheToken, cacheSession, cacheProfile.
type cacheStats struct {
	hits, misses [3]atomic.Int64
}

const (
	cacheToken = iota
	cacheSession
	cacheProfile
)

var cacheNames = [3]string{"token", "session", "profile"}

// initTelemetry creates the instruments from the host's providers.
func (m *Manager) initTelemetry() error {
	t := &m.tel
	if m.tracerProvider != nil {
		t.tracer = m.tracerProvider.Tracer(InstrumentationName)
	}
	if m.meterProvider == nil {
		return nil
	}
	meter := m.meterProvider.Meter(InstrumentationName)
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("{event}"))
		errs = append(errs, err)
		return c
	}
	t.logins = counter("usermgmt.logins", "Sign-in attempts by method and outcome (an error code, or success).")
	t.registrations = counter("usermgmt.registrations", "Self-registrations by outcome.")
	t.refreshes = counter("usermgmt.refreshes", "Refresh-token exchanges by outcome.")
	t.reuses = counter("usermgmt.refresh.reuse_detections", "Spent refresh tokens presented again (the session is revoked).")
	t.lockouts = counter("usermgmt.lockouts", "Accounts locked after failed logins.")
	t.mails = counter("usermgmt.mails", "Mails handed to the mailer, by kind and outcome (sent or failed).")
	var err error
	t.hashWait, err = meter.Float64Histogram("usermgmt.hash.wait", metric.WithUnit("s"),
		metric.WithDescription("Time a password hash or comparison waited for a free hashing slot."),
		metric.WithExplicitBucketBoundaries(0, 0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5))
	errs = append(errs, err)
	t.cache = &cacheStats{}
	lookups, err := meter.Int64ObservableCounter("usermgmt.cache.lookups", metric.WithUnit("{lookup}"),
		metric.WithDescription("Lookups of Authenticate's in-process caches by cache and result (hit or miss)."))
	errs = append(errs, err)
	if err == nil {
		var opts [3][2]metric.ObserveOption
		for i, name := range cacheNames {
			opts[i][0] = metric.WithAttributes(attribute.String("cache", name), attribute.String("result", "hit"))
			opts[i][1] = metric.WithAttributes(attribute.String("cache", name), attribute.String("result", "miss"))
		}
		cs := t.cache
		_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
			for i := range cacheNames {
				o.ObserveInt64(lookups, cs.hits[i].Load(), opts[i][0])
				o.ObserveInt64(lookups, cs.misses[i].Load(), opts[i][1])
			}
			return nil
		}, lookups)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	t.on = true
	return nil
}

// cacheLookup counts a lookup of cache c.
func (s *cacheStats) lookup(c int, hit bool) {
	if s == nil {
		return
	}
	if hit {
		s.hits[c].Add(1)
	} else {
		s.misses[c].Add(1)
	}
}

// outcome names how a call ended for a metric attribute: "success", the
// stable code of an *Error, or "error". Codes are a fixed catalogue, so the
// attribute stays low in cardinality.
func outcome(err error) string {
	if err == nil {
		return "success"
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return "error"
}

// start begins a span named name when tracing is on; end finishes it.
func (t *telemetry) start(ctx context.Context, name string) (context.Context, trace.Span) {
	if t.tracer == nil {
		return ctx, nil
	}
	return t.tracer.Start(ctx, name)
}

// end finishes span (nil when tracing is off), marking it failed by err.
func (t *telemetry) end(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, outcome(err))
	}
	span.End()
}

// count adds one to c with attributes kv when metrics are on.
func (t *telemetry) count(ctx context.Context, c metric.Int64Counter, kv ...attribute.KeyValue) {
	if !t.on {
		return
	}
	c.Add(ctx, 1, metric.WithAttributes(kv...))
}

// login counts a sign-in attempt.
func (t *telemetry) login(ctx context.Context, method string, err error) {
	if !t.on {
		return
	}
	if method == "" {
		method = "other"
	}
	t.count(ctx, t.logins, attribute.String("method", method), attribute.String("outcome", outcome(err)))
}

// waited records a hashing slot's wait.
func (t *telemetry) waited(ctx context.Context, d time.Duration) {
	t.hashWait.Record(ctx, d.Seconds())
}

// mailed counts a mail of kind that was sent or failed for good.
func (t *telemetry) mailed(kind, result string) {
	t.count(context.Background(), t.mails, attribute.String("kind", kind), attribute.String("outcome", result))
}
