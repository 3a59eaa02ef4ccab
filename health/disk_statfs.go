//go:build linux || darwin

package health

import "syscall"

const diskSupported = true

var errDiskUnsupported error

// diskUsedPercent returns used / (used + available to unprivileged users), as df does.
func diskUsedPercent(path string) (float64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	used := (uint64(st.Blocks) - uint64(st.Bfree)) * uint64(st.Bsize)
	avail := uint64(st.Bavail) * uint64(st.Bsize)
	if used+avail == 0 {
		return 0, nil
	}
	return float64(used) / float64(used+avail) * 100, nil
}
