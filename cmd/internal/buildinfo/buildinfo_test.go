package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestVCSStamp(t *testing.T) {
	info := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "faa7d4c75dbc0123456789abcdef"},
		{Key: "vcs.time", Value: "2026-12-03T21:47:49Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	if rev, at := VCS(info); rev != "faa7d4c75dbc+dirty" || at != "2026-12-03T21:47:49Z" {
		t.Errorf("VCS = %q, %q", rev, at)
	}
	if rev, at := VCS(&debug.BuildInfo{}); rev != "" || at != "" {
		t.Errorf("unstamped: %q, %q", rev, at)
	}
}
