package main

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cohortline/cohortline/cmd/internal/buildinfo"
	"github.com/cohortline/cohortline/cohorts"
	"github.com/cohortline/cohortline/schemas"
)

// TestVersionNamesEveryContract: the JSON form carries the build and the
// contract versions, the DDL version being the newest migration file.
func TestVersionNamesEveryContract(t *testing.T) {
	code, out, errOut := runCLI(t, "", "version", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v buildinfo.Version
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "schemas", "ddl", "[0-9][0-9][0-9][0-9]_*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	newest := filepath.Base(files[len(files)-1]) // Glob sorts
	if number, _ := strconv.Atoi(newest[:4]); v.DDLFile != newest || v.DDLVersion != number {
		t.Errorf("ddl %d %q, want %d %q", v.DDLVersion, v.DDLFile, number, newest)
	}
	if v.EventFormat != schemas.Version || v.FeatureSet != cohorts.FeatureSetVersion || v.Features != cohorts.NumFeaturesV1() ||
		v.Go != runtime.Version() || v.Module == "" {
		t.Errorf("version %+v", v)
	}
	code, out, _ = runCLI(t, "", "version")
	rows := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		label, value, _ := strings.Cut(line, "  ")
		rows[label] = strings.TrimSpace(value)
	}
	for label, want := range map[string]string{
		"cohortline":   v.Module,
		"go":           runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		"event format": "v" + strconv.Itoa(schemas.Version),
		"feature set":  strconv.Itoa(cohorts.FeatureSetVersion) + " (" + strconv.Itoa(cohorts.NumFeaturesV1()) + " features)",
		"ddl version":  strconv.Itoa(v.DDLVersion) + " (" + newest + ")",
	} {
		if code != exitOK || rows[label] != want {
			t.Errorf("version: %s is %q, want %q (output %q)", label, rows[label], want, out)
		}
	}
	if code, _, errOut := runCLI(t, "", "version", "extra"); code != exitUsage {
		t.Errorf("version extra: exit %d (%s), want %d", code, errOut, exitUsage)
	}
}
