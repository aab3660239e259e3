package usermgmt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Flag is one feature flag, in the reference's file format: the JSON value
// true or false, or a list of rules of which any one must pass.
type Flag struct {
	// Rules is nil for a boolean flag; a non-nil empty list denies everyone.
	Rules []FlagRule
	// Enabled is the value of a boolean flag (Rules nil).
	Enabled bool
}

// FlagRule is one rule of a rule-list flag. It passes when both its
// conditions do; an absent condition passes.
type FlagRule struct {
	// PercentageOfUsers, between 0 and 1, lets through the users whose
	// bucket (FlagBucket) is below it.
	PercentageOfUsers *float64 `json:"percentageOfUsers,omitempty"`
	// UserRoles lets through users having any of these roles. Absent (nil)
	// passes; an empty list lets nobody through.
	UserRoles []string `json:"userRoles,omitempty"`
}

// BoolFlag returns a flag that is always on or always off.
func BoolFlag(on bool) Flag { return Flag{Enabled: on} }

// RuleFlag returns a flag enabled when any of rules passes.
func RuleFlag(rules ...FlagRule) Flag {
	if rules == nil {
		rules = []FlagRule{}
	}
	return Flag{Rules: rules}
}

// Limits of flags read from untrusted input.
const (
	// maxFlagNameLen bounds a flag name.
	maxFlagNameLen = 128
	// maxFlagRules bounds the rules of one flag.
	maxFlagRules = 64
	// maxFlagRoles bounds the roles of one rule.
	maxFlagRoles = 64
)

// MarshalJSON writes true, false or the rule list.
func (f Flag) MarshalJSON() ([]byte, error) {
	if f.Rules == nil {
		return strconv.AppendBool(nil, f.Enabled), nil
	}
	type rule struct {
		PercentageOfUsers *float64  `json:"percentageOfUsers,omitempty"`
		UserRoles         *[]string `json:"userRoles,omitempty"`
	}
	out := make([]rule, len(f.Rules))
	for i, r := range f.Rules {
		out[i].PercentageOfUsers = r.PercentageOfUsers
		if r.UserRoles != nil {
			roles := r.UserRoles
			out[i].UserRoles = &roles
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads true, false or a list of rule objects, checking
// bounds: a percentage outside 0..1, unknown rule fields or oversized lists
// are errors.
func (f *Flag) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "true", "false":
		*f = Flag{Enabled: string(b) == "true"}
		return nil
	}
	if len(b) == 0 || b[0] != '[' {
		return errors.New("a flag is true, false or a list of rules")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return errors.New("a flag is true, false or a list of rules")
	}
	if len(raw) > maxFlagRules {
		return fmt.Errorf("a flag has at most %d rules", maxFlagRules)
	}
	rules := make([]FlagRule, 0, len(raw))
	for _, r := range raw {
		var rule struct {
			PercentageOfUsers *float64         `json:"percentageOfUsers"`
			UserRoles         *json.RawMessage `json:"userRoles"`
		}
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rule); err != nil {
			return errors.New("a rule is an object with percentageOfUsers and userRoles")
		}
		if p := rule.PercentageOfUsers; p != nil && (*p < 0 || *p > 1) {
			return errors.New("percentageOfUsers must be between 0 and 1")
		}
		out := FlagRule{PercentageOfUsers: rule.PercentageOfUsers}
		if rule.UserRoles != nil && string(*rule.UserRoles) != "null" {
			var roles []string
			if err := json.Unmarshal(*rule.UserRoles, &roles); err != nil {
				return errors.New("userRoles must be a list of strings")
			}
			if len(roles) > maxFlagRoles {
				return fmt.Errorf("userRoles has at most %d roles", maxFlagRoles)
			}
			if roles == nil {
				roles = []string{}
			}
			out.UserRoles = roles
		}
		rules = append(rules, out)
	}
	*f = Flag{Rules: rules}
	return nil
}

// FlagSet maps flag names to flags.
type FlagSet map[string]Flag

// ParseFlags reads a flags file in the reference's format: a JSON object
// mapping names to true, false or rule lists.
func ParseFlags(data []byte) (FlagSet, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		return nil, ErrInvalidInput.WithMessage("Feature flags must be a JSON object.")
	}
	set := make(FlagSet, len(raw))
	for name, v := range raw {
		if err := checkFlagName(name); err != nil {
			return nil, err
		}
		var f Flag
		if err := json.Unmarshal(v, &f); err != nil {
			return nil, ErrInvalidInput.WithMessage(fmt.Sprintf("Feature flag %q: %v.", name, err))
		}
		set[name] = f
	}
	return set, nil
}

