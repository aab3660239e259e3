package store

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseExport: any upload is either refused as a bad export or parsed;
// and any value denormalises without panicking.
func FuzzParseExport(f *testing.F) {
	f.Add(`{"format":"usermgmt-export","version":1,"tables":[{"name":"users","rows":[{"uuid":"x","created_at":"2025-01-01T00:00:00Z"}]}]}`)
	f.Add(`{"format":"usermgmt-export","version":1,"tables":[{"name":"users","rows":[]},{"name":"users"}]}`)
	f.Add(`[1,2`)
	h := &handle{dialect: DialectSQLite}
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := parseExport(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, tb := range doc.Tables {
			for _, row := range tb.Rows {
				for _, v := range row {
					for k := kindText; k <= kindJSON; k++ {
						_, _ = h.denormalise(k, v)
					}
					_ = isEmpty(rawValue(v))
					_ = sameValue(nil, v, nil)
				}
			}
		}
	})
}

func TestKindOf(t *testing.T) {
	for typ, want := range map[string]columnKind{
		"BOOLEAN": kindBool, "bool": kindBool, "INTEGER": kindInt, "INT8": kindInt, "BIGINT": kindInt,
		"TIMESTAMPTZ": kindTime, "TIMESTAMP": kindTime, "BLOB": kindBytes, "BYTEA": kindBytes,
		"JSONB": kindJSON, "TEXT": kindText, "VARCHAR": kindText,
	} {
		if got := kindOf(typ); got != want {
			t.Errorf("kindOf(%q) = %d, want %d", typ, got, want)
		}
	}
	if v, err := normalise(kindJSON, `[ "a",  "b" ]`); err != nil || v != `["a","b"]` {
		t.Errorf("normalise JSON = %v, %v", v, err)
	}
	b, _ := json.Marshal(map[string]any{"x": 1})
	if _, err := normalise(kindBool, string(b)); err == nil {
		t.Errorf("normalise accepted a string as a boolean")
	}
}
