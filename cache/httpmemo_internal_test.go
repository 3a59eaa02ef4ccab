package cache

import (
	"encoding/binary"
	"testing"
)

func memoEntryOf(i int, size int) *memoEntry {
	var mk memoKey
	binary.LittleEndian.PutUint32(mk.primary[:], uint32(i))
	mk.kind = memoPlain
	return &memoEntry{mk: mk, key: "k", raw: make([]byte, size)}
}

// TestMemoTableBounds fills the table with more bytes than it may hold: what it keeps stays
// within memoMaxBytes, its accounting matches its slots, an entry above an eighth of the
// bound is not kept, and a small one is.
func TestMemoTableBounds(t *testing.T) {
	var tab memoTable
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
	if tab.get(&big.mk) != nil {
		t.Fatal("an entry above an eighth of the bound was kept")
	}
	small := memoEntryOf(-2, 10)
	tab.put(small)
	if tab.get(&small.mk) != small {
		t.Fatal("the newest entry is not found")
	}
}

// TestMemoTableRejectsForeignKeys checks entries sharing a slot: each lookup returns only
// the entry put under its own key.
func TestMemoTableRejectsForeignKeys(t *testing.T) {
	var tab memoTable
	a := memoEntryOf(1, 10)
	b := memoEntryOf(1+memoSlots, 10) // other digest, same slot
	if a.mk.slot() != b.mk.slot() {
		t.Fatal("test keys do not share a slot")
	}
	tab.put(a)
	tab.put(b)
	if tab.get(&a.mk) != nil || tab.get(&b.mk) != b {
		t.Fatal("slot holds the wrong entry")
	}
	if n := tab.bytes.Load(); n != b.weight {
		t.Fatalf("accounted %d bytes after a replacement, want %d", n, b.weight)
	}
}
