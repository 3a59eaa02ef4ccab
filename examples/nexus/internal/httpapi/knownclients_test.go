package httpapi

import (
	"fmt"
	"testing"
	"time"
)

// TestKnownClientsForgetAndStayBounded: an address is remembered for one to two
// generations after its login, never without a usable address, and a flood of new
// addresses keeps at most two generations in memory.
func TestKnownClientsForgetAndStayBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	k := newKnownClients(func() time.Time { return now })
	k.add("ip:192.0.2.1")
	k.add(unknownClientKey)
	k.add("")
	if !k.known("ip:192.0.2.1") || k.known(unknownClientKey) || k.known("") || k.known("ip:192.0.2.2") {
		t.Fatal("known set wrong right after the adds")
	}
	now = now.Add(knownClientsTTL + time.Minute) // one generation later: still known
	if !k.known("ip:192.0.2.1") {
		t.Fatal("forgotten after one generation")
	}
	now = now.Add(knownClientsTTL + time.Minute) // two generations later: forgotten
	if k.known("ip:192.0.2.1") {
		t.Fatal("still known after two generations")
	}
	now = now.Add(3 * knownClientsTTL) // a long quiet time drops both generations at once
	k.add("ip:192.0.2.3")
	now = now.Add(3 * knownClientsTTL)
	if k.known("ip:192.0.2.3") {
		t.Fatal("known after a long quiet time")
	}
	for i := range 3 * knownClientsPerGeneration {
		k.add(fmt.Sprintf("ip:10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff))
	}
	k.mu.Lock()
	held := len(k.cur) + len(k.prev)
	k.mu.Unlock()
	if held > 2*knownClientsPerGeneration {
		t.Fatalf("%d addresses held, want at most %d", held, 2*knownClientsPerGeneration)
	}
}
