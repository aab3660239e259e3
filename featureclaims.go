package usermgmt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A ClaimsFeature is a Feature that puts claims of its own in access tokens
// (the organizations feature's org_id and org_role). The names it declares
// are reserved for it at New: the core, another feature and the
// Config.AccessTokenClaims hook cannot set them, and Authenticate hands them
// back in Principal.Claims, so that the feature reads them on the hot path
// without a store read. The core knows nothing of what they mean.
type ClaimsFeature interface {
	Feature
	// TokenClaimNames names the claims the feature sets.
	TokenClaimNames() []string
	// TokenClaims returns the feature's claims for an access token about
	// to be issued for u's session s (a login, a refresh,
	// Manager.ReissueAccessToken); nil or empty for none. A name it did not
	// declare, or an error, fails the issue as the hook's would
	// (ErrAccessTokenClaims, or the error itself when it is a 4xx *Error).
	// u and s are copies without secrets.
	TokenClaims(ctx context.Context, u *User, s *Session) (map[string]any, error)
}

// initClaimFeatures collects the ClaimsFeatures of fs and the names they
// reserve: a core claim or a name declared twice is an error.
func initClaimFeatures(fs []Feature) ([]ClaimsFeature, map[string]ClaimsFeature, error) {
	var out []ClaimsFeature
	names := map[string]ClaimsFeature{}
	for _, f := range fs {
		cf, ok := f.(ClaimsFeature)
		if !ok {
			continue
		}
		for _, n := range cf.TokenClaimNames() {
			if n == "" || reservedClaims[n] {
				return nil, nil, fmt.Errorf("usermgmt: feature %s: claim %q is the core's", f.FeatureName(), n)
			}
			if other, dup := names[n]; dup {
				return nil, nil, fmt.Errorf("usermgmt: feature %s: claim %q is feature %s's", f.FeatureName(), n, other.FeatureName())
			}
			names[n] = cf
		}
		out = append(out, cf)
	}
	return out, names, nil
}

// featureClaims runs the ClaimsFeatures for a token about to be issued and
// adds their claims to into.
func (m *Manager) featureClaims(ctx context.Context, uc *User, sc *Session, into map[string]any) error {
	for _, f := range m.claimFeatures {
		claims, err := f.TokenClaims(ctx, uc, sc)
		if err != nil {
			if e, ok := errors.AsType[*Error](err); ok && e.Status >= 400 && e.Status < 500 {
				return err
			}
			m.log.ErrorContext(ctx, "feature token claims failed", "feature", f.FeatureName(), "user", uc.UUID, "err", err)
			return ErrAccessTokenClaims.Wrap(err)
		}
		for name, v := range claims {
			if m.claimOwners[name] != f {
				err := fmt.Errorf("feature %s set the claim %q it did not declare", f.FeatureName(), name)
				m.log.ErrorContext(ctx, "feature token claims failed", "user", uc.UUID, "err", err)
				return ErrAccessTokenClaims.Wrap(err)
			}
			into[name] = v
		}
	}
	return nil
}

// readFeatureClaims returns the claims of token's payload that the
// features declared (nil for none).
func readFeatureClaims(raw string, names map[string]ClaimsFeature) (map[string]json.RawMessage, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(payload, &all); err != nil {
		return nil, err
	}
	var out map[string]json.RawMessage
	for name := range names {
		if v, ok := all[name]; ok {
			if out == nil {
				out = map[string]json.RawMessage{}
			}
			out[name] = v
		}
	}
	return out, nil
}

// ReissueAccessToken issues a new access token for the caller's session,
// with the claims computed anew (the ClaimsFeatures' and the hook's): a
// feature calls it after a change of what its claims say (the
// organizations feature's switch of the active organization). The session
// and its refresh token stay as they are (Tokens.RefreshToken is ""); an
// impersonation's token keeps its actor and does not outlive the token the
// caller holds. A caller authenticated by a feature's credential (an API
// key) has no session: ErrForbidden.
func (m *Manager) ReissueAccessToken(ctx context.Context, p *Principal) (*Tokens, error) {
	if p == nil || p.Credential != nil || p.SessionID == "" {
		return nil, ErrForbidden
	}
	now := m.now()
	s, err := m.store.SessionByID(ctx, p.SessionID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrSessionRevoked
	}
	if err != nil {
		return nil, err
	}
	if !s.Active(now) || s.UserUUID != p.User().UUID {
		return nil, ErrSessionRevoked
	}
	g := tokenGrant{actor: p.Impersonator}
	if g.actor != "" {
		g.ttl = p.ExpiresAt.Sub(now).Truncate(time.Second)
		if g.ttl <= 0 {
			return nil, ErrSessionRevoked
		}
	}
	extra, err := m.accessTokenClaims(ctx, p.User(), s)
	if err != nil {
		return nil, err
	}
	return m.issue(p.User(), s.ID, "", now, g, extra)
}
