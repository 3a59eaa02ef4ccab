package observebench

import (
	"syscall"
	"time"
)

// rusageThread is RUSAGE_THREAD: the resource usage of the calling thread only.
const rusageThread = 1

// threadCPU returns the CPU time the calling OS thread has used, so a benchmark locked to
// its thread can report CPU per operation, which other processes on a loaded machine
// disturb far less than wall time.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
