package report

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Target kinds: what a run measured.
const (
	// TargetMiniredis is the embedded miniredis, in the harness's own process: it shares the
	// workers' CPU and is not Redis, so its numbers are the harness's, not a server's.
	TargetMiniredis = "miniredis"
	// TargetStarted is a redis-server the harness started on its own machine (-start-redis,
	// -chaos): a real server, sharing the machine's CPUs with the workers.
	TargetStarted = "redis-server"
	// TargetRedis is a Redis server the run was pointed at (-redis).
	TargetRedis = "redis"
	// TargetCluster is a Redis Cluster the run was pointed at (-cluster).
	TargetCluster = "redis-cluster"
)

// Target is the Redis a run measured.
type Target struct {
	// Kind is one of TargetMiniredis, TargetStarted, TargetRedis, TargetCluster.
	Kind string `json:"kind"`
	// Addresses are the server's address, or the cluster's seed addresses.
	Addresses []string `json:"addresses"`
	// Version is the server's redis_version (INFO server); "" when unknown (miniredis).
	Version string `json:"version"`
	// Description says it in a sentence, as the run's header prints it.
	Description string `json:"description"`
}

// Machine is what the harness ran on.
type Machine struct {
	CPUs       int    `json:"cpus"` // logical CPUs (runtime.NumCPU)
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpuModel"` // /proc/cpuinfo's model name; "" when unknown
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	GoVersion  string `json:"goVersion"`
}

// ThisMachine describes the machine the process runs on.
func ThisMachine() Machine {
	return Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPUModel: cpuModel(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
}

// cpuModel reads the first "model name" of /proc/cpuinfo (Linux); "" elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// Banner is the report's first line, in the text report and at the top of the HTML page: what
// was measured (so a pasted report cannot pass miniredis numbers for Redis numbers), the
// scenario and the measured time, and the machine. For example:
//
//	miniredis embedded in the harness (shares its CPU: not Redis numbers) | kv, 8.00s measured | 2 CPUs (AMD EPYC 7B13), linux/amd64, go1.26.8
func Banner(r *Report) string {
	run := r.Scenario
	if len(r.Compare) > 0 {
		run += " -compare"
	}
	run += ", " + Dur(r.Elapsed.Round(10*time.Millisecond)) + " measured"
	if r.Partial {
		run += " (partial)"
	}
	return targetLine(r.Target) + " | " + run + " | " + machineLine(r.Machine)
}

func targetLine(t Target) string {
	version := func(name string) string {
		if t.Version == "" {
			return name
		}
		return name + " " + t.Version
	}
	addr := strings.Join(t.Addresses, ",")
	switch t.Kind {
	case TargetMiniredis:
		return "miniredis embedded in the harness (shares its CPU: not Redis numbers)"
	case TargetStarted:
		return version("redis-server") + " at " + addr + ", started on this machine (shares its CPUs)"
	case TargetRedis:
		return version("Redis") + " at " + addr
	case TargetCluster:
		return fmt.Sprintf("%s, %d seed address(es) %s", version("Redis Cluster"), len(t.Addresses), addr)
	}
	if t.Description != "" {
		return t.Description
	}
	return "unknown target"
}

func machineLine(m Machine) string {
	cpu := fmt.Sprintf("%d CPUs", m.CPUs)
	if m.CPUs == 1 {
		cpu = "1 CPU"
	}
	if m.CPUModel != "" {
		cpu += " (" + m.CPUModel + ")"
	}
	if m.GOMAXPROCS != 0 && m.GOMAXPROCS != m.CPUs {
		cpu += fmt.Sprintf(", GOMAXPROCS %d", m.GOMAXPROCS)
	}
	if m.OS == "" {
		return cpu
	}
	return fmt.Sprintf("%s, %s/%s, %s", cpu, m.OS, m.Arch, m.GoVersion)
}
