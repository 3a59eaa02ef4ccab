package cache

// The memo: decoded stored responses found again by the request as sent.
//
// Why it exists: without it, every hit would hash the request's key parts with SHA-256
// twice (resource, then variant), build both key strings, and decode the stored response
// into a fresh header map; with it, a hit reads the store and compares bytes. The
// whole-stack benchmark (benchmarks/stack, harden-cached) measures the difference; the
// figures are in benchmarks/README.md.
//
// Why it is correct: a memo id holds the request parts the store key is computed from,
// length-prefixed, so it names exactly one store key (FuzzMemoID rebuilds the request from
// an id and compares its keys with those of the reference key functions), and an entry is
// used only while the store returns the very bytes it was decoded from.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"net/http"
	"sync/atomic"
)

// Bounds of the decoded entries an [HTTPCache] keeps: memoSlots entries, and memoMaxBytes
// counted as the stored bytes they were decoded from, their key, id and memoOverhead each.
const (
	memoSlots    = 4096
	memoMaxBytes = 8 << 20
	memoOverhead = 256
)

// The kinds of stored entries of an HTTPCache.
const (
	memoSpec    uint8 = iota + 1 // under the primary key: the Vary names of the resource
	memoPlain                    // a response of a resource without Vary (primary + ":-")
	memoVariant                  // a response selected by Vary (primary + ":" + vary digest)
)

// A memo id names a stored entry of an HTTPCache by the parts of the request its store key
// is computed from, taken as they are, so a lookup that finds its entry hashes nothing with
// SHA-256, builds no key string, and neither lower-cases, escapes nor normalises:
//
//	byte  kind
//	      the request parts (appendRequestParts)
//	      memoVariant: the request's vary parts (appendRequestVaryParts)
//
// Both part sequences decode unambiguously and the store key is a function of them, so an
// id names one store key. Requests that differ only in what the key normalises (the case
// of the host, spaces or order in Accept-Encoding) have ids of their own, each naming the
// same stored entry.

// memoEntry is a stored entry decoded once. It is reused for as long as the store returns
// the same bytes for its key; the store is still read on every request, so deletion,
// expiry, replacement and tag invalidation are seen at once. Entries are not modified after
// they are published, but for status.
type memoEntry struct {
	id      []byte // memo id
	weight  int64
	key     string   // full store key
	raw     []byte   // the stored bytes this was decoded from
	env     envelope // its payload aliases raw
	tagKeys []string // store keys of env.tags
	names   []string // memoSpec: the Vary names
	fields  []string // memoSpec: their canonical forms (names itself when canonical)
	resp    *preparedResponse
	status  atomic.Pointer[statusLine] // last Age and Cache-Status of a hit
}

// statusLine holds the Age value (value[:ageEnd]) and Cache-Status member (the rest) of a
// hit served age seconds after the response was stored with ttl seconds of freshness left.
type statusLine struct {
	age, ttl int64
	value    string
	ageEnd   int
}

// memoTable is a direct-mapped table of decoded entries: a seeded hash of the id picks one
// slot, a newer entry replaces an older one in its slot, and when the bytes held exceed
// memoMaxBytes a sweeping hand empties slots until they fit. Lookups compare the whole id,
// take no lock and read no clock.
type memoTable struct {
	seed  maphash.Seed
	slots [memoSlots]atomic.Pointer[memoEntry]
	bytes atomic.Int64
	hand  atomic.Uint32
}

func newMemoTable() *memoTable { return &memoTable{seed: maphash.MakeSeed()} }

func (t *memoTable) slot(id []byte) uint64 { return maphash.Bytes(t.seed, id) % memoSlots }

func (t *memoTable) get(id []byte) *memoEntry {
	if e := t.slots[t.slot(id)].Load(); e != nil && bytes.Equal(e.id, id) {
		return e
	}
	return nil
}

func (t *memoTable) put(e *memoEntry) {
	e.weight = int64(len(e.raw) + len(e.key) + len(e.id) + memoOverhead)
	if e.weight > memoMaxBytes/8 {
		return // one large response must not push out everything else
	}
	delta := e.weight
	if old := t.slots[t.slot(e.id)].Swap(e); old != nil {
		delta -= old.weight
	}
	for n := t.bytes.Add(delta); n > memoMaxBytes; n = t.bytes.Load() {
		if old := t.slots[t.hand.Add(1)%memoSlots].Swap(nil); old != nil {
			t.bytes.Add(-old.weight)
		}
	}
}

// storeKey returns the full store key of the entry of kind (a memo kind) that r selects;
// names are the Vary names of a memoVariant.
func (h *HTTPCache) storeKey(kind uint8, r *http.Request, names []string) string {
	b := make([]byte, 0, len(h.c.ns)+2+2+2*sha256.Size+1+2*sha256.Size)
	b = append(b, h.c.ns...)
	b = append(b, "k:h:"...)
	p := h.primaryDigest(r)
	b = hex.AppendEncode(b, p[:])
	switch kind {
	case memoPlain:
		b = append(b, ":-"...)
	case memoVariant:
		v := varyDigest(names, r.Header)
		b = append(b, ':')
		b = hex.AppendEncode(b, v[:])
	}
	return string(b)
}

// lookup reads the entry id names, selected by r (names are the Vary names of a
// memoVariant), and classifies it at now (Unix nanoseconds). bad reports a stored response
// that does not decode (logged here); store errors are logged and counted, and read as a
// miss.
func (h *HTTPCache) lookup(ctx context.Context, id []byte, r *http.Request, names []string, now int64) (e *memoEntry, st state, bad bool) {
	var key string
	var raw []byte
	var ok bool
	var err error
	if m := h.memo.get(id); m != nil {
		key = m.key
		raw, ok, err = h.c.store.Get(ctx, key)
		if err == nil && ok && bytes.Equal(raw, m.raw) {
			st, err := h.c.classify(ctx, &m.env, m.tagKeys, now)
			if err != nil {
				h.readFailed(ctx, err)
			}
			return m, st, false
		}
	} else {
		key = h.storeKey(id[0], r, names)
		raw, ok, err = h.c.store.Get(ctx, key)
	}
	if err != nil {
		h.readFailed(ctx, err)
		return nil, stMiss, false
	}
	if !ok {
		return nil, stMiss, false
	}
	env, err := decodeEnvelope(raw)
	if err != nil {
		h.readFailed(ctx, fmt.Errorf("%w: key %q", err, key))
		return nil, stMiss, false
	}
	e = &memoEntry{id: bytes.Clone(id), key: key, raw: raw, env: env, tagKeys: h.c.tagKeys(env.tags)}
	if st, err = h.c.classify(ctx, &e.env, e.tagKeys, now); err != nil {
		h.readFailed(ctx, err)
		return nil, stMiss, false
	}
	if st == stMiss {
		return nil, stMiss, false
	}
	if id[0] == memoSpec {
		e.names = splitNames(string(env.payload))
		e.fields = canonicalNames(e.names)
	} else {
		resp, err := decodeStoredResponse(env.payload)
		if err != nil {
			h.log.WarnContext(ctx, "response cache entry does not decode", "err", err)
			return nil, stMiss, true
		}
		e.resp = prepare(resp)
	}
	h.memo.put(e)
	return e, st, false
}
