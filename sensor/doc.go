// Package sensor captures process activity on the local host with the BPF
// programs of package bpf and delivers it as [event.Event] values.
//
// A Sensor loads the programs in [New], then [Sensor.Run] attaches them,
// seeds the process table from /proc, and reads the ring buffer until its
// context ends, calling [Config.Handler] for every event from the reading
// goroutine:
//
//	s, err := sensor.New(sensor.Config{Handler: func(e *event.Event) {
//		fmt.Println(e.Type, e.Proc.Cmdline(), e.Proc.ShortContainerID())
//	}}, logger)
//	if err != nil {
//		return err
//	}
//	return s.Run(ctx)
//
// The sensor needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), Linux 5.17 or
// newer with BTF, and mounts tracefs and bpffs when they are missing.
package sensor
