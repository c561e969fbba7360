//go:build !unix

package bench

import "os"

func childPeakMiB(*os.ProcessState) (float64, bool) { return 0, false }

func selfPeakMiB() (float64, bool) { return 0, false }
