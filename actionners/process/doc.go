// Package process implements the host actionners, which act on Linux
// processes by pid. [Kill] is registered as "process:kill".
//
// Process ids come from the sensor, which reads them in the host's pid
// namespace, so the responder must run in that namespace too (hostPID in a
// Kubernetes pod) for the ids to name the same processes.
package process
