package cache

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func memoEntryOf(i int, size int) *memoEntry {
	id := binary.AppendVarint([]byte{memoPlain}, int64(i))
	return &memoEntry{id: id, key: "k", raw: make([]byte, size)}
}

// TestMemoTableBounds fills the table with more bytes than it may hold: what it keeps stays
// within memoMaxBytes, its accounting matches its slots, an entry above an eighth of the
// bound is not kept, and a small one is.
func TestMemoTableBounds(t *testing.T) {
	tab := newMemoTable()
	const size = 64 << 10
	for i := range 4 * memoMaxBytes / size {
		tab.put(memoEntryOf(i, size))
	}
	var held int64
	for i := range tab.slots {
		if e := tab.slots[i].Load(); e != nil {
			held += e.weight
		}
	}
	if n := tab.bytes.Load(); n != held || n > memoMaxBytes || n == 0 {
		t.Fatalf("accounted %d bytes, slots hold %d, bound %d", n, held, memoMaxBytes)
	}
	big := memoEntryOf(-1, memoMaxBytes/8)
	tab.put(big)
	if tab.get(big.id) != nil {
		t.Fatal("an entry above an eighth of the bound was kept")
	}
	small := memoEntryOf(-2, 10)
	tab.put(small)
	if tab.get(small.id) != small {
		t.Fatal("the newest entry is not found")
	}
}

// TestMemoTableRejectsForeignIDs checks entries sharing a slot: each lookup returns only
// the entry put under its own id, and the bytes of a replaced entry are given back.
func TestMemoTableRejectsForeignIDs(t *testing.T) {
	tab := newMemoTable()
	a := memoEntryOf(0, 10)
	var b *memoEntry
	for i := 1; b == nil; i++ {
		if e := memoEntryOf(i, 10); tab.slot(e.id) == tab.slot(a.id) {
			b = e
		}
	}
	tab.put(a)
	tab.put(b)
	if tab.get(a.id) != nil || tab.get(b.id) != b {
		t.Fatal("slot holds the wrong entry")
	}
	if tab.get(b.id[:len(b.id)-1]) != nil {
		t.Fatal("a prefix of an id found its entry")
	}
	if n := tab.bytes.Load(); n != b.weight {
		t.Fatalf("accounted %d bytes after a replacement, want %d", n, b.weight)
	}
}

// TestSubNanos compares subNanos with time.Time.Sub on Unix instants, saturation included.
func TestSubNanos(t *testing.T) {
	vals := []int64{0, 1, -1, 1e18, -1e18, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 1763900000e9}
	for _, a := range vals {
		for _, b := range vals {
			want := time.Unix(0, a).Sub(time.Unix(0, b))
			if got := subNanos(a, b); got != want {
				t.Errorf("subNanos(%d, %d) = %d, time.Sub says %d", a, b, got, want)
			}
		}
	}
}
