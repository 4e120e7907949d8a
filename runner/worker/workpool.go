package worker

import (
	"math"
	"sync"
)

// WorkPool shares what is left of a splittable stage's restrictions between the stage's
// subtasks, so that one large restriction (textio reads a whole file as one, Beam's
// synthetic source makes one by default) does not leave every other subtask idle.
//
// A subtask whose input has ended and that has nothing left to do parks at the pool
// instead of ending its outputs. A subtask whose bundle is still running sees that some
// subtask is parked, asks its SDK harness to split the bundle (a runner-initiated dynamic
// split) and offers the residual here; a parked subtask takes it and runs it. The stage
// is finished when every subtask is parked and nothing is on offer: only then do the
// subtasks end their outputs, so that no watermark of +inf leaves the stage while a
// residual may still produce data.
//
// The pool is the only state the subtasks share; each subtask keeps its own mailbox loop
// and only calls into the pool, never waits on another subtask.
type WorkPool struct {
	mu       sync.Mutex
	parked   []bool
	nParked  int
	work     [][]byte
	finished bool
	// forwarded is the highest watermark any subtask has sent downstream: a subtask
	// splits its bundle only once it has sent it too, so a residual never carries data
	// older than what another subtask's watermark has already promised.
	forwarded int64
	// wake is closed (and replaced) when work is offered or the stage finishes.
	wake chan struct{}
}

// NewWorkPool returns the pool of a stage with the given number of subtasks.
func NewWorkPool(subtasks int) *WorkPool {
	return &WorkPool{parked: make([]bool, subtasks), wake: make(chan struct{}), forwarded: math.MinInt64}
}

// NoteWatermark records a watermark a subtask sent downstream.
func (p *WorkPool) NoteWatermark(wm int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forwarded = max(p.forwarded, wm)
}

// MaySplit reports whether a subtask that has sent watermark emitted should split its
// bundle now: some subtask waits for work and no subtask is ahead of it.
func (p *WorkPool) MaySplit(emitted int64) (hungry int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.work) > 0 || emitted < p.forwarded {
		return 0
	}
	return p.nParked
}

// Offer adds input elements (residual restrictions, or input a split gave back) for a
// parked subtask to take.
func (p *WorkPool) Offer(elems [][]byte) {
	if len(elems) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.work = append(p.work, elems...)
	p.wakeLocked()
}

// Park is called by subtask sub when it has nothing left to do. It returns work to run
// (and the subtask is no longer parked), or finished when every subtask is parked and
// nothing is on offer, or else a channel that is closed when either may have changed
// (call Park again then).
func (p *WorkPool) Park(sub int) (work [][]byte, finished bool, wake <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return nil, true, nil
	}
	if len(p.work) > 0 {
		// Take a fair share, so that several parked subtasks all get some.
		takers := p.nParked
		if !p.parked[sub] {
			takers++
		}
		n := (len(p.work) + takers - 1) / takers
		work = p.work[:n:n]
		p.work = p.work[n:]
		if p.parked[sub] {
			p.parked[sub] = false
			p.nParked--
		}
		return work, false, nil
	}
	if !p.parked[sub] {
		p.parked[sub] = true
		p.nParked++
	}
	if p.nParked == len(p.parked) {
		p.finished = true
		p.wakeLocked()
		return nil, true, nil
	}
	return nil, false, p.wake
}

func (p *WorkPool) wakeLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}
