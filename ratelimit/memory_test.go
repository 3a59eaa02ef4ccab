package ratelimit_test

import (
	"testing"

	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) ratelimit.Store {
		s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
