// Package swaggerui holds Swagger UI (swagger-ui-dist, vendored by
// scripts/vendor-docs, with its licence and VERSION beside it) and the
// script that starts it, for httpadapter's documentation pages. They weigh
// about 1.9 MB: a host links them only when it serves those pages, by
// passing them to the handler:
//
//	h := httpadapter.New(m, httpadapter.Options{SwaggerUI: swaggerui.FS()})
//
// Without them, /docs, /docs/assets/{file} and /interactive-docs are not
// served (a 404, as for an unknown path); /openapi.json is served in any
// case.
package swaggerui

import (
	"embed"
	"io/fs"
)

// files are the assets the pages load.
//
//go:embed swagger-ui-bundle.js swagger-ui.css docs-init.js
var files embed.FS

// FS returns the files the documentation pages load, at its root:
// swagger-ui-bundle.js and swagger-ui.css (Swagger UI) and docs-init.js
// (which starts it with the settings the page carries).
func FS() fs.FS { return files }
