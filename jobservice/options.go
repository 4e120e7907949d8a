package jobservice

import (
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
)

// DefaultPipelineOptions describes the options Sluice itself reads from a
// job's pipeline options.
func DefaultPipelineOptions() []*jobpb.PipelineOptionDescriptor {
	const group = "sluice"
	return []*jobpb.PipelineOptionDescriptor{
		{
			Name:         "parallelism",
			Type:         jobpb.PipelineOptionType_INTEGER,
			Description:  "Default parallelism of each stage (subtasks per stage); -1 lets Sluice choose.",
			DefaultValue: "-1",
			Group:        group,
		},
		{
			Name:         "stateful_parallelism",
			Type:         jobpb.PipelineOptionType_INTEGER,
			Description:  "Subtasks of each stage that runs a DoFn with user state or timers; -1 lets Sluice choose (16 per CPU: such a stage waits on state round trips).",
			DefaultValue: "-1",
			Group:        group,
		},
		{
			Name:         "max_parallelism",
			Type:         jobpb.PipelineOptionType_INTEGER,
			Description:  "Number of key groups; the upper bound for rescaling keyed state.",
			DefaultValue: "128",
			Group:        group,
		},
		{
			Name:         "checkpointing_interval",
			Type:         jobpb.PipelineOptionType_INTEGER,
			Description:  "Milliseconds between barrier checkpoints; -1 disables checkpointing.",
			DefaultValue: "-1",
			Group:        group,
		},
	}
}
