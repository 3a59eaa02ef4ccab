// Package store is the contract between package ratelimit and the backends that keep its
// counters. A user of the middleware does not need it: ratelimit.Config.Store takes any
// Store, the default is a memory store inside package ratelimit, and
// ratelimit/redisstore shares counts across instances. Read on to write a backend.
//
// A Store checks every limit of a Rule for a key at once and charges them all or none
// (Store.Take). Evaluate is that arithmetic for both strategies, FixedWindow and
// SlidingWindow, on the WindowState a store keeps per limit: a store that can hold a
// key's states under a lock or in a transaction loads them, calls Evaluate, and saves
// them when the take was allowed. A store that computes elsewhere (a Redis script)
// describes the windows it ends with through Strategy.Status.
//
// Every store must pass the conformance suite in package ratelimit/storetest.
// GoLimiter adapts a github.com/sethvargo/go-limiter store, for single-limit rules.
package store
