package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
	"github.com/nexus-reussite/harden/ratelimit/store"
	"github.com/nexus-reussite/harden/ratelimit/storetest"
)

// startClusterNode starts a private redis-server in cluster mode owning every slot: a
// real Redis Cluster of one node, which enforces the same-slot rule on scripts.
func startClusterNode(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	srv := testenv.StartRedisServer(t, "--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf", "--dir", dir)
	c := srv.Client()
	ctx := context.Background()
	require.NoError(t, c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err())
	require.Eventually(t, func() bool {
		info, err := c.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	}, 10*time.Second, 20*time.Millisecond)
	return srv.Addr()
}

func TestClusterConformance(t *testing.T) {
	addr := startClusterNode(t)
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = c.Close() })
		s, err := redisstore.New(c, redisstore.Config{Prefix: "test:", Now: clock.Now, Timeout: 5 * time.Second})
		require.NoError(t, err)
		return s
	})
}
