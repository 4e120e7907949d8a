package hook

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/sluice-runner/sluice/codegen/capture"
)

func init() {
	beam.RegisterRunner(capture.RunnerName, execute)
}

// execute captures p and ends the program: once the pipeline is captured, nothing the
// program would do with a result (read metrics, check outputs) applies.
func execute(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error) {
	out := os.Getenv(capture.EnvOut)
	if out == "" {
		return nil, fmt.Errorf("runner %s only runs under sluicegen, which sets $%s", capture.RunnerName, capture.EnvOut)
	}
	c, err := capture.Record(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", capture.RunnerName, err)
	}
	if err := capture.WriteFile(out, c); err != nil {
		return nil, fmt.Errorf("%s: writing the capture: %w", capture.RunnerName, err)
	}
	os.Exit(0)
	return nil, nil
}
