// Package storetest is the conformance suite of cache.Store implementations. Every store
// (cache.Memory, rediscache.Store, rediscache.TwoLevel, and yours) runs it:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) cache.Store { return newMyStore(t) })
//	}
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/cache"
)

// Run checks the cache.Store contract on stores made by newStore (one per subtest; the
// factory registers its own cleanup). Expiry is checked against the real clock with short
// TTLs, so it also covers stores whose clock is a server's.
func Run(t *testing.T, newStore func(t *testing.T) cache.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s cache.Store)
	}{
		{"MissingKey", checkMissingKey},
		{"ReadYourWrites", checkReadYourWrites},
		{"SetCopiesValue", checkSetCopiesValue},
		{"ReturnedValueStaysUnchanged", checkReturnedValueStaysUnchanged},
		{"EmptyAndBinaryValues", checkEmptyAndBinaryValues},
		{"OddKeys", checkOddKeys},
		{"LargeValue", checkLargeValue},
		{"Delete", checkDelete},
		{"TTLExpires", checkTTLExpires},
		{"OverwriteResetsTTL", checkOverwriteResetsTTL},
		{"NoExpiry", checkNoExpiry},
		{"Concurrent", checkConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func checkMissingKey(t *testing.T, s cache.Store) {
	v, ok, err := s.Get(context.Background(), "absent")
	if err != nil || ok || v != nil {
		t.Fatalf("Get(absent) = %q, %v, %v; want nil, false, nil", v, ok, err)
	}
}

func checkReadYourWrites(t *testing.T, s cache.Store) {
	mustSet(t, s, "k", []byte("v1"), time.Minute)
	wantValue(t, s, "k", []byte("v1"))
	mustSet(t, s, "k", []byte("v2"), time.Minute)
	wantValue(t, s, "k", []byte("v2"))
}

func checkSetCopiesValue(t *testing.T, s cache.Store) {
	b := []byte("original")
	mustSet(t, s, "k", b, time.Minute)
	copy(b, "XXXXXXXX")
	wantValue(t, s, "k", []byte("original"))
}

func checkReturnedValueStaysUnchanged(t *testing.T, s cache.Store) {
	// The response cache reuses what it decoded while Get returns the same bytes: a
	// store must not write into a slice it has returned.
	mustSet(t, s, "k", []byte("first value"), time.Minute)
	got, ok, err := s.Get(context.Background(), "k")
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	mustSet(t, s, "k", []byte("other value"), time.Minute)
	wantValue(t, s, "k", []byte("other value"))
	if err := s.Delete(context.Background(), "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustSet(t, s, "k", []byte("third value"), time.Minute)
	if string(got) != "first value" {
		t.Fatalf("a value returned by Get became %q", got)
	}
}

func checkEmptyAndBinaryValues(t *testing.T, s cache.Store) {
	mustSet(t, s, "empty", []byte{}, time.Minute)
	wantValue(t, s, "empty", []byte{})
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	mustSet(t, s, "bin", bin, time.Minute)
	wantValue(t, s, "bin", bin)
}

func checkOddKeys(t *testing.T, s cache.Store) {
	keys := []string{"", " ", "a b", "é/ü", "k\x00z", "*", "[x]", strings.Repeat("k", 2048)}
	for i, k := range keys {
		mustSet(t, s, k, []byte(fmt.Sprint(i)), time.Minute)
	}
	for i, k := range keys {
		wantValue(t, s, k, []byte(fmt.Sprint(i)))
	}
}

func checkLargeValue(t *testing.T, s cache.Store) {
	v := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // 256 KiB
	mustSet(t, s, "large", v, time.Minute)
	wantValue(t, s, "large", v)
}

func checkDelete(t *testing.T, s cache.Store) {
	mustSet(t, s, "a", []byte("1"), time.Minute)
	mustSet(t, s, "b", []byte("2"), time.Minute)
	mustSet(t, s, "c", []byte("3"), time.Minute)
	if err := s.Delete(context.Background(), "a", "b", "never-set"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, "a")
	wantMissing(t, s, "b")
	wantValue(t, s, "c", []byte("3"))
	if err := s.Delete(context.Background()); err != nil {
		t.Fatalf("Delete(): %v", err)
	}
}

func checkTTLExpires(t *testing.T, s cache.Store) {
	const ttl = 150 * time.Millisecond
	start := time.Now()
	mustSet(t, s, "short", []byte("v"), ttl)
	mustSet(t, s, "long", []byte("v"), time.Minute)
	if _, ok, _ := s.Get(context.Background(), "short"); !ok && time.Since(start) < ttl {
		t.Fatal("entry gone before its TTL")
	}
	deadline := start.Add(ttl + 2*time.Second)
	for {
		_, ok, err := s.Get(context.Background(), "short")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry still present %v after a %v TTL", time.Since(start), ttl)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if time.Since(start) < ttl {
		t.Fatalf("entry expired after %v, before its %v TTL", time.Since(start), ttl)
	}
	wantValue(t, s, "long", []byte("v"))
}

func checkOverwriteResetsTTL(t *testing.T, s cache.Store) {
	mustSet(t, s, "k", []byte("v1"), 100*time.Millisecond)
	mustSet(t, s, "k", []byte("v2"), time.Minute)
	time.Sleep(300 * time.Millisecond)
	wantValue(t, s, "k", []byte("v2"))
}

func checkNoExpiry(t *testing.T, s cache.Store) {
	mustSet(t, s, "forever", []byte("v"), 0)
	wantValue(t, s, "forever", []byte("v"))
	mustSet(t, s, "negative", []byte("v"), -time.Second)
	wantValue(t, s, "negative", []byte("v"))
}

func checkConcurrent(t *testing.T, s cache.Store) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				k := fmt.Sprintf("c%d", i%10)
				v := fmt.Appendf(nil, "%d-%d", g, i)
				if err := s.Set(context.Background(), k, v, time.Minute); err != nil {
					t.Errorf("Set: %v", err)
					return
				}
				if _, _, err := s.Get(context.Background(), k); err != nil {
					t.Errorf("Get: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range 10 {
		v, ok, err := s.Get(context.Background(), fmt.Sprintf("c%d", i))
		if err != nil || !ok || !bytes.Contains(v, []byte("-")) {
			t.Fatalf("after concurrent writes c%d = %q, %v, %v", i, v, ok, err)
		}
	}
}

func mustSet(t *testing.T, s cache.Store, key string, v []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(context.Background(), key, v, ttl); err != nil {
		t.Fatalf("Set(%.20q): %v", key, err)
	}
}

func wantValue(t *testing.T, s cache.Store, key string, want []byte) {
	t.Helper()
	got, ok, err := s.Get(context.Background(), key)
	if err != nil || !ok || !bytes.Equal(got, want) {
		t.Fatalf("Get(%.20q) = %.40q, %v, %v; want %.40q, true, nil", key, got, ok, err, want)
	}
}

func wantMissing(t *testing.T, s cache.Store, key string) {
	t.Helper()
	got, ok, err := s.Get(context.Background(), key)
	if err != nil || ok {
		t.Fatalf("Get(%.20q) = %.40q, %v, %v; want missing", key, got, ok, err)
	}
}
