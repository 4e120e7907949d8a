// Package jobmanager turns a planned JobGraph into running tasks and sees the job through:
// it starts the SDK workers of the job's environments, registers stage descriptors,
// builds one shuffle exchange per edge, runs one task goroutine per stage subtask, and
// ends the job when every task has ended (or the first one failed, or it was cancelled).
//
// In the embedded server every task runs in this process; the cluster (later) splits the
// same ExecutionGraph over TaskManagers.
package jobmanager
