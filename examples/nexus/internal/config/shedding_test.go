package config

import (
	"strings"
	"testing"
	"time"
)

func TestSheddingSettings(t *testing.T) {
	c, err := Load(lookupMap(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	want := Shedding{HashQueueTimeout: time.Second, AriaConcurrency: 8, AriaQueueTimeout: time.Second}
	if c.Shedding != want {
		t.Fatalf("defaults %+v, want %+v", c.Shedding, want)
	}
	c, err = Load(lookupMap(map[string]string{
		"HASH_CONCURRENCY": "3", "HASH_QUEUE": "-1", "HASH_QUEUE_TIMEOUT": "250ms",
		"ARIA_CONCURRENCY": "2", "ARIA_QUEUE": "5", "ARIA_QUEUE_TIMEOUT": "2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want = Shedding{HashConcurrency: 3, HashQueue: -1, HashQueueTimeout: 250 * time.Millisecond,
		AriaConcurrency: 2, AriaQueue: 5, AriaQueueTimeout: 2 * time.Second}
	if c.Shedding != want {
		t.Fatalf("parsed %+v, want %+v", c.Shedding, want)
	}
	for name, val := range map[string]string{
		"HASH_CONCURRENCY": "-1", "HASH_QUEUE": "-2", "HASH_QUEUE_TIMEOUT": "0", "ARIA_CONCURRENCY": "0",
		"ARIA_QUEUE": "many", "ARIA_QUEUE_TIMEOUT": "2m",
	} {
		_, err := Load(lookupMap(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v, want one naming the variable", name, val, err)
		}
	}
}
