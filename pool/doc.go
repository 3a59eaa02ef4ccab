// Package pool is part of harden. Its implementation lands with its own issue.
package pool
