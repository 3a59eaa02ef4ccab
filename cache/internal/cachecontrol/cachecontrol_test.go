package cachecontrol

import "testing"

func TestParse(t *testing.T) {
	cc := Parse([]string{`public, MAX-AGE=60`, `no-cache="Set-Cookie"`, `max-age=30, max-stale`})
	if !cc.Public || !cc.NoCache || cc.MaxAge != 30 || cc.MaxStale != MaxDelta || cc.SMaxAge != -1 || cc.Invalid {
		t.Fatalf("%+v", cc)
	}
	if got := cc.String(); got != "no-cache, public, max-age=30, max-stale=2147483648" {
		t.Fatalf("String() = %q", got)
	}
	for _, bad := range []string{"max-age", "max-age=", "s-maxage=soon", `min-fresh="x"`} {
		if cc := Parse([]string{bad}); !cc.Invalid {
			t.Errorf("%q: not marked invalid", bad)
		}
	}
	if cc := Parse([]string{"max-age=99999999999999999999"}); cc.MaxAge != MaxDelta {
		t.Errorf("MaxAge %d, want the 2^31 cap", cc.MaxAge)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"max-age=60", "no-store", `private="Set-Cookie", max-age=0`, "public, s-maxage=31536000",
		`no-cache="a\"b", max-age="10"`, "max-age=99999999999999999999", "MAX-AGE=5, max-age=3",
		"max-stale", "max-age", "=,,=", `"`, "stale-while-revalidate=30, stale-if-error=600",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cc := Parse([]string{s})
		for _, v := range []int64{cc.MaxAge, cc.SMaxAge, cc.MaxStale, cc.MinFresh, cc.StaleWhileRevalidate, cc.StaleIfError} {
			if v < -1 || v > MaxDelta {
				t.Fatalf("%q: delta out of range: %+v", s, cc)
			}
		}
		again := Parse([]string{cc.String()})
		cc.Invalid = false
		if again != cc {
			t.Fatalf("%q: canonical form %q reads back as %+v, want %+v", s, cc.String(), again, cc)
		}
	})
}