// checkFlagName refuses empty, oversized or non-printable names.
func checkFlagName(name string) error {
	if name == "" || len(name) > maxFlagNameLen {
		return ErrInvalidInput.WithMessage(fmt.Sprintf("A feature flag name has 1 to %d bytes.", maxFlagNameLen))
	}
	for _, c := range name {
		if c < 0x21 || c == 0x7f {
			return ErrInvalidInput.WithMessage("A feature flag name has no spaces or control characters.")
		}
	}
	return nil
}

// FlagBucket is the reference's percentage bucket of a user for a flag:
// the first 8 hex digits of SHA-256("<flag>-<uuid>") as an unsigned
// integer over 2^32-1, in [0, 1]. A rule's percentage lets the user in when
// the bucket is strictly below it.
func FlagBucket(flag, uuid string) float64 {
	var buf [192]byte // on the stack for usual names
	in := append(append(append(buf[:0], flag...), '-'), uuid...)
	sum := sha256.Sum256(in)
	// The first 8 hex digits are the first 4 bytes, big-endian.
	return float64(binary.BigEndian.Uint32(sum[:4])) / 4294967295
}

// Reasons of a FlagEvaluation, named as OpenFeature's.
const (
	// FlagReasonDefault: the flag does not exist (enabled) or no rule
	// matched (disabled).
	FlagReasonDefault = "DEFAULT"
	// FlagReasonStatic: the flag is true or false.
	FlagReasonStatic = "STATIC"
	// FlagReasonTargetingMatch: a rule matched (FlagEvaluation.Rule).
	FlagReasonTargetingMatch = "TARGETING_MATCH"
	// FlagReasonError: the flag could not be evaluated (ErrorCode says
	// why); the value is false.
	FlagReasonError = "ERROR"
)

// FlagErrorTargetingKeyMissing is the ErrorCode of a rule-list flag
// evaluated without a user.
const FlagErrorTargetingKeyMissing = "TARGETING_KEY_MISSING"

// FlagEvaluation is the result of evaluating a flag, shaped like
// OpenFeature's evaluation details.
type FlagEvaluation struct {
	Flag  string
	Value bool
	// Reason is one of the FlagReason constants.
	Reason string
	// Rule is the index of the rule that matched, -1 when none did.
	Rule int
	// ErrorCode is set with FlagReasonError.
	ErrorCode string
}

// Evaluate evaluates the flag name of set for user u (nil: anonymous). An
// absent flag is enabled; a boolean is its value; a rule list is enabled
// when a rule passes, and disabled (FlagReasonError) for an anonymous user.
func (set FlagSet) Evaluate(name string, u *User) FlagEvaluation {
	f, ok := set[name]
	if !ok {
		return FlagEvaluation{Flag: name, Value: true, Reason: FlagReasonDefault, Rule: -1}
	}
	return f.evaluate(name, u)
}

func (f Flag) evaluate(name string, u *User) FlagEvaluation {
	if f.Rules == nil {
		return FlagEvaluation{Flag: name, Value: f.Enabled, Reason: FlagReasonStatic, Rule: -1}
	}
	if u == nil {
		return FlagEvaluation{Flag: name, Reason: FlagReasonError, Rule: -1, ErrorCode: FlagErrorTargetingKeyMissing}
	}
	for i, r := range f.Rules {
		if r.UserRoles != nil && !slices.ContainsFunc(r.UserRoles, u.HasRole) {
			continue
		}
		if r.PercentageOfUsers != nil && !(FlagBucket(name, u.UUID) < *r.PercentageOfUsers) {
			continue
		}
		return FlagEvaluation{Flag: name, Value: true, Reason: FlagReasonTargetingMatch, Rule: i}
	}
	return FlagEvaluation{Flag: name, Reason: FlagReasonDefault, Rule: -1}
}

// DefaultFlagPollInterval is how often a Manager checks the store for flag
// changes made by other instances.
const DefaultFlagPollInterval = time.Second

// flagState is the flags a Manager last read, and when.
type flagState struct {
	set     FlagSet
	version int64
	checked time.Time
}

// flagCache holds the current flags; refreshing is true while one caller
// reloads them (the others keep using the previous state meanwhile).
type flagCache struct {
	state      atomic.Pointer[flagState]
	refreshing atomic.Bool
}

