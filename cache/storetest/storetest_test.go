package storetest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/storetest"
)

// mapStore is a minimal correct store: the suite must pass on it.
type mapStore struct {
	mu sync.Mutex
	m  map[string]mapEntry
}

type mapEntry struct {
	v   []byte
	exp time.Time
}

func (s *mapStore) Get(_ context.Context, k string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	if !ok || (!e.exp.IsZero() && !time.Now().Before(e.exp)) {
		return nil, false, nil
	}
	return e.v, true, nil
}

func (s *mapStore) Set(_ context.Context, k string, v []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := mapEntry{v: append([]byte{}, v...)}
	if ttl > 0 {
		e.exp = time.Now().Add(ttl)
	}
	s.m[k] = e
	return nil
}

func (s *mapStore) Delete(_ context.Context, keys ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.m, k)
	}
	return nil
}

func TestSuiteOnReferenceStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) cache.Store { return &mapStore{m: map[string]mapEntry{}} })
}
