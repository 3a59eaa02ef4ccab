// Package redisstore is the Redis backend of package ratelimit. Its implementation lands with the ratelimit issue.
package redisstore
