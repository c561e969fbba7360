package memory

// Fields an InputError can point at. The provider maps them onto attribute
// paths, so the names follow the Terraform schema.
const (
	FieldModel          = "model"
	FieldPrecision      = "precision"
	FieldKVPrecision    = "kv_cache_precision"
	FieldContext        = "max_context_tokens"
	FieldConcurrency    = "max_concurrent_sequences"
	FieldUtilization    = "gpu_memory_utilization"
	FieldTensorParallel = "tensor_parallel"
	FieldPipeline       = "pipeline_parallel"
	FieldArchitecture   = "architecture"
	FieldEngineVersion  = "engine_version"
	// FieldMaxBatchedTokens is the model shard's max_num_batched_tokens.
	FieldMaxBatchedTokens = "max_num_batched_tokens"
)

// InputError is a bad input to the estimator, naming the field at fault.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }
