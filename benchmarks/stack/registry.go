package stack

import (
	"fmt"
	"net/http"
)

// Names returns the stack names in report order. The peer stack is the reference for ratios.
func Names() []string {
	return []string{"bare", "gzip-only", "peer", "harden", "harden-cached", "defaults", "defaults-cached"}
}

// Build returns the named stack serving body on GET /api/formulas.
func Build(name string, body []byte, o Options) (http.Handler, error) {
	switch name {
	case "bare":
		return Bare(body), nil
	case "gzip-only":
		return GzipOnly(body)
	case "peer":
		return Peer(body, o)
	case "harden":
		return Harden(body, o, false)
	case "harden-cached":
		return Harden(body, o, true)
	case "defaults":
		return Defaults(body, o, false)
	case "defaults-cached":
		return Defaults(body, o, true)
	}
	return nil, fmt.Errorf("unknown stack %q (known: %v)", name, Names())
}
