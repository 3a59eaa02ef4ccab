package config

import (
	"fmt"
	"time"
	_ "time/tzdata" // BOOKING_TIMEZONE resolves without the system's zone files (distroless)

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// maxQuota bounds the counted quotas.
const maxQuota = 1_000_000

// quotaContract lists the variables of the quotas on shared resources, read after
// contract.
var quotaContract = []variable{
	{"ARIA_DAILY_LIMIT", intVar(func(c *Config) *int { return &c.Quotas.AriaDaily }, domain.AriaDailyLimit, 1, maxQuota)},
	{"BOOKING_MAX_ACTIVE", intVar(func(c *Config) *int { return &c.Quotas.MaxActiveBookings }, domain.DefaultMaxActiveBookings, 1, maxQuota)},
	{"PARENT_MAX_CHILDREN", intVar(func(c *Config) *int { return &c.Quotas.MaxChildren }, domain.DefaultMaxChildren, 1, maxQuota)},
	{"BOOKING_TIMEZONE", func(c *Config, v string) error {
		name := orDefault(v, domain.DefaultBookingTimezone)
		loc, err := time.LoadLocation(name)
		if err != nil || name == "Local" {
			return fmt.Errorf("%q is not an IANA time zone name such as Africa/Tunis or Europe/Paris", name)
		}
		c.Quotas.Hours.Location = loc
		return nil
	}},
	{"BOOKING_HOURS", func(c *Config, v string) error {
		h, err := domain.ParseBookingHours(orDefault(v, domain.DefaultBookingHours))
		if err != nil {
			return err
		}
		c.Quotas.Hours.Open, c.Quotas.Hours.Close = h.Open, h.Close
		return nil
	}},
}
