//go:build !(linux || darwin)

package health

import (
	"errors"
	"fmt"
)

const diskSupported = false

var errDiskUnsupported = fmt.Errorf("disk check: %w on this platform", errors.ErrUnsupported)

func diskUsedPercent(string) (float64, error) { return 0, errDiskUnsupported }
