package plan

// URNs the planner recognises. Kept as plain constants: they are the wire contract with
// every Beam SDK.
const (
	urnImpulse       = "beam:transform:impulse:v1"
	urnParDo         = "beam:transform:pardo:v1"
	urnFlatten       = "beam:transform:flatten:v1"
	urnGBK           = "beam:transform:group_by_key:v1"
	urnCombinePerKey = "beam:transform:combine_per_key:v1"
	urnWindowInto    = "beam:transform:window_into:v1"
	urnMapWindows    = "beam:transform:map_windows:v1"
	urnMergeWindows  = "beam:transform:merge_windows:v1"
	urnToString      = "beam:transform:to_string:v1"
	urnTestStream    = "beam:transform:teststream:v1"

	urnCombinePrecombine = "beam:transform:combine_per_key_precombine:v1"
	urnCombineMerge      = "beam:transform:combine_per_key_merge_accumulators:v1"
	urnCombineExtract    = "beam:transform:combine_per_key_extract_outputs:v1"

	urnSDFPairWithRestriction = "beam:transform:sdf_pair_with_restriction:v1"
	urnSDFSplitAndSize        = "beam:transform:sdf_split_and_size_restrictions:v1"
	urnSDFProcessSized        = "beam:transform:sdf_process_sized_element_and_restrictions:v1"
	urnSDFTruncateSized       = "beam:transform:sdf_truncate_sized_restrictions:v1"

	urnDataSource = "beam:runner:source:v1"
	urnDataSink   = "beam:runner:sink:v1"

	urnUserStateBag         = "beam:user_state:bag:v1"
	urnUserStateMultimap    = "beam:user_state:multimap:v1"
	urnUserStateOrderedList = "beam:user_state:ordered_list:v1"

	urnSideInputIterable = "beam:side_input:iterable:v1"
	urnSideInputMultimap = "beam:side_input:multimap:v1"

	urnRequiresSplittable   = "beam:requirement:pardo:splittable_dofn:v1"
	urnRequiresStateful     = "beam:requirement:pardo:stateful:v1"
	urnRequiresFinalization = "beam:requirement:pardo:finalization:v1"
)

// sdkTransformURNs run inside an SDK harness.
var sdkTransformURNs = map[string]bool{
	urnParDo:                  true,
	urnWindowInto:             true,
	urnMapWindows:             true,
	urnMergeWindows:           true,
	urnToString:               true,
	urnCombinePrecombine:      true,
	urnCombineMerge:           true,
	urnCombineExtract:         true,
	urnSDFPairWithRestriction: true,
	urnSDFSplitAndSize:        true,
	urnSDFProcessSized:        true,
}

// supportedRequirements are the pipeline requirements Sluice honours today.
var supportedRequirements = map[string]bool{
	urnRequiresSplittable:   true,
	urnRequiresFinalization: true,
	urnRequiresStateful:     true,
}
