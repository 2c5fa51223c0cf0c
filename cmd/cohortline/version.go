package main

import "runtime/debug"

// codeVersion names the build for the privacy ledger: the VCS revision Go
// stamped into the binary (with "+dirty" for uncommitted changes), else
// the module version, else "devel" (go test and go run stamp neither).
func codeVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	switch {
	case rev != "":
		return rev[:min(12, len(rev))] + dirty
	case info.Main.Version != "" && info.Main.Version != "(devel)":
		return info.Main.Version
	}
	return "devel"
}
