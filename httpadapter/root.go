package httpadapter

import (
	"context"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// The root routes, outside the API prefix.

// modulePath is this library's module, looked up in the build info.
const modulePath = "github.com/usermgmt/usermgmt"

func (h *handler) ping(context.Context, *usermgmt.Principal, none) (response, error) {
	return jsonOK("pong"), nil
}

// readyResponse is the body of GET /ready: {"status": "ready"}, or, with
// 503, the error fields (code not_ready) and the parts that failed.
type readyResponse struct {
	Status string   `json:"status"`
	Detail string   `json:"detail,omitempty"`
	Code   string   `json:"code,omitempty"`
	Failed []string `json:"failed,omitempty"`
}

// ready answers whether the parts the service depends on answer
// (Manager.Ready): the database and the rate limiter. Why a part failed
// goes to the log, never to the client.
func (h *handler) ready(ctx context.Context, _ *usermgmt.Principal, _ none) (response, error) {
	checks := h.m.Ready(ctx, usermgmt.DefaultReadyTimeout)
	if err := ctx.Err(); err != nil {
		return response{}, err // the prober went away: 499, and no part is to blame
	}
	var failed []string
	for name, err := range checks {
		if err != nil {
			failed = append(failed, name)
			h.log.WarnContext(ctx, "not ready", "part", name, "err", err)
		}
	}
	if len(failed) == 0 {
		return jsonOK(readyResponse{Status: "ready"}), nil
	}
	slices.Sort(failed)
	return response{status: http.StatusServiceUnavailable, kind: kindJSON, header: http.Header{"Retry-After": {"1"}},
		json: readyResponse{Status: "not_ready", Code: codeNotReady, Failed: failed,
			Detail: "Not ready: " + strings.Join(failed, ", ") + " did not answer."}}, nil
}

// codeNotReady is the code of a 503 from GET /ready.
const codeNotReady = "not_ready"

func (h *handler) versionInfo(context.Context, *usermgmt.Principal, none) (response, error) {
	return jsonOK(versionResponse{ProjectVersion: h.version, GoVersion: runtime.Version()}), nil
}

// projectVersion returns configured when set, else this module's version
// from the build info (the main module's when the binary is this module's,
// the dependency's otherwise), else "(devel)".
func projectVersion(configured string) string {
	if configured != "" {
		return configured
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			if d.Version != "" {
				return d.Version
			}
		}
	}
	return "(devel)"
}
