package memory

import "math"

// DecodeTokensPerSecond estimates the output tokens per second one replica
// generates, by the roofline of memory bandwidth: decoding is bound by
// reading memory, not by arithmetic. Each decode step reads the weights its
// batch touches once and the KV cache of every sequence, and yields one token
// per sequence, so
//
//	tokens/s = Concurrency × gpus × bandwidth / (weights touched + KV cache)
//
// with the batch at Concurrency sequences, each at the full context (the
// plan's worst case, so the figure is a bound the engine approaches from
// below under full load). For a mixture of experts, a batch of B tokens
// touches each routed expert with probability 1 − (1 − k/E)^B. Compute,
// communication and scheduling overheads are left out: measure and set the
// load per replica yourself when they matter.
func (e *Estimate) DecodeTokensPerSecond(bandwidthBytesPerSecond float64, gpus int) float64 {
	stepBytes := float64(e.WeightBytes)*e.touchedWeightShare(e.Concurrency) + float64(e.KVBytes)
	if stepBytes <= 0 || gpus <= 0 {
		return 0
	}
	return float64(e.Concurrency) * float64(gpus) * bandwidthBytesPerSecond / stepBytes
}

// touchedWeightShare is the share of the weights a decode batch of b tokens
// reads: all of them for a dense model; for a mixture of experts the shared
// part plus the routed experts some token of the batch is sent to.
func (e *Estimate) touchedWeightShare(b int) float64 {
	a := e.Arch
	total, active := float64(e.Params.Total()), float64(e.Params.Active)
	if a.Experts == 0 || a.ActiveExperts >= a.Experts || total <= 0 || active >= total {
		return 1
	}
	k := float64(a.ActiveExperts) / float64(a.Experts)
	routed := (total - active) / (1 - k) // all routed-expert parameters
	shared := active - k*routed
	touched := shared + routed*(1-math.Pow(1-k, float64(b)))
	return min(1, touched/total)
}
