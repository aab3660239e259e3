package httpadapter

import (
	"context"
	"runtime"
	"runtime/debug"

	"github.com/usermgmt/usermgmt"
)

// The root routes, outside the API prefix.

// modulePath is this library's module, looked up in the build info.
const modulePath = "github.com/usermgmt/usermgmt"

func (h *handler) ping(context.Context, *usermgmt.Principal, none) (response, error) {
	return jsonOK("pong"), nil
}

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
