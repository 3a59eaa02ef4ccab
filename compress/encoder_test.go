package compress

import (
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
)

func TestZstdLevelFor(t *testing.T) {
	want := map[int]zstd.EncoderLevel{
		1: zstd.SpeedFastest, 2: zstd.SpeedFastest, DefaultLevel: zstd.SpeedFastest,
		7: zstd.SpeedDefault, 8: zstd.SpeedDefault, 9: zstd.SpeedBetterCompression,
	}
	for level, w := range want {
		assert.Equal(t, w, zstdLevelFor(level), "level %d", level)
	}
	e, err := newEncoders(DefaultLevel, 0)
	assert.NoError(t, err)
	assert.Equal(t, zstd.SpeedFastest, e.zstdLevel, "the zero Config's encoders")
}
