package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/usermgmt/usermgmt"
)

// MetricsConfig is the METRICS_* part of the configuration.
type MetricsConfig struct {
	// Enabled is METRICS_ENABLED: the Prometheus text of the server's
	// metrics at GET /metrics.
	Enabled bool
	// Token is METRICS_TOKEN: on the main port, /metrics answers only
	// "Authorization: Bearer <token>".
	Token string
	// Addr is METRICS_ADDR: /metrics is served on its own listener there
	// (and not on the main port), for a scraper on a private network.
	Addr string
	// OTLPEndpoint is OTEL_EXPORTER_OTLP_ENDPOINT: traces are exported
	// over OTLP/HTTP there (otlp.go).
	OTLPEndpoint string
}

// minMetricsToken is the shortest METRICS_TOKEN accepted.
const minMetricsToken = 16

func (p *parser) metrics() MetricsConfig {
	c := MetricsConfig{
		Enabled:      p.boolean("METRICS_ENABLED", false),
		Token:        strings.TrimSpace(p.getenv("METRICS_TOKEN")),
		Addr:         p.str("METRICS_ADDR", ""),
		OTLPEndpoint: p.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
	}
	if c.Addr != "" {
		c.Addr = p.addr("METRICS_ADDR", "")
	}
	switch {
	case !c.Enabled:
	case c.Token == "" && c.Addr == "":
		p.fail("METRICS_ENABLED", "needs METRICS_TOKEN (to serve /metrics on the main port) or METRICS_ADDR (a listener of its own)")
	case c.Token != "" && len(c.Token) < minMetricsToken:
		p.fail("METRICS_TOKEN", "must be at least %d bytes", minMetricsToken)
	}
	return c
}

// telemetry is what the server's metrics and traces need at run time.
type telemetry struct {
	opts    []usermgmt.Option // the providers, for usermgmt.New
	metrics http.Handler      // the Prometheus text; nil when metrics are off
	close   func(context.Context) error
}

// newTelemetry builds the meter provider that the Prometheus exporter
// reads (METRICS_ENABLED) and the OTLP tracer provider
// (OTEL_EXPORTER_OTLP_ENDPOINT).
func newTelemetry(ctx context.Context, cfg Config, log *slog.Logger) (*telemetry, error) {
	t := &telemetry{close: func(context.Context) error { return nil }}
	res := resource.NewSchemaless(attribute.String("service.name", cfg.ProjectName))
	var closers []func(context.Context) error
	if cfg.Metrics.Enabled {
		reg := prometheus.NewRegistry()
		for _, c := range []prometheus.Collector{
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("metrics: %w", err)
			}
		}
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
		closers = append(closers, mp.Shutdown)
		t.opts = append(t.opts, usermgmt.WithMeterProvider(mp))
		t.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		})
	}
	if cfg.Metrics.OTLPEndpoint != "" {
		tp, err := newOTLPTracing(ctx, res)
		if err != nil {
			return nil, err
		}
		closers = append(closers, tp.Shutdown)
		t.opts = append(t.opts, usermgmt.WithTracerProvider(tp))
		log.Info("traces exported over OTLP/HTTP", "endpoint", cfg.Metrics.OTLPEndpoint)
	}
	t.close = func(ctx context.Context) error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c(ctx))
		}
		return errors.Join(errs...)
	}
	return t, nil
}

// guardMetrics answers GET (and HEAD) /metrics with the Prometheus text
// to a caller presenting token (compared in constant time) as a bearer
// token; any other path goes on to next. Without token (METRICS_ADDR's
// listener) every caller is answered.
func guardMetrics(metrics http.Handler, token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			writeJSONError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed")
		case token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1:
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			writeJSONError(w, http.StatusUnauthorized, "not_authenticated", "Not authenticated")
		default:
			metrics.ServeHTTP(w, r)
		}
	})
}

// writeJSONError answers the API's error shape.
func writeJSONError(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"detail":%q,"code":%q}`+"\n", detail, code)
}

// notFound answers every path but /metrics on METRICS_ADDR's listener.
var notFound = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	writeJSONError(w, http.StatusNotFound, "not_found", "Not Found")
})

// listenMetrics opens METRICS_ADDR's listener and serves /metrics there
// until ctx ends; the returned function waits for it to stop.
func listenMetrics(ctx context.Context, cfg Config, metrics http.Handler, log *slog.Logger) (func(), error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Metrics.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on METRICS_ADDR %s: %w", cfg.Metrics.Addr, err)
	}
	srv := newHTTPServer(guardMetrics(metrics, cfg.Metrics.Token, notFound), log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.InfoContext(ctx, "metrics listening", "addr", ln.Addr().String())
	return func() { <-done }, nil
}