// FeatureFlags returns the flags in force: those of the store, re-read when
// another instance changed them (checked every Config.FlagPollInterval).
// The set is shared: read it, never modify it.
func (m *Manager) FeatureFlags(ctx context.Context) (FlagSet, error) {
	s := m.flags.state.Load()
	now := m.now()
	if s != nil && now.Sub(s.checked) < m.cfg.FlagPollInterval {
		return s.set, nil
	}
	if s != nil && !m.flags.refreshing.CompareAndSwap(false, true) {
		return s.set, nil // another request is refreshing
	}
	if s != nil {
		defer m.flags.refreshing.Store(false)
	}
	v, err := m.store.FeatureFlagsVersion(ctx)
	if err == nil && s != nil && v == s.version {
		m.flags.state.Store(&flagState{set: s.set, version: v, checked: now})
		return s.set, nil
	}
	var set FlagSet
	if err == nil {
		set, err = m.store.FeatureFlags(ctx)
	}
	if err != nil {
		if s != nil { // keep serving the flags we have
			m.log.WarnContext(ctx, "feature flags: reload failed", "err", err)
			return s.set, nil
		}
		return nil, err
	}
	m.flags.state.Store(&flagState{set: set, version: v, checked: now})
	return set, nil
}

// EvaluateFlag evaluates flag name for user u (nil: anonymous) against the
// flags in force.
func (m *Manager) EvaluateFlag(ctx context.Context, name string, u *User) (FlagEvaluation, error) {
	set, err := m.FeatureFlags(ctx)
	if err != nil {
		return FlagEvaluation{Flag: name, Reason: FlagReasonError, Rule: -1, ErrorCode: "GENERAL"}, err
	}
	return set.Evaluate(name, u), nil
}

// FlagChange is an edit of the flags: remove the names in Remove, then set
// each flag of Add.
type FlagChange struct {
	Add    FlagSet  `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// UpdateFeatureFlags applies a change (trusted: no policy check), records
// it in the audit log as actorUUID (empty for the host itself), and returns
// the flags after it. Other instances apply it within their poll interval.
func (m *Manager) UpdateFeatureFlags(ctx context.Context, actorUUID string, c FlagChange) (FlagSet, error) {
	for name := range c.Add {
		if err := checkFlagName(name); err != nil {
			return nil, err
		}
	}
	for _, name := range c.Remove {
		if err := checkFlagName(name); err != nil {
			return nil, err
		}
	}
	if len(c.Add) > 0 || len(c.Remove) > 0 {
		detail, err := json.Marshal(c)
		if err != nil {
			return nil, ErrInternal.Wrap(err)
		}
		now := m.now()
		err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
			for _, name := range c.Remove {
				if err := tx.DeleteFeatureFlag(ctx, name); err != nil {
					return err
				}
			}
			for _, name := range slices.Sorted(maps.Keys(c.Add)) {
				if err := tx.PutFeatureFlag(ctx, name, c.Add[name], now); err != nil {
					return err
				}
			}
			if _, err := tx.BumpFeatureFlagsVersion(ctx); err != nil {
				return err
			}
			return m.audit(ctx, tx, actorUUID, "", AuditFlagsChanged, cleanText(string(detail), 4000))
		})
		if err != nil {
			return nil, err
		}
	}
	m.flags.state.Store(nil) // re-read at once
	return m.FeatureFlags(ctx)
}

// ImportFeatureFlags adds the flags of set that the store does not have
// yet (a flags file given at start). Flags already stored, perhaps changed
// at runtime by an admin, are kept: the database is the source of truth.
func (m *Manager) ImportFeatureFlags(ctx context.Context, set FlagSet) (FlagSet, error) {
	m.flags.state.Store(nil)
	cur, err := m.FeatureFlags(ctx)
	if err != nil {
		return nil, err
	}
	add := FlagSet{}
	for name, f := range set {
		if _, ok := cur[name]; !ok {
			add[name] = f
		}
	}
	if len(add) == 0 {
		return cur, nil
	}
	return m.UpdateFeatureFlags(ctx, "", FlagChange{Add: add})
}

// UpdateFeatureFlags applies a change as the actor (policy
// admin.feature_flags).
func (a *Actor) UpdateFeatureFlags(ctx context.Context, c FlagChange) (FlagSet, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "admin", Action: "feature_flags"}); err != nil {
		return nil, err
	}
	return a.m.UpdateFeatureFlags(ctx, a.uuid(), c)
}

// FeatureFlags returns the flags in force to an actor allowed to change
// them (policy admin.feature_flags).
func (a *Actor) FeatureFlags(ctx context.Context) (FlagSet, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "admin", Action: "feature_flags"}); err != nil {
		return nil, err
	}
	return a.m.FeatureFlags(ctx)
}
