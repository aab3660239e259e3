package httpadapter_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// The route table of the HTTP API document is generated from Routes(), so
// the docs cannot drift from the code: TestRouteTableDoc fails when the
// table between the markers differs from the rendered one, and
// `go test ./httpadapter -run TestRouteTableDoc -update-route-doc` rewrites it.

var updateRouteDoc = flag.Bool("update-route-doc", false, "rewrite the generated route table of "+routeDocPath)

const (
	routeDocPath  = "../docs/http-api.md"
	routeDocBegin = "<!-- route table: generated from httpadapter.Routes() by TestRouteTableDoc; do not edit -->\n"
	routeDocEnd   = "<!-- end of route table -->\n"
)

// renderRouteTable renders the route table as Markdown, with API paths
// under the default prefix /api.
func renderRouteTable(routes []httpadapter.Route) string {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var b strings.Builder
	b.WriteString("| method | path | auth | flag | input | what |\n|---|---|---|---|---|---|\n")
	for _, r := range routes {
		path := r.Path
		if !r.Root {
			path = "/api" + path
		}
		auth := "–"
		switch {
		case r.Page:
			auth = "page"
		case r.Auth:
			auth = "yes"
		}
		input := "–"
		if r.Request != "" {
			input = "`" + r.Request + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | `%s` | %s | %s |\n",
			r.Method, path, auth, r.Flag, input, cell(r.Summary))
	}
	return b.String()
}

func TestRouteTableDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.FromSlash(routeDocPath))
	if err != nil {
		t.Fatal(err)
	}
	begin := bytes.Index(doc, []byte(routeDocBegin))
	end := bytes.Index(doc, []byte(routeDocEnd))
	if begin < 0 || end < begin {
		t.Fatalf("%s: no generated route table (markers %q ... %q)", routeDocPath, routeDocBegin, routeDocEnd)
	}
	start := begin + len(routeDocBegin)
	want := renderRouteTable(httpadapter.Routes(httpFeatures()...))
	if got := string(doc[start:end]); got != want {
		if *updateRouteDoc {
			out := append(append(append([]byte(nil), doc[:start]...), want...), doc[end:]...)
			if err := os.WriteFile(filepath.FromSlash(routeDocPath), out, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote the route table of %s", routeDocPath)
			return
		}
		t.Errorf("%s: the route table differs from httpadapter.Routes(); run\n\tgo test ./httpadapter -run TestRouteTableDoc -update-route-doc\ngot:\n%s\nwant:\n%s",
			routeDocPath, got, want)
	}
}
