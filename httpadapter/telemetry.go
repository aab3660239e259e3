package httpadapter

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/usermgmt/usermgmt"
)

// observer records each request through the Manager's OpenTelemetry
// providers (usermgmt.WithMeterProvider, usermgmt.WithTracerProvider): a
// server span continuing the request's W3C traceparent, and the
// http.server.request.duration histogram by method, route pattern (never
// the raw path) and status. A nil observer (both providers no-op) is not
// installed at all.
type observer struct {
	tracer   trace.Tracer            // nil: no spans
	duration metric.Float64Histogram // nil: no metrics
	prop     propagation.TraceContext

	// sets holds the histogram's attribute option of each (method, route,
	// status) seen, so that a request builds no attribute set. Methods are
	// normalised (knownMethod), routes come from the table and statuses
	// from the handlers, so it stays small.
	mu   sync.RWMutex
	sets map[attrKey]metric.RecordOption
}

type attrKey struct {
	method, route string
	status        int
}

// requestAttrs are the attributes of a request's span and histogram.
func requestAttrs(k attrKey) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", k.method),
		attribute.Int("http.response.status_code", k.status),
	}
	if k.route != "" {
		attrs = append(attrs, attribute.String("http.route", k.route))
	}
	return attrs
}

// recordOption returns the attribute option of k, building it once.
func (o *observer) recordOption(k attrKey) metric.RecordOption {
	o.mu.RLock()
	opt, ok := o.sets[k]
	o.mu.RUnlock()
	if ok {
		return opt
	}
	opt = metric.WithAttributeSet(attribute.NewSet(requestAttrs(k)...))
	o.mu.Lock()
	o.sets[k] = opt
	o.mu.Unlock()
	return opt
}

// newObserver returns the observer of m's providers, nil when both are
// no-op.
func newObserver(m *usermgmt.Manager) (*observer, error) {
	o := &observer{sets: map[attrKey]metric.RecordOption{}}
	if _, off := m.TracerProvider().(tracenoop.TracerProvider); !off {
		o.tracer = m.TracerProvider().Tracer(usermgmt.InstrumentationName + "/httpadapter")
	}
	if _, off := m.MeterProvider().(metricnoop.MeterProvider); !off {
		var err error
		o.duration, err = m.MeterProvider().Meter(usermgmt.InstrumentationName+"/httpadapter").Float64Histogram(
			"http.server.request.duration", metric.WithUnit("s"),
			metric.WithDescription("Duration of HTTP server requests, by method, route pattern and status."),
			metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
		if err != nil {
			return nil, err
		}
	}
	if o.tracer == nil && o.duration == nil {
		return nil, nil
	}
	return o, nil
}

// middleware wraps next with the observer; see observer.
func (o *observer) middleware(next http.Handler) http.Handler {
	if o == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		method := knownMethod(r.Method)
		ctx := r.Context()
		var span trace.Span
		if o.tracer != nil {
			ctx = o.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
			ctx, span = o.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", method)))
			r = r.WithContext(ctx)
		}
		tw := track(w)
		defer func() {
			// Also after a panic that recoverPanics (inside) turned
			// into a 500, or that passes through (http.ErrAbortHandler).
			status := tw.status
			if status == 0 {
				status = http.StatusOK
			}
			k := attrKey{method, tw.route, status}
			if o.duration != nil {
				o.duration.Record(ctx, time.Since(start).Seconds(), o.recordOption(k))
			}
			if span != nil {
				if tw.route != "" {
					span.SetName(method + " " + tw.route)
				}
				span.SetAttributes(requestAttrs(k)...)
				if status >= 500 {
					span.SetStatus(codes.Error, http.StatusText(status))
				}
				span.End()
			}
		}()
		next.ServeHTTP(tw, r)
	})
}

// knownMethod is the request's method for an attribute: the standard
// methods as they are, any other as "_OTHER", so that a client cannot
// grow the metric's label values.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// notePattern, around the route mux, tells the trackingWriter which
// route pattern served the request ("/api/user/{uuid}" with the method
// left out; nothing for the fallback's 404 and 405), once the mux has set
// r.Pattern.
func notePattern(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		t, ok := w.(*trackingWriter)
		if !ok {
			return
		}
		if _, path, ok := strings.Cut(r.Pattern, " "); ok {
			t.route = strings.TrimSuffix(path, "{$}")
		}
	})
}

// refusals counts the requests the rate limiter refused, by limit class.
type refusals struct{ c metric.Int64Counter }

// newRefusals returns the refusal counter of m's meter provider (no-op
// without one).
func newRefusals(m *usermgmt.Manager) refusals {
	mp := m.MeterProvider()
	if _, off := mp.(metricnoop.MeterProvider); off {
		return refusals{}
	}
	c, err := mp.Meter(usermgmt.InstrumentationName+"/httpadapter").Int64Counter("usermgmt.ratelimit.refusals",
		metric.WithUnit("{request}"), metric.WithDescription("Requests refused by a rate limit, by limit class."))
	if err != nil {
		m.Config().Logger.Warn("rate-limit refusal counter not created", "err", err)
		return refusals{}
	}
	return refusals{c}
}

// add counts one refusal of class ("global", a route class, or "host" for
// RateLimit).
func (f refusals) add(ctx context.Context, class string) {
	if f.c != nil {
		f.c.Add(ctx, 1, metric.WithAttributes(attribute.String("class", class)))
	}
}
