package ratelimit

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

func TestParseRule(t *testing.T) {
	day, hour := 24*time.Hour, time.Hour
	tests := []struct {
		in   string
		want Rule
	}{
		{DefaultRule, Rule{{Count: 1000, Period: day}, {Count: 100, Period: hour}, {Count: 2, Period: time.Second}}},
		{"200 per day;50 per hour;1 per second", Rule{{Count: 200, Period: day}, {Count: 50, Period: hour}, {Count: 1, Period: time.Second}}},
		{"10/minute", Rule{{Count: 10, Period: time.Minute}}},
		{"5 per 30 seconds", Rule{{Count: 5, Period: 30 * time.Second}}},
		{"1 PER Second", Rule{{Count: 1, Period: time.Second}}},
		{" 3 / 2 hours , 4/day ", Rule{{Count: 3, Period: 2 * hour}, {Count: 4, Period: day}}},
		{"3/2hours", Rule{{Count: 3, Period: 2 * hour}}},
		{"7 per month; 8 per years", Rule{{Count: 7, Period: 30 * day}, {Count: 8, Period: 365 * day}}},
		{"1\tper\tminute;", Rule{{Count: 1, Period: time.Minute}}},
	}
	for _, tc := range tests {
		got, err := ParseRule(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		require.NoError(t, got.Validate())
		again, err := ParseRule(got.String())
		require.NoError(t, err, got.String())
		assert.Equal(t, got, again, "round trip of %q", got.String())
	}
	assert.Equal(t, "1000 per day;100 per hour;2 per second", MustParseRule(DefaultRule).String())
	assert.Equal(t, "5 per 30 seconds", MustParseRule("5/30 second").String())
}

func TestParseRuleErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{"", 0, "empty rule"},
		{"   ", 3, "empty rule"},
		{";", 0, "expected count"},
		{"per second", 0, "expected count"},
		{"10", 2, "expected 'per' or '/'"},
		{"10 per", 6, "expected a period"},
		{"10 per fortnight", 7, `unknown period "fortnight"`},
		{"10 persecond", 6, "expected a space after 'per'"},
		{"0 per second", 0, "count 0 out of range"},
		{"99999999999999999999 per second", 0, "out of range"},
		{"10 per 0 seconds", 7, "period multiplier 0 out of range"},
		{"10 per 4000 years", 12, "longer than ten years"},
		{"10 per second 5", 14, "expected ';' or ','"},
		{"10 per second;;", 14, "expected count"},
		{"1/s;2/s;3/s", 2, `unknown period "s"`},
		{"-1 per second", 0, "expected count"},
		{"1/second;1/second;1/second;1/second;1/second;1/second;1/second;1/second;1/second", 72, "more than 8 limits"},
	}
	for _, tc := range tests {
		_, err := ParseRule(tc.in)
		require.Error(t, err, tc.in)
		var pe *parseError
		require.True(t, errors.As(err, &pe), tc.in)
		assert.ErrorIs(t, err, ErrInvalidRule)
		assert.Equal(t, tc.pos, pe.pos, "%q: %v", tc.in, err)
		assert.Contains(t, pe.msg, tc.msg, tc.in)
		assert.Contains(t, err.Error(), "position")
	}
	_, err := ParseRule(strings.Repeat("1/second;", 500))
	assert.ErrorContains(t, err, "longer than 1024 bytes")
	assert.Panics(t, func() { MustParseRule("nope") })
}

func TestRuleValidate(t *testing.T) {
	for _, r := range []Rule{
		nil,
		{{Count: 0, Period: time.Second}},
		{{Count: 1, Period: 0}},
		{{Count: 1, Period: time.Microsecond}},
		{{Count: 1, Period: 1500 * time.Microsecond}},
		{{Count: store.MaxCount + 1, Period: time.Second}},
		make(Rule, store.MaxLimits+1),
	} {
		assert.ErrorIs(t, r.Validate(), ErrInvalidRule, "%#v", r)
	}
	assert.NoError(t, Rule{{Count: 1, Period: 250 * time.Millisecond}}.Validate())
	assert.Equal(t, "1 per 250ms", store.Limit{Count: 1, Period: 250 * time.Millisecond}.String())
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{DefaultRule, "10/minute", "5 per 30 seconds", "1 per 2 years,3/day", "", ";;", "9999999999999 per second", "1/99999999 years"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			var pe *parseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("error %v is not a *parseError wrapping ErrInvalidRule", err)
			}
			if pe.pos < 0 || pe.pos > len(s) {
				t.Fatalf("position %d outside input of %d bytes", pe.pos, len(s))
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("parsed rule %v does not validate: %v", r, err)
		}
		again, err := ParseRule(r.String())
		if err != nil || len(again) != len(r) {
			t.Fatalf("round trip of %q: %v, %v", r.String(), again, err)
		}
		for i := range r {
			if again[i] != r[i] {
				t.Fatalf("round trip of %q changed limit %d: %v != %v", r.String(), i, again[i], r[i])
			}
		}
	})
}
