package main

import (
	"net"
	"os"
	"testing"
	"time"
)

func TestProcOfThisProcess(t *testing.T) {
	// Burn CPU until the kernel has charged this process a clock tick:
	// 30 ms of wall time was not always one tick on a loaded machine.
	var cpu time.Duration
	var err error
	for began := time.Now(); time.Since(began) < 5*time.Second; {
		if cpu, err = procCPU(os.Getpid()); err != nil || cpu > 0 {
			break
		}
		for spin := time.Now(); time.Since(spin) < 10*time.Millisecond; {
		}
	}
	if err != nil || cpu <= 0 {
		t.Errorf("procCPU(self) = %v, %v; want a positive time", cpu, err)
	}
	mem, err := procMem(os.Getpid())
	if err != nil || mem.RSS == 0 || mem.Peak < mem.RSS {
		t.Errorf("procMem(self) = %+v, %v; want 0 < RSS <= peak", mem, err)
	}
	if _, err := procCPU(-1); err == nil {
		t.Error("procCPU(-1) succeeded")
	}
}

func TestListenerPID(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	pid, err := listenerPID(port)
	if err != nil || pid != os.Getpid() {
		t.Errorf("listenerPID(%d) = %d, %v; want this process, %d", port, pid, err, os.Getpid())
	}
	l.Close()
	if pid, err := listenerPID(port); err == nil {
		t.Errorf("listenerPID(%d) after close = %d, want an error", port, pid)
	}
}

func TestSamplerSpan(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := &sampler{samples: []sample{
		{at: t0, cpu: 1 * time.Second, rss: 10},
		{at: t0.Add(100 * time.Millisecond), cpu: 2 * time.Second, rss: 30},
		{at: t0.Add(200 * time.Millisecond), cpu: 4 * time.Second, rss: 20},
		{at: t0.Add(300 * time.Millisecond), cpu: 8 * time.Second, rss: 50},
	}}
	for _, tc := range []struct {
		name     string
		from, to time.Duration
		want     usage
	}{
		{"whole", 0, 300 * time.Millisecond, usage{CPU: 7 * time.Second, PeakRSS: 50}},
		{"between samples", 150 * time.Millisecond, 250 * time.Millisecond, usage{CPU: 2 * time.Second, PeakRSS: 20}},
		{"before the first", -time.Second, 100 * time.Millisecond, usage{CPU: time.Second, PeakRSS: 30}},
	} {
		got, err := s.span(t0.Add(tc.from), t0.Add(tc.to))
		if err != nil || got != tc.want {
			t.Errorf("%s: span = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestAssignWatchSplitLine(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &assignWatch{w: f}
	line := `{"time":"x","level":"INFO","msg":"partition assigned","partition":3}` + "\n"
	a.Write([]byte(`{"msg":"consuming"}` + "\n"))
	if !a.at().IsZero() {
		t.Fatal("assignment seen before it was logged")
	}
	a.Write([]byte(line[:30])) // the marker split across two writes
	a.Write([]byte(line[30:]))
	if a.at().IsZero() {
		t.Error("assignment split across writes not seen")
	}
}
