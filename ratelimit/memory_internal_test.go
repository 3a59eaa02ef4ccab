package ratelimit

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryTakeBytes shows takeBytes and Take count the same keys, and that a key
// first seen through takeBytes is copied: reusing the caller's buffer changes nothing.
func TestMemoryTakeBytes(t *testing.T) {
	s, err := NewMemoryStore(MemoryConfig{})
	require.NoError(t, err)
	rule := MustParseRule("2 per minute")
	buf := []byte("k:one")
	d, err := s.takeBytes(buf, rule, FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	copy(buf, "k:two")
	d, err = s.takeBytes(buf, rule, FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, uint64(1), d.Limits[0].Remaining, "k:two is a key of its own")

	d, err = s.Take(context.Background(), "k:one", rule, FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Zero(t, d.Limits[0].Remaining, "Take counts on the key takeBytes created")
	d, err = s.takeBytes([]byte("k:one"), rule, FixedWindow, 1)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 2, s.Len())

	_, err = s.takeBytes(buf, nil, FixedWindow, 1)
	assert.ErrorIs(t, err, ErrInvalidRule)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = s.takeBytes(buf, rule, FixedWindow, 1) }))
}
