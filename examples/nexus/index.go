package main

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strconv"
)

//go:embed web/index.html
var indexHTML string

var indexTemplate = template.Must(template.New("index").Parse(indexHTML))

// handleIndex serves the small HTML client: a login form and the formulas list. Its one
// script and one style element carry the request's CSP nonce.
func (a *app) handleIndex(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, struct{ Nonce string }{a.pageNonce(r)}); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}
