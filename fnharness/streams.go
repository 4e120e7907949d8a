package fnharness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sluice-runner/sluice/codegen/native/protocol"
)

// runStream runs recv on a goroutine owned by the worker and returns when recv
// ends or the worker stops. The caller's handler returns right after, which
// cancels the stream and so ends a recv still blocked in Recv.
func (w *Worker) runStream(recv func() error) error {
	ended := make(chan error, 1)
	if !w.goOwned(func() { ended <- recv() }) {
		return ErrWorkerStopped
	}
	select {
	case err := <-ended:
		return err
	case <-w.ctx.Done():
		return ErrWorkerStopped
	}
}

func streamEnd(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return errors.New("the worker closed the stream")
	}
	if status.Code(err) == codes.Canceled {
		return fmt.Errorf("the worker's stream was canceled: %w", err)
	}
	return err
}

// serveControl owns the worker's control stream: one receive loop dispatches
// InstructionResponses by instruction id. Its end ends the worker.
func (w *Worker) serveControl(stream fnpb.BeamFnControl_ControlServer) error {
	ctrl := newSender(stream.Send)
	w.mu.Lock()
	switch {
	case w.cause != nil || w.stopping:
		w.mu.Unlock()
		return status.Errorf(codes.FailedPrecondition, "fnharness: worker %q has ended", w.id)
	case w.ctrl != nil:
		w.mu.Unlock()
		return status.Errorf(codes.AlreadyExists, "fnharness: worker %q already has a control stream", w.id)
	}
	w.ctrl = ctrl
	if w.native {
		w.fingerprints, w.portable = nativeStages(stream.Context())
		w.capabilities = metadata.ValueFromIncomingContext(stream.Context(), protocol.CapabilitiesKey)
	}
	w.mu.Unlock()
	// Headers now tell the client it is attached (a native harness waits for them to
	// know the runner knows its worker id); the SDK ignores them.
	if err := stream.SendHeader(metadata.Pairs("sluice-attached", w.id)); err != nil {
		w.log.Debug("sending control stream headers", "err", err)
	}
	close(w.connected)

	err := w.runStream(func() error {
		for {
			resp, err := stream.Recv()
			if err != nil {
				return err
			}
			w.mu.Lock()
			cb := w.pending[resp.GetInstructionId()]
			delete(w.pending, resp.GetInstructionId())
			w.mu.Unlock()
			if cb == nil {
				w.log.Debug("dropping a response for an unknown instruction", "instruction", resp.GetInstructionId())
				continue
			}
			cb(resp, nil)
		}
	})
	ctrl.close()
	if errors.Is(err, ErrWorkerStopped) {
		w.fail(ErrWorkerStopped)
	} else {
		w.fail(fmt.Errorf("control stream ended: %w", streamEnd(err)))
	}
	return nil
}

// serveData owns the worker's data stream. Received elements are appended to
// their bundle's output queue; a lost stream fails the bundles in flight.
func (w *Worker) serveData(stream fnpb.BeamFnData_DataServer) error {
	data := newSender(stream.Send)
	w.mu.Lock()
	if w.cause != nil || w.stopping {
		w.mu.Unlock()
		return status.Errorf(codes.FailedPrecondition, "fnharness: worker %q has ended", w.id)
	}
	if w.data != nil {
		// The SDK recreates its stream after an error; the newest one wins.
		w.log.Warn("data stream replaced by a new one")
	} else {
		close(w.dataReady)
	}
	w.data = data
	w.mu.Unlock()

	err := w.runStream(func() error {
		for {
			msg, err := stream.Recv()
			if err != nil {
				return err
			}
			w.deliver(msg)
		}
	})

	w.mu.Lock()
	current := w.data == data
	var inflight []*Bundle
	if current {
		w.data = nil
		w.dataReady = make(chan struct{})
		for _, b := range w.bundles {
			inflight = append(inflight, b)
		}
	}
	w.mu.Unlock()
	data.close()
	if current && !errors.Is(err, ErrWorkerStopped) {
		cause := fmt.Errorf("data stream of SDK worker %s ended: %w%s", w.id, streamEnd(err), formatLogs(w.RecentLogs()))
		for _, b := range inflight {
			b.finish(cause)
		}
	}
	return nil
}

