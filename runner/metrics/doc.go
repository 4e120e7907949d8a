// Package metrics aggregates the MonitoringInfos that SDK harnesses report with each bundle
// into job-level values (user counters, distributions, gauges and the SDK's own element
// counts), as GetJobMetrics returns them.
package metrics
