package httpadapter

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// Feature flags: the gate New puts in front of every route when
// Options.FeatureFlags is set, the FeatureFlag middleware for the host's
// routes, and the admin routes that read and change the flags.

// flagRoutes are GET and PATCH /admin/feature_flags.
func flagRoutes() []route {
	return []route{
		{Route{Method: get, Path: "/admin/feature_flags", Name: "read_feature_flags", Flag: "READ_FEATURE_FLAGS", Tag: "admin", Auth: true,
			Summary: "The feature flags in force.", Status: ok, Response: "FeatureFlags"},
			op[none]{noInput, (*handler).readFlags}},
		{Route{Method: patch, Path: "/admin/feature_flags", Name: "update_feature_flags", Flag: "UPDATE_FEATURE_FLAGS", Tag: "admin", Auth: true,
			Summary: "Remove the flags named in remove, then set those of add; answers the flags after the change.",
			Request: "FeatureFlagsUpdate", Encodings: jsonOrForm, Status: ok, Response: "FeatureFlags"},
			op[usermgmt.FlagChange]{decodeFlagChange, (*handler).updateFlags}},
	}
}

func (h *handler) readFlags(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	set, err := h.m.As(p.User()).FeatureFlags(ctx)
	if err != nil {
		return response{}, err
	}
	return jsonOK(set), nil
}

func (h *handler) updateFlags(ctx context.Context, p *usermgmt.Principal, c usermgmt.FlagChange) (response, error) {
	set, err := h.m.As(p.User()).UpdateFeatureFlags(ctx, c)
	if err != nil {
		return response{}, err
	}
	return jsonOK(set), nil
}

// decodeFlagChange reads {"add": {name: flag}, "remove": [names]}. remove
// may also be an object (its keys are removed, as in the reference). In a
// form, add is a JSON object and remove a JSON list or object, or
// repeated names.
func decodeFlagChange(r *http.Request) (usermgmt.FlagChange, error) {
	var c usermgmt.FlagChange
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return c, err
	}
	if raw, v, ok := f.raw("add"); ok {
		if raw == nil {
			raw = json.RawMessage(v)
		}
		set, err := usermgmt.ParseFlags(raw)
		if err != nil {
			return c, invalid("add: " + usermgmt.AsError(err).Message)
		}
		c.Add = set
	}
	var removeJSON json.RawMessage
	if f.json != nil {
		removeJSON, _, _ = f.raw("remove")
	} else if vs := f.form["remove"]; len(vs) == 1 && strings.ContainsAny(vs[0][:min(1, len(vs[0]))], "[{") {
		removeJSON = json.RawMessage(vs[0])
	} else {
		for _, v := range vs {
			if v != "" {
				c.Remove = append(c.Remove, v)
			}
		}
	}
	if removeJSON != nil {
		var names []string
		var obj map[string]json.RawMessage
		switch {
		case json.Unmarshal(removeJSON, &names) == nil:
			c.Remove = names
		case json.Unmarshal(removeJSON, &obj) == nil && obj != nil:
			c.Remove = slices.Sorted(maps.Keys(obj))
		default:
			return c, invalid("remove: must be a list of flag names")
		}
	}
	return c, nil
}

// flagGate refuses requests to a route whose flag is off for the caller.
// Rule-list flags need the caller: a valid bearer token is authenticated
// (the principal is reused by the route); without one the caller is
// anonymous and refused.
func flagGate(m *usermgmt.Manager, auth *authenticator, log *slog.Logger, flag string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		set, err := m.FeatureFlags(ctx)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		f, ok := set[flag]
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		var u *usermgmt.User
		if f.Rules != nil {
			if p, ok := CurrentPrincipal(ctx); ok {
				u = p.User()
			} else if p, ar, err := auth.authenticate(w, r); err == nil {
				u = p.User()
				r = ar.WithContext(withPrincipal(ar.Context(), p))
			}
		}
		if ev := set.Evaluate(flag, u); !ev.Value {
			writeError(w, r, log, usermgmt.ErrFeatureDisabled.WithMessage("Access to feature '"+flag+"' is denied."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// FeatureFlag gates a host's own route by the flag name: absent or on for
// the caller lets it through, off answers 403 feature_disabled. Place it
// inside RequireAuth to evaluate rule lists for the authenticated user;
// otherwise a bearer token, when valid, is used and an anonymous caller is
// refused by a rule list.
func FeatureFlag(m *usermgmt.Manager, name string) func(http.Handler) http.Handler {
	auth := newAuthenticator(m)
	log := m.Config().Logger
	return func(next http.Handler) http.Handler {
		return flagGate(m, auth, log, name, next)
	}
}
