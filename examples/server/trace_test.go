package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// TestTracesFollowTraceparent checks the spans of usermgmt.WithTracerProvider
// with the SDK's recorder: a request's server span continues the trace and
// parent of its W3C traceparent header and is named by its route pattern,
// and the Manager's span (usermgmt.Authenticate) is its child.
func TestTracesFollowTraceparent(t *testing.T) {
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(ctx) })
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-0123456789abcdef0123"), BcryptCost: 4,
		Logger: slog.New(slog.DiscardHandler)}, usermgmt.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	const pw = "Correct-Horse-9"
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: pw}); err != nil {
		t.Fatal(err)
	}
	tok, err := m.Login(ctx, "jane_doe", pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Login(ctx, "jane_doe", "Wrong-Horse-9"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	h := httpadapter.New(m, httpadapter.Options{Logger: slog.New(slog.DiscardHandler)})

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	r := httptest.NewRequest(http.MethodGet, "/api/user/me", nil)
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	r.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /api/user/me = %d %s", w.Code, w.Body)
	}

	spans := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = append(spans[s.Name()], s)
	}
	logins := spans["usermgmt.Login"]
	if len(logins) != 2 || logins[0].Status().Code.String() != "Unset" || logins[1].Status().Code.String() != "Error" ||
		logins[1].Status().Description != "invalid_credentials" {
		t.Fatalf("usermgmt.Login spans = %v; want a success and a failure marked invalid_credentials", logins)
	}
	srv := spans["GET /api/user/me"]
	if len(srv) != 1 {
		t.Fatalf("no single server span GET /api/user/me; spans: %v", keys(spans))
	}
	s := srv[0]
	if s.SpanKind() != trace.SpanKindServer || s.SpanContext().TraceID().String() != traceID ||
		s.Parent().SpanID().String() != parentID || !s.Parent().IsRemote() {
		t.Fatalf("server span: kind %v, trace %s, parent %s (remote %v); want server, %s, %s, remote",
			s.SpanKind(), s.SpanContext().TraceID(), s.Parent().SpanID(), s.Parent().IsRemote(), traceID, parentID)
	}
	attrs := map[string]string{}
	for _, kv := range s.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["http.route"] != "/api/user/me" || attrs["http.response.status_code"] != "200" || attrs["http.request.method"] != "GET" {
		t.Fatalf("server span attributes = %v", attrs)
	}
	auth := spans["usermgmt.Authenticate"]
	if len(auth) != 1 || auth[0].Parent().SpanID() != s.SpanContext().SpanID() || auth[0].SpanContext().TraceID() != s.SpanContext().TraceID() {
		t.Fatalf("usermgmt.Authenticate spans = %v; want one child of the server span", auth)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
