package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// machine is what the figures were measured on.
type machine struct {
	CPUs     int
	Model    string // /proc/cpuinfo "model name"
	MemTotal uint64 // bytes
}

func (m machine) String() string {
	return fmt.Sprintf("%d CPUs (%s), %.1f GiB RAM", m.CPUs, m.Model, float64(m.MemTotal)/(1<<30))
}

func machineInfo() machine {
	m := machine{CPUs: runtime.NumCPU(), Model: "unknown model"}
	if v, ok := procField("/proc/cpuinfo", "model name"); ok {
		m.Model = v
	}
	if v, ok := procField("/proc/meminfo", "MemTotal"); ok {
		kb, _ := strconv.ParseUint(strings.TrimSuffix(v, " kB"), 10, 64)
		m.MemTotal = kb << 10
	}
	return m
}

// procField returns the value of the first "name: value" line of file.
func procField(file, name string) (string, bool) {
	f, err := os.Open(file)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// loadAverage is the 1, 5 and 15 minute load averages from /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
