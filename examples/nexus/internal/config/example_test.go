package config

import (
	"fmt"
	"strings"
)

// A .env file next to the binary configures it; variables set in the environment win.
func ExampleParseDotenv() {
	env, err := ParseDotenv(strings.NewReader(`
# Nexus Réussite
APP_ENV=production
PORT=8080 # behind the ingress
RATELIMIT_DEFAULT="1000 per day;100 per hour;2 per second"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(env["APP_ENV"], env["PORT"], env["RATELIMIT_DEFAULT"])
	// Output: production 8080 1000 per day;100 per hour;2 per second
}

// Production refuses to start on a missing or published secret, without the list of
// hosts it answers for, or with public metrics, and names each variable.
func ExampleLoad_production() {
	_, err := Load(lookupMap(map[string]string{
		"APP_ENV":        "production",
		"SECRET_KEY":     "change-me",
		"JWT_SECRET_KEY": "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718",
	}))
	fmt.Println(err)
	// Output:
	// nexus: config: SECRET_KEY: is a published default value; generate one with `openssl rand -hex 32`
	// nexus: config: ALLOWED_HOSTS: must be set in production: list the host names this server answers for (api.example.com, *.example.com), or "*" to allow any host explicitly
	// nexus: config: METRICS_TOKEN: required in production unless METRICS_ADDR is set, so that /metrics is not public: a bearer token of 16+ characters for the scraper, or a listen address only the scraper reaches (:9090)
}
