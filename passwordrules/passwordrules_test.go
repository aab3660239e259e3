package passwordrules

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/usermgmt/usermgmt"
)

func TestStrength(t *testing.T) {
	l26, l62, l95 := math.Log2(26), math.Log2(62), math.Log2(95)
	for _, tc := range []struct {
		pw   string
		want int
	}{
		{"", 0},
		{"a", int(l26)},                      // 4
		{"aaaaaaaa", int(l26 + 7)},           // repeats: 1 bit each
		{"abcdefgh", int(l26 + 7)},           // an ascending run
		{"hgfedcba", int(l26 + 7)},           // a descending one
		{"12345678", int(math.Log2(10) + 7)}, // digits run too
		{"abab", int(2*l26 + 2)},             // a run that turns back starts afresh
		{"ace", int(3 * l26)},                // steps of 2 are no run
		{"aZ", int(2 * math.Log2(52))},       // two classes: pool 52
		{"Password1!", int(9*l95 + 1)},       // "ss" repeats; no dictionary
		{"Tr0ub4dor&3", int(11 * l95)},       // 72
		{"K7#mQ2$vX9!pL4@w", int(16 * l95)},  // 105
		{"Zz9Zz9Zz9", int(9 * l62)},          // no repeat of the previous character
		{"ééééé", int(math.Log2(100) + 4)},   // other runes: pool 100
		{"z{", int(2 * math.Log2(26+33))},    // '{' follows 'z' in ASCII but is no letter: no run
		{"09:;", int(4 * math.Log2(43))},     // ASCII neighbours, but no letters or digits: no run
	} {
		if got := Strength(tc.pw); got != tc.want {
			t.Errorf("Strength(%q) = %d, want %d", tc.pw, got, tc.want)
		}
	}
	// Properties: a fresh character of a used class adds bits; a longer
	// random-looking password is stronger.
	if Strength("Kx7#") >= Strength("Kx7#q") {
		t.Error("a fresh character did not add strength")
	}
}

func TestFold(t *testing.T) {
	for _, tc := range [][2]string{{"JANE", "jane"}, {"\u212Aelvin", "kelvin"}, {"ΣΊΣΥΦΟΣ", "σίσυφος"}, {"Ǆ", "ǆ"}} {
		if fold(tc[0]) != fold(tc[1]) {
			t.Errorf("fold(%q) = %q, fold(%q) = %q", tc[0], fold(tc[0]), tc[1], fold(tc[1]))
		}
	}
	if fold("jane") == fold("jade") {
		t.Error("fold merged different words")
	}
}

func TestNotIdentity(t *testing.T) {
	r := Rules{NotIdentity: true}
	ctx := context.Background()
	for _, tc := range []struct {
		pw, user, email string
		refused         bool
	}{
		{"jane_doe", "jane_doe", "jane@example.com", true},
		{"JANE_DOE", "jane_doe", "jane@example.com", true},       // case-folded
		{"My-Jane_Doe-2026!", "jane_doe", "j@example.com", true}, // contains the username
		{"Jane@Example.com", "someone", "jane@example.com", true},
		{"x-jane@example.com-1", "someone", "jane@example.com", true},
		{"Mr-Jane-Smith-99!", "someone", "jane@example.com", true}, // the local part
		{"\u212Aevin-Secret-1", "kevin", "k@example.com", true},    // Kelvin sign folds to k
		{"Quiet-Maple-7!", "jane_doe", "jane@example.com", false},
		{"Bright-j-Fox-1!", "someone", "j@example.com", false}, // a one-letter local part is not forbidden
		{"j", "someone", "j@example.com", true},                // but equal to it is
		{"Quiet-Maple-7!", "", "", false},                      // nothing known
	} {
		err := r.CheckPassword(ctx, usermgmt.PasswordCheck{Password: tc.pw, Username: tc.user, Email: tc.email})
		if tc.refused != (err != nil) {
			t.Errorf("%q for %s/%s: %v, want refused=%v", tc.pw, tc.user, tc.email, err, tc.refused)
			continue
		}
		if err != nil {
			e := usermgmt.AsError(err)
			if !errors.Is(err, usermgmt.ErrWeakPassword) || e.Status != 400 || e.Params["rule"] != "identity" {
				t.Errorf("%q: %d %s %v, want 400 weak_password rule=identity", tc.pw, e.Status, e.Code, e.Params)
			}
			if strings.Contains(e.Message, tc.pw) {
				t.Errorf("the message quotes the password: %q", e.Message)
			}
		}
	}
}

func TestMinStrength(t *testing.T) {
	r := Rules{MinStrength: 50}
	ctx := context.Background()
	if err := r.CheckPassword(ctx, usermgmt.PasswordCheck{Password: "Aaaaaaaaaaaa1!"}); err == nil {
		t.Fatal("a repetitive password passed MinStrength 50")
	} else if e := usermgmt.AsError(err); e.Code != "weak_password" || e.Params["rule"] != "strength" || !strings.Contains(e.Message, "at least 50") {
		t.Fatalf("refusal = %d %s %v %q", e.Status, e.Code, e.Params, e.Message)
	}
	if err := r.CheckPassword(ctx, usermgmt.PasswordCheck{Password: "Correct-Horse-9"}); err != nil {
		t.Fatalf("Correct-Horse-9 (%d bits): %v", Strength("Correct-Horse-9"), err)
	}
	if err := (Rules{}).CheckPassword(ctx, usermgmt.PasswordCheck{Password: "a", Username: "a"}); err != nil {
		t.Fatalf("the zero Rules refused: %v", err)
	}
	for _, n := range []int{-1, MaxStrength + 1} {
		if (Rules{MinStrength: n}).Check() == nil {
			t.Errorf("Check accepted MinStrength %d", n)
		}
	}
	if (Rules{MinStrength: 60, NotIdentity: true}).Check() != nil {
		t.Error("Check refused sane rules")
	}
}

// FuzzRules: any password, username and email is accepted or refused
// with a 400, never a panic; Strength is within 0..8 bits a character.
func FuzzRules(f *testing.F) {
	for _, s := range []string{"", "a", "jane_doe", "\xff\xfe", "Ǆ\u212A", "Correct-Horse-9"} {
		f.Add(s, "jane_doe", "jane@example.com")
	}
	f.Fuzz(func(t *testing.T, pw, user, email string) {
		s := Strength(pw)
		if s < 0 || s > 8*utf8.RuneCountInString(pw) {
			t.Fatalf("Strength(%q) = %d", pw, s)
		}
		err := Rules{NotIdentity: true, MinStrength: 40}.CheckPassword(context.Background(), usermgmt.PasswordCheck{Password: pw, Username: user, Email: email})
		if err != nil && usermgmt.AsError(err).Status != 400 {
			t.Fatalf("status %d", usermgmt.AsError(err).Status)
		}
	})
}
