//go:build unix

package bench

import (
	"os"
	"runtime"
	"syscall"
)

// rssMiB converts ru_maxrss to MiB: KiB on Linux and most Unixes, bytes on
// Darwin.
func rssMiB[T int32 | int64](maxrss T) float64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return float64(maxrss) / (1 << 20)
	}
	return float64(maxrss) / (1 << 10)
}

// childPeakMiB is the peak resident set of a finished child process.
func childPeakMiB(ps *os.ProcessState) (float64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0, false
	}
	return rssMiB(ru.Maxrss), true
}

// selfPeakMiB is this process's peak resident set so far.
func selfPeakMiB() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return rssMiB(ru.Maxrss), true
}
