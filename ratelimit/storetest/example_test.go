package storetest_test

import (
	"fmt"
	"time"

	"github.com/nexus-reussite/harden/ratelimit/storetest"
)

func ExampleClock() {
	c := storetest.NewClock(storetest.Epoch())
	c.Advance(90 * time.Second)
	fmt.Println(c.Now().Format(time.RFC3339))
	// Output: 2030-01-01T00:01:30Z
}
