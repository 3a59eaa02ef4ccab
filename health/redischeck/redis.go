// Package redischeck is the Redis check of package health. It lives apart so that
// users of health who do not use Redis do not link go-redis.
//
//	h, err := health.New(health.Config{Checks: []health.Check{
//		redischeck.Ping("redis", client),
//	}})
//
// The check sends PING within the check's timeout (health.Config.Timeout, 2 s by
// default) and fails on any error or on a reply other than PONG. It works with every
// go-redis UniversalClient: single node, failover (Sentinel) and cluster; on a cluster
// every master is pinged and one failing shard fails the check.
package redischeck

import (
	"context"
	"fmt"

	"github.com/nexus-reussite/harden/health"
	"github.com/redis/go-redis/v9"
)

// Ping returns a health check that pings c. It is a "datastore" component. A nil
// client, including a nil *redis.Client, *redis.ClusterClient or *redis.Ring held in
// the interface, is reported by health.New as a configuration error.
func Ping(name string, c redis.UniversalClient) health.Check {
	chk := health.Check{Name: name, ComponentType: "datastore"}
	if isNil(c) {
		// Leaving Func nil makes health.New reject the check.
		return chk
	}
	chk.Func = func(ctx context.Context) error {
		if cc, ok := c.(*redis.ClusterClient); ok {
			return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
				return ping(ctx, n)
			})
		}
		return ping(ctx, c)
	}
	return chk
}

// isNil reports whether c is nil or holds a nil pointer to one of go-redis's clients,
// which the nil comparison of the interface does not catch.
func isNil(c redis.UniversalClient) bool {
	switch v := c.(type) {
	case nil:
		return true
	case *redis.Client:
		return v == nil
	case *redis.ClusterClient:
		return v == nil
	case *redis.Ring:
		return v == nil
	}
	return false
}

func ping(ctx context.Context, c redis.Cmdable) error {
	got, err := c.Ping(ctx).Result()
	if err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	if got != "PONG" {
		return fmt.Errorf("redis ping: unexpected reply %q", got)
	}
	return nil
}
