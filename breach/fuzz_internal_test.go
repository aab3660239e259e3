package breach

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseRange: any body is a range or an error, never a panic; every
// line read counts what it said.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n00D4F6E8FA6EECAD2A3AA415EEC418D38EC:2\r\n",
		strings.Repeat("0", 35) + ":0\n", "", ":", "x:1", strings.Repeat("F", 35) + ":4294967296",
		strings.Repeat("a", 35) + ":7", "\r\n\r\n", strings.Repeat("A", 300) + ":1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		a, err := parseRange(strings.NewReader(body))
		if err != nil {
			return
		}
		for line := range strings.SplitSeq(body, "\n") {
			h, n, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok {
				continue
			}
			want, err := strconv.ParseUint(n, 10, 32)
			if err != nil || want == 0 {
				continue
			}
			if got := a.count(strings.ToUpper(h)); got == 0 {
				t.Fatalf("line %q read, count(%s) = 0", line, h)
			}
		}
	})
}
