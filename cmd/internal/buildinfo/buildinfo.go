// Package buildinfo says which build of Cohortline is running: the module
// version and the VCS revision Go stamped into the binary, and the
// versions of the contracts it speaks (Version). `cohortline version`
// prints them, and the privacy ledger records the revision with every
// release (code_version).
package buildinfo

import "runtime/debug"

// Module is the main module's version, "" for a local build.
func Module(info *debug.BuildInfo) string {
	if info.Main.Version == "(devel)" {
		return ""
	}
	return info.Main.Version
}

// VCS is the revision and time Go stamped into the binary, the revision
// shortened to 12 characters with "+dirty" for uncommitted changes; go
// test and go run stamp neither.
func VCS(info *debug.BuildInfo) (rev, at string) {
	var dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "", ""
	}
	return rev[:min(12, len(rev))] + dirty, at
}

// CodeVersion names this build for the privacy ledger: the VCS revision
// (with "+dirty"), else the module version, else "devel".
func CodeVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if rev, _ := VCS(info); rev != "" {
		return rev
	}
	if m := Module(info); m != "" {
		return m
	}
	return "devel"
}
