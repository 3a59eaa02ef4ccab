package config

import (
	"strings"
	"testing"
)

func TestQuotaSettings(t *testing.T) {
	c, err := Load(lookupMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	q := c.Quotas
	if q.AriaDaily != 50 || q.MaxActiveBookings != 10 || q.MaxChildren != 6 || q.Hours.String() != "08:00-21:00 Africa/Tunis" {
		t.Fatalf("defaults %+v (%s)", q, q.Hours)
	}
	c, err = Load(lookupMap(map[string]string{
		"ARIA_DAILY_LIMIT": "20", "BOOKING_MAX_ACTIVE": "4", "PARENT_MAX_CHILDREN": "3",
		"BOOKING_TIMEZONE": "Europe/Paris", "BOOKING_HOURS": "07:30-24:00",
	}))
	if err != nil {
		t.Fatal(err)
	}
	q = c.Quotas
	if q.AriaDaily != 20 || q.MaxActiveBookings != 4 || q.MaxChildren != 3 || q.Hours.String() != "07:30-24:00 Europe/Paris" {
		t.Fatalf("%+v (%s)", q, q.Hours)
	}
	for name, val := range map[string]string{
		"ARIA_DAILY_LIMIT": "0", "BOOKING_MAX_ACTIVE": "-1", "PARENT_MAX_CHILDREN": "many",
		"BOOKING_TIMEZONE": "Mars/Olympus", "BOOKING_HOURS": "21:00-08:00",
	} {
		_, err := Load(lookupMap(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v, want one naming the variable", name, val, err)
		}
	}
	if _, err := Load(lookupMap(map[string]string{"BOOKING_TIMEZONE": "Local"})); err == nil {
		t.Error("BOOKING_TIMEZONE=Local accepted: the machine's zone is not a setting")
	}
}

// TestProductionMetricsNotPublic: production needs METRICS_TOKEN or METRICS_ADDR, and
// neither value is echoed in an error.
func TestProductionMetricsNotPublic(t *testing.T) {
	prod := func(extra map[string]string) error {
		env := map[string]string{"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret, "ALLOWED_HOSTS": "api.nexus.tn"}
		for k, v := range extra {
			env[k] = v
		}
		_, err := Load(lookupMap(env))
		return err
	}
	if err := prod(nil); err == nil || !strings.Contains(err.Error(), "METRICS_TOKEN: required in production unless METRICS_ADDR is set") {
		t.Fatalf("neither: %v", err)
	}
	for _, env := range []map[string]string{
		{"METRICS_TOKEN": "5d41402abc4b2a76b9719d911017c592"},
		{"METRICS_ADDR": ":9090"},
		{"METRICS_ADDR": "10.0.0.5:9090", "METRICS_TOKEN": "5d41402abc4b2a76b9719d911017c592"},
	} {
		if err := prod(env); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
	for _, c := range []struct{ name, val, want string }{
		{"METRICS_TOKEN", "short-tok3n", "at least 16"},
		{"METRICS_TOKEN", "change-me-please-0123456789", "published default"},
		{"METRICS_ADDR", "9090", "not a listen address"},
		{"METRICS_ADDR", ":0", "port in [1, 65535]"},
		{"METRICS_ADDR", ":5000", "the API's own port"},
	} {
		err := prod(map[string]string{c.name: c.val})
		if err == nil || !strings.Contains(err.Error(), c.name+":") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%q: %v, want %q", c.name, c.val, err, c.want)
		}
		if c.name == "METRICS_TOKEN" && strings.Contains(err.Error(), c.val) {
			t.Errorf("the token is echoed: %v", err)
		}
	}
	// Development serves /metrics as before.
	if _, err := Load(lookupMap(nil)); err != nil {
		t.Fatal(err)
	}
}
