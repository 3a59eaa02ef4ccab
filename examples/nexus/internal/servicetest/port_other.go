//go:build !unix

package servicetest

import "testing"

// RefusingPort returns a loopback port that refuses connections: port 1, which only
// a privileged service could listen on.
func RefusingPort(testing.TB) int { return 1 }
