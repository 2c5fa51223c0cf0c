package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 for user space whatever the kernel's tick rate.
const userHZ = 100

// procCPU returns the CPU time (user + system) process pid has used so far,
// from /proc/PID/stat (fields 14 and 15, utime and stime).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of pid %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields we need follow the last ')'.
	i := bytes.LastIndexByte(b, ')')
	var fields []string // fields[0] is field 3, state
	if i >= 0 {
		fields = strings.Fields(string(b[i+1:]))
	}
	if len(fields) < 13 {
		return 0, fmt.Errorf("reading the CPU time of pid %d: unexpected /proc/%d/stat %q", pid, pid, b)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading the CPU time of pid %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// procMemory is what /proc/PID/status says about a process's memory.
type procMemory struct {
	RSS  uint64 // VmRSS: resident now, bytes
	Peak uint64 // VmHWM: the highest VmRSS since the process started, bytes
}

func procMem(pid int) (procMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procMemory{}, fmt.Errorf("reading the memory of pid %d: %w", pid, err)
	}
	defer f.Close()
	var m procMemory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return procMemory{}, fmt.Errorf("reading the memory of pid %d: %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.Peak = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return procMemory{}, fmt.Errorf("reading the memory of pid %d: %w", pid, err)
	}
	return m, nil
}

// listenerPID returns the pid of the process listening on TCP port: the
// server behind an address, found by its listening socket's inode in
// /proc/net/tcp{,6} and then among the open files of every process.
// Reading other users' descriptors needs root or the same user.
func listenerPID(port int) (int, error) {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := listeningInodes(table, port, inodes); err != nil {
			return 0, err
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no process listens on TCP port %d here", port)
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range dirs {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
			return pid, nil
		}
	}
	return 0, fmt.Errorf("TCP port %d is listened on, but by no process whose files this user may read", port)
}

// listeningInodes adds the inodes of the sockets listening on port in the
// kernel's table (/proc/net/tcp format) to inodes.
func listeningInodes(table string, port int, inodes map[string]bool) error {
	b, err := os.ReadFile(table)
	if os.IsNotExist(err) {
		return nil // no IPv6
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", table, err)
	}
	const listen = "0A" // TCP_LISTEN
	suffix := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && strings.HasSuffix(f[1], suffix) && f[3] == listen {
			inodes[f[9]] = true
		}
	}
	return nil
}