// deliver hands one Elements message to the bundles it belongs to.
func (w *Worker) deliver(msg *fnpb.Elements) {
	var b *Bundle
	lookup := func(inst string) *Bundle {
		if b != nil && b.id == inst {
			return b
		}
		w.mu.Lock()
		b = w.bundles[inst]
		w.mu.Unlock()
		return b
	}
	for _, d := range msg.GetData() {
		if bb := lookup(d.GetInstructionId()); bb != nil {
			bb.addOutput(Output{TransformID: d.GetTransformId(), Data: d.GetData(), IsLast: d.GetIsLast()})
		}
	}
	for _, t := range msg.GetTimers() {
		if bb := lookup(t.GetInstructionId()); bb != nil {
			bb.addOutput(Output{TransformID: t.GetTransformId(), TimerFamily: t.GetTimerFamilyId(), Data: t.GetTimers(), IsLast: t.GetIsLast()})
		}
	}
}

// serveState routes each StateRequest to its bundle's handler, one goroutine
// per request; responses are serialized on the stream.
func (w *Worker) serveState(stream fnpb.BeamFnState_StateServer) error {
	out := newSender(stream.Send)
	err := w.runStream(func() error {
		for {
			req, err := stream.Recv()
			if err != nil {
				return err
			}
			w.mu.Lock()
			b := w.bundles[req.GetInstructionId()]
			w.mu.Unlock()
			if b == nil || b.state == nil {
				msg := fmt.Sprintf("fnharness: no active bundle with a state handler for instruction %q on worker %q", req.GetInstructionId(), w.id)
				if err := out.Send(&fnpb.StateResponse{Id: req.GetId(), Error: msg}); err != nil {
					return err
				}
				continue
			}
			w.goOwned(func() {
				resp := b.handleState(req)
				if err := out.Send(resp); err != nil && !errors.Is(err, errStreamClosed) {
					w.log.Warn("sending a state response", "instruction", req.GetInstructionId(), "err", err)
				}
			})
		}
	})
	out.close()
	if err != nil && !errors.Is(err, ErrWorkerStopped) && !errors.Is(err, io.EOF) && status.Code(err) != codes.Canceled {
		w.log.Warn("state stream ended", "err", err)
	}
	return nil
}

// serveLogging forwards SDK log entries to slog, the worker's recent-log ring
// and the LogSink.
func (w *Worker) serveLogging(stream fnpb.BeamFnLogging_LoggingServer) error {
	w.runStream(func() error {
		for {
			list, err := stream.Recv()
			if err != nil {
				return err
			}
			for _, e := range list.GetLogEntries() {
				w.logEntry(e)
			}
		}
	})
	return nil
}

func (w *Worker) logEntry(e *fnpb.LogEntry) {
	level := slogLevel(e.GetSeverity())
	attrs := []any{}
	if t := e.GetTransformId(); t != "" {
		attrs = append(attrs, "transform", t)
	}
	if i := e.GetInstructionId(); i != "" {
		attrs = append(attrs, "instruction", i)
	}
	if l := e.GetLogLocation(); l != "" {
		attrs = append(attrs, "location", l)
	}
	if tr := e.GetTrace(); tr != "" {
		attrs = append(attrs, "trace", tr)
	}
	w.log.Log(context.Background(), level, "sdk: "+e.GetMessage(), attrs...)
	line := e.GetSeverity().String() + " " + e.GetMessage()
	if t := e.GetTransformId(); t != "" {
		line += " [transform " + t + "]"
	}
	if tr := e.GetTrace(); tr != "" {
		line += "\n" + tr
	}
	w.logs.add(line)
	if w.cfg.LogSink != nil {
		w.cfg.LogSink(e)
	}
}

func slogLevel(s fnpb.LogEntry_Severity_Enum) slog.Level {
	switch s {
	case fnpb.LogEntry_Severity_TRACE, fnpb.LogEntry_Severity_DEBUG:
		return slog.LevelDebug
	case fnpb.LogEntry_Severity_WARN:
		return slog.LevelWarn
	case fnpb.LogEntry_Severity_ERROR, fnpb.LogEntry_Severity_CRITICAL:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
