// Package containertest runs real runc containers for sensor tests. The root
// of each container is an overlayfs over a small busybox rootfs built in the
// test, and its cgroups follow the kubelet's layout. Container ids, pod UIDs
// and proc.is_exe_upper_layer are therefore real.
//
//	c := containertest.Start(t, containertest.Options{Args: []string{"sleep", "3600"}})
//	out, err := c.Exec(t, "id", "-un")
//	// A copy of busybox named after an applet, written to the upper layer.
//	_, err = c.Exec(t, "cp", "/bin/busybox", "/tmp/sleep")
//	pid := c.ExecDetached(t, "/tmp/sleep", "600")
//
// For tests that need only the cgroup, [NewCgroup] makes a kubelet-like
// cgroup without runc and starts host processes inside it.
//
// The tests need root, runc (Debian package runc) and a statically linked
// busybox (Debian package busybox-static). When one is missing the test is
// skipped, or fails when the environment variable CI is "true".
//
// Cgroups are created under the test process's own cgroup in every
// hierarchy (cgroup v1 controllers and the cgroup2 hierarchy), so on a host
// where the test runs in /sys/fs/cgroup/memory/ci-job the memory cgroup of a
// container is /ci-job/kubepods/besteffort/pod<uid>/<id>. Paths therefore
// end with the kubelet layout but may carry a prefix, as they do on nested
// clusters such as kind. Everything a test creates is removed in t.Cleanup,
// and only processes the test started, or their descendants, are killed.
package containertest
