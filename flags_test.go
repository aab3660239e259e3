package usermgmt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// The buckets were computed independently with Python's hashlib, as the
// reference does: int(sha256(f"{flag}-{uuid}").hexdigest()[:8], 16) / (2**32-1).
func TestFlagBucketMatchesReference(t *testing.T) {
	tests := []struct {
		flag, uuid string
		want       float64
	}{
		{"LOGIN", "00000000-0000-4000-8000-000000000001", 0.5503894708935146},
		{"NEW_FEATURE", "3f2504e0-4f89-41d3-9a0c-0305e82c3301", 0.3689214762693554},
		{"BETA", "b3c1a9e2-1f3d-4c5e-8a7b-9d0e1f2a3b4c", 0.7685322691147524},
	}
	for _, tt := range tests {
		if got := usermgmt.FlagBucket(tt.flag, tt.uuid); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("FlagBucket(%s, %s) = %v, want %v", tt.flag, tt.uuid, got, tt.want)
		}
	}
}

func TestFlagEvaluate(t *testing.T) {
	// A reference flags file.
	set, err := usermgmt.ParseFlags([]byte(`{
		"ON": true, "OFF": false, "NOBODY": [],
		"ADMINS": [{"userRoles": ["admin"]}],
		"HALF": [{"percentageOfUsers": 0.5}],
		"SIXTY": [{"percentageOfUsers": 0.6, "userRoles": null}],
		"MODS_OR_HALF": [{"userRoles": ["moderator"]}, {"percentageOfUsers": 0.5}],
		"NO_ROLES": [{"userRoles": []}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	// Whether this user is in HALF and SIXTY follows FlagBucket, whose
	// values TestFlagBucketMatchesReference pins to the reference's.
	user := &usermgmt.User{UUID: "00000000-0000-4000-8000-000000000001", Roles: []string{"user"}}
	admin := &usermgmt.User{UUID: "00000000-0000-4000-8000-000000000002", Roles: []string{"admin"}}
	bucketHalf := usermgmt.FlagBucket("HALF", user.UUID) < 0.5
	bucketSixty := usermgmt.FlagBucket("SIXTY", user.UUID) < 0.6
	tests := []struct {
		flag   string
		u      *usermgmt.User
		value  bool
		reason string
		rule   int
	}{
		{"ABSENT", nil, true, usermgmt.FlagReasonDefault, -1},
		{"ON", nil, true, usermgmt.FlagReasonStatic, -1},
		{"OFF", user, false, usermgmt.FlagReasonStatic, -1},
		{"NOBODY", admin, false, usermgmt.FlagReasonDefault, -1},
		{"ADMINS", admin, true, usermgmt.FlagReasonTargetingMatch, 0},
		{"ADMINS", user, false, usermgmt.FlagReasonDefault, -1},
		{"ADMINS", nil, false, usermgmt.FlagReasonError, -1},
		{"NO_ROLES", admin, false, usermgmt.FlagReasonDefault, -1},
		{"HALF", user, bucketHalf, map[bool]string{true: usermgmt.FlagReasonTargetingMatch, false: usermgmt.FlagReasonDefault}[bucketHalf], map[bool]int{true: 0, false: -1}[bucketHalf]},
		{"SIXTY", user, bucketSixty, map[bool]string{true: usermgmt.FlagReasonTargetingMatch, false: usermgmt.FlagReasonDefault}[bucketSixty], map[bool]int{true: 0, false: -1}[bucketSixty]},
		{"MODS_OR_HALF", &usermgmt.User{UUID: user.UUID, Roles: []string{"moderator"}}, true, usermgmt.FlagReasonTargetingMatch, 0},
	}
	for _, tt := range tests {
		got := set.Evaluate(tt.flag, tt.u)
		if got.Value != tt.value || got.Reason != tt.reason || got.Rule != tt.rule || got.Flag != tt.flag {
			t.Errorf("Evaluate(%s, %v) = %+v, want value %v reason %s rule %d", tt.flag, tt.u, got, tt.value, tt.reason, tt.rule)
		}
	}
	if got := set.Evaluate("ADMINS", nil); got.ErrorCode != usermgmt.FlagErrorTargetingKeyMissing {
		t.Errorf("anonymous on a rule list: error code %q", got.ErrorCode)
	}

	// The percentage splits a population close to the fraction.
	in := 0
	for i := range 2000 {
		u := &usermgmt.User{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Roles: []string{"user"}}
		if set.Evaluate("HALF", u).Value {
			in++
		}
	}
	if in < 900 || in > 1100 {
		t.Errorf("HALF let %d of 2000 users in", in)
	}
}

func TestParseFlagsRefuses(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `null`, `{"A": 1}`, `{"A": "true"}`, `{"A": [{"percentageOfUsers": 1.5}]}`,
		`{"A": [{"percentageOfUsers": -0.1}]}`, `{"A": [{"unknown": 1}]}`, `{"A": [{"userRoles": "admin"}]}`,
		`{"": true}`, `{"A B": true}`, `{"A": [1]}`,
	} {
		if _, err := usermgmt.ParseFlags([]byte(in)); err == nil {
			t.Errorf("ParseFlags(%s) accepted", in)
		}
	}
}

func TestFlagJSONRoundTrip(t *testing.T) {
	in := `{"A":true,"B":false,"C":[],"D":[{"percentageOfUsers":0.25,"userRoles":["admin"]},{"userRoles":[]},{}]}`
	set, err := usermgmt.ParseFlags([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}
}

func FuzzParseFlags(f *testing.F) {
	f.Add([]byte(`{"A": true, "B": [{"percentageOfUsers": 0.5, "userRoles": ["admin"]}]}`))
	f.Add([]byte(`{"C": [], "D": false}`))
	f.Add([]byte(`{"E": [{"userRoles": null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := usermgmt.ParseFlags(data)
		if err != nil {
			return
		}
		// What parses re-encodes to the same set.
		out, err := json.Marshal(set)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := usermgmt.ParseFlags(out)
		if err != nil {
			t.Fatalf("re-parse %s: %v", out, err)
		}
		out2, _ := json.Marshal(again)
		if string(out) != string(out2) {
			t.Fatalf("unstable: %s vs %s", out, out2)
		}
		u := &usermgmt.User{UUID: "00000000-0000-4000-8000-000000000001", Roles: []string{"admin"}}
		for name := range set {
			set.Evaluate(name, u)
			set.Evaluate(name, nil)
		}
	})
}

func TestManagerFlags(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	st := openStore(t)
	m := newManager(t, st, clock)
	other := newManager(t, st, clock) // a second instance on the same database
	admin := mustCreate(t, m, "admin_user", usermgmt.RoleAdmin)
	plain := mustCreate(t, m, "plain_user")

	if _, err := other.FeatureFlags(ctx); err != nil { // caches the empty set
		t.Fatal(err)
	}
	if _, err := m.As(plain).UpdateFeatureFlags(ctx, usermgmt.FlagChange{Add: usermgmt.FlagSet{"X": usermgmt.BoolFlag(false)}}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Fatalf("plain user changed flags: %v", err)
	}
	set, err := m.As(admin).UpdateFeatureFlags(ctx, usermgmt.FlagChange{Add: usermgmt.FlagSet{"X": usermgmt.BoolFlag(false), "Y": usermgmt.RuleFlag()}})
	if err != nil || len(set) != 2 {
		t.Fatalf("update: %v %v", set, err)
	}
	// The other instance sees it after its poll interval.
	if ev, _ := other.EvaluateFlag(ctx, "X", nil); !ev.Value {
		t.Fatalf("other instance applied the change before polling")
	}
	clock.Advance(usermgmt.DefaultFlagPollInterval)
	if ev, _ := other.EvaluateFlag(ctx, "X", nil); ev.Value {
		t.Fatalf("other instance did not apply the change after polling")
	}
	// Remove, then import: a file adds only what the database lacks.
	if _, err := m.UpdateFeatureFlags(ctx, "", usermgmt.FlagChange{Remove: []string{"Y"}}); err != nil {
		t.Fatal(err)
	}
	set, err = m.ImportFeatureFlags(ctx, usermgmt.FlagSet{"X": usermgmt.BoolFlag(true), "Z": usermgmt.BoolFlag(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(set); string(got) != `{"X":false,"Z":true}` {
		t.Fatalf("after import: %s", got)
	}
	entries, err := st.Audit(ctx, usermgmt.AuditQuery{Actions: []string{usermgmt.AuditFlagsChanged}})
	if err != nil || len(entries) != 3 || entries[2].ActorUUID != admin.UUID {
		t.Fatalf("audit: %v %v", entries, err)
	}
}
