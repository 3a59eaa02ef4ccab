// Package security is part of harden. Its implementation lands with its own issue.
package security
