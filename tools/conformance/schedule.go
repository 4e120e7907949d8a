package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// job is one top-level test to run.
type job struct {
	pkg  *testPkg
	test string
}

// runAll runs every selected test, c.parallel at a time, and returns the
// results in selection order. Packages that failed to compile, and listed
// tests that do not exist, become failed results. Once ctx is done or the
// server has exited, no further test is started.
func runAll(ctx context.Context, c *config, sel *selection, pkgs []*testPkg, endpoint string, serverDone <-chan struct{}) []result {
	var pre []result
	var jobs []job
	for _, p := range pkgs {
		if p.err != nil {
			pre = append(pre, result{id: testID{p.short, "[build]"}, result: "fail", reason: clip(p.err.Error())})
			for _, t := range sel.listedMissing(p.short, nil) {
				pre = append(pre, result{id: testID{p.short, t}, result: "fail", reason: "not run: package did not build"})
			}
			continue
		}
		for _, t := range sel.listedMissing(p.short, p.tests) {
			pre = append(pre, result{id: testID{p.short, t}, result: "fail", reason: "not found in the package's test list"})
		}
		for _, t := range p.tests {
			if sel.wants(p.short, t) {
				jobs = append(jobs, job{p, t})
			}
		}
	}
	perJob := make([][]result, len(jobs))
	var (
		mu       sync.Mutex
		finished int
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for w := 0; w < c.parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res, wall := runJob(ctx, c, jobs[i], endpoint, serverDone)
				perJob[i] = res
				mu.Lock()
				finished++
				printProgress(finished, len(jobs), jobs[i], res, wall)
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, r := range perJob {
		pre = append(pre, r...)
	}
	return pre
}

// runJob runs one top-level test and turns its output into results.
func runJob(ctx context.Context, c *config, j job, endpoint string, serverDone <-chan struct{}) ([]result, time.Duration) {
	notRun := func(why string) []result {
		return []result{{id: testID{j.pkg.short, j.test}, result: "fail", reason: "not run: " + why}}
	}
	if ctx.Err() != nil {
		return notRun("interrupted"), 0
	}
	select {
	case <-serverDone:
		return notRun("the job server has exited (see logs/server.log)"), 0
	default:
	}
	tctx, cancel := context.WithCancel(ctx)
	var drainWG sync.WaitGroup
	if j.test == drainTest {
		logPath := filepath.Join(c.outDir, "logs", j.pkg.fileName()+"."+j.test+".drain.log")
		if f, err := os.Create(logPath); err == nil {
			drainWG.Add(1)
			go func() {
				defer drainWG.Done()
				defer f.Close()
				drainJobs(tctx, endpoint, c.drainAfter, f)
			}()
		} else {
			fmt.Fprintf(os.Stderr, "conformance: no drain operator for %s: %v\n", j.test, err)
		}
	}
	o := runTest(tctx, c, j.pkg, j.test, endpoint)
	cancel()
	drainWG.Wait()
	if o.startErr != nil {
		return notRun(o.startErr.Error()), o.wall
	}
	evs, err := convert(ctx, o.rawLog, j.pkg.short)
	if err != nil {
		return []result{{id: testID{j.pkg.short, j.test}, result: "fail", reason: clip(err.Error())}}, o.wall
	}
	return leafResults(j.pkg.short, j.test, evs, noVerdictReason(o, c)), o.wall
}

func printProgress(n, total int, j job, res []result, wall time.Duration) {
	pass, fail, skip := counts(res)
	verdict := "pass"
	switch {
	case fail > 0:
		verdict = "FAIL"
	case pass == 0 && skip > 0:
		verdict = "skip"
	}
	extra := ""
	if len(res) > 1 {
		extra = fmt.Sprintf(" (%d passed, %d failed, %d skipped)", pass, fail, skip)
	}
	fmt.Printf("[%d/%d] %s.%s %s %.1fs%s\n", n, total, j.pkg.short, j.test, verdict, wall.Seconds(), extra)
}
