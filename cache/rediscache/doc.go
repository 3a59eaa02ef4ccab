// Package rediscache is the Redis backend of package cache. Its implementation lands with the cache issue.
package rediscache
