package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// newOTLPTracing returns a tracer provider that batches spans to the OTLP/HTTP
// collector of OTEL_EXPORTER_OTLP_ENDPOINT. The exporter reads that variable
// and the other OTEL_EXPORTER_OTLP_* ones (headers, timeout, TLS) itself, as
// the OpenTelemetry specification describes; the sampler is the SDK's
// default (parent-based, always on), which follows an incoming traceparent's
// sampled flag.
func newOTLPTracing(ctx context.Context, res *resource.Resource) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
