package redisstore

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &breaker{threshold: 3, cooldown: time.Second}
		for i := range 2 {
			if !b.allow() {
				t.Fatalf("closed breaker refused call %d", i)
			}
			b.done(failed)
		}
		if !b.allow() {
			t.Fatal("refused before threshold")
		}
		b.done(succeeded) // a success resets the count
		for range 3 {
			if !b.allow() {
				t.Fatal("refused while closed")
			}
			b.done(failed)
		}
		if b.allow() || !b.isOpen() {
			t.Fatal("breaker not open after 3 consecutive failures")
		}
		time.Sleep(time.Second - time.Nanosecond)
		if b.allow() {
			t.Fatal("open breaker let a call through before the cooldown")
		}
		time.Sleep(time.Nanosecond)
		if !b.allow() {
			t.Fatal("no probe after the cooldown")
		}
		if b.allow() {
			t.Fatal("second call let through while the probe is in flight")
		}
		b.done(failed) // failed probe: open again for a full cooldown
		time.Sleep(time.Second / 2)
		if b.allow() {
			t.Fatal("breaker closed after a failed probe")
		}
		time.Sleep(time.Second / 2)
		if !b.allow() {
			t.Fatal("no probe after the second cooldown")
		}
		b.done(abandoned) // the caller left: the next call may probe
		if !b.allow() {
			t.Fatal("abandoned probe kept the breaker half-open")
		}
		b.done(succeeded)
		if b.isOpen() {
			t.Fatal("successful probe did not close the breaker")
		}
		for range 10 {
			if !b.allow() {
				t.Fatal("closed breaker refused a call")
			}
			b.done(succeeded)
		}
	})
}
