package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// minMetricsToken is the shortest METRICS_TOKEN (the observe package's advice).
const minMetricsToken = 16

// metricsContract lists the variables of /metrics, read after contract: METRICS_ADDR
// first, so METRICS_TOKEN can require one of the two in production.
var metricsContract = []variable{
	{"METRICS_ADDR", func(c *Config, v string) error {
		c.MetricsAddr = v
		if v == "" {
			return nil
		}
		host, port, err := net.SplitHostPort(v)
		if err != nil {
			return fmt.Errorf("%q is not a listen address such as :9090 or 10.0.0.5:9090", v)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q needs a port in [1, 65535]", v)
		}
		if n, _ := strconv.Atoi(port); n == c.Port && (host == "" || host == "0.0.0.0" || host == "::") {
			return fmt.Errorf("%q is the API's own port (PORT); give metrics a port of their own", v)
		}
		return nil
	}},
	{"METRICS_TOKEN", func(c *Config, v string) error {
		c.MetricsToken = v
		switch {
		case v != "" && IsDefaultSecret(v):
			return errors.New("is a published default value; generate one with `openssl rand -hex 32`")
		case v != "" && len(v) < minMetricsToken:
			return fmt.Errorf("must be at least %d characters", minMetricsToken)
		case v == "" && c.MetricsAddr == "" && c.IsProduction():
			return errors.New("required in production unless METRICS_ADDR is set, so that /metrics is not public: a bearer " +
				"token of 16+ characters for the scraper, or a listen address only the scraper reaches (:9090)")
		}
		return nil
	}},
}
