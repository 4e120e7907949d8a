// Package protocol is what Sluice's runner and the native harness (package
// codegen/native, running in the user's binary) agree on beyond the Fn API itself: the
// native harness is a second Fn API client of the runner, next to the Go SDK harness of
// the same process, and runs only the stages whose generated chains it carries.
//
//   - It connects its control and data streams with the SDK worker's id plus
//     WorkerSuffix as worker_id, and lists the fingerprints of its chains, comma
//     separated, in the FingerprintsKey metadata of the control stream, and the stages
//     its generated file knows but could not generate, with why, in PortableKey,
//     and what it can do beyond running chains over the data stream in CapabilitiesKey
//     (CapabilitySideInputs: it reads side inputs over the State API, so the runner
//     serves its bundles' state requests as it serves the SDK harness's;
//     CapabilityUserState: it keeps stateful ParDos' user state there too;
//     CapabilityTimers: it fires and sets timers on the data stream;
//     CapabilityGroupState: it reads the rest of a large group from runner state).
//   - The runner registers one descriptor per native stage: a single transform of URN
//     StageURN whose payload is a Stage (JSON), naming the chain by fingerprint and the
//     data source and sink transform ids its elements travel under.
//   - Bundles are the Fn API's: ProcessBundle, elements on the data stream (windowed
//     values in the stage's wire coders), is_last, a ProcessBundleResponse carrying
//     element counts.
//
// The package imports nothing of either side so that both can use it.
package protocol

import (
	"encoding/json"
	"fmt"
)

const (
	// WorkerSuffix makes the native harness's worker id from the SDK worker's.
	WorkerSuffix = "-native"
	// FingerprintsKey is the control stream metadata listing the chains' fingerprints.
	FingerprintsKey = "sluice-native-fingerprints"
	// PortableKey is the control stream metadata naming, one value each, the stages the
	// generated file knows but has no chain for: the fingerprint, a space, and why.
	PortableKey = "sluice-native-portable"
	// CapabilitiesKey is the control stream metadata listing, one value each, what the
	// harness can do beyond the data stream.
	CapabilitiesKey = "sluice-native-capabilities"
	// CapabilitySideInputs says the harness reads side inputs with the State API (under
	// a bundle's instruction id, IterableSideInput and MultimapSideInput keys, paged).
	CapabilitySideInputs = "side-inputs"
	// CapabilityUserState says the harness reads and writes stateful ParDos' user state
	// with the State API (under a bundle's instruction id, BagUserState,
	// MultimapUserState and MultimapKeysUserState keys, as the Go SDK harness does).
	CapabilityUserState = "user-state"
	// CapabilityTimers says the harness fires the timers the runner sends on the data
	// stream and sends back the timers bundles set, each family ended with is_last, as
	// the Go SDK harness does.
	CapabilityTimers = "timers"
	// CapabilityGroupState says the harness reads the values of a large group past its
	// element's inline part from runner state (a Runner state key with the token the
	// element's iterable ends in, paged), as the Go SDK harness does: the runner then
	// keeps such values in its store instead of sending them inline.
	CapabilityGroupState = "group-state"
	// StageURN is the URN of a native stage descriptor's one transform.
	StageURN = "sluice:native:stage:v1"
	// HookName is the Beam Go hook the native harness starts from; the runner looks for
	// it in a job's pipeline options to know a native harness will connect.
	HookName = "sluice:native"
	// EndpointOption is the pipeline option telling a PROCESS worker where the runner's
	// Fn API is; LOOPBACK workers use the job endpoint, which serves it too.
	EndpointOption = "sluice_native_endpoint"
)

// Stage is the payload of a native stage descriptor.
type Stage struct {
	Fingerprint string `json:"fingerprint"`
	// Name is the stage's id in the runner's plan, for messages.
	Name string `json:"name"`
	// Source is the data source transform id of the stage's input and Input the
	// PCollection it carries.
	Source string `json:"source"`
	Input  string `json:"input"`
	// Sinks are the data sink transform ids of the stage's outputs, in the order of the
	// planned stage's outputs (the order of the chain's outputs), and Outputs their
	// PCollections.
	Sinks   []string `json:"sinks"`
	Outputs []string `json:"outputs"`
}

// Marshal encodes s as a descriptor transform payload.
func (s Stage) Marshal() ([]byte, error) { return json.Marshal(s) }

// UnmarshalStage decodes a native stage descriptor transform payload.
func UnmarshalStage(b []byte) (Stage, error) {
	var s Stage
	if err := json.Unmarshal(b, &s); err != nil {
		return Stage{}, fmt.Errorf("native stage payload: %w", err)
	}
	if s.Fingerprint == "" || s.Source == "" || len(s.Sinks) != len(s.Outputs) {
		return Stage{}, fmt.Errorf("native stage payload %s: want a fingerprint, a source and one output per sink", b)
	}
	return s, nil
}
