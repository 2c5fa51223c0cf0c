package configfile

import (
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/cohortline/cohortline/cmd/internal/yamlpath"
	"github.com/cohortline/cohortline/cohorts"
)

// Lines maps every key path of a config file to its line.
type Lines yamlpath.Lines

// checkKeys walks the config document against File before it is decoded
// (yamlpath.Check): errors give the key's full path and its line in the
// file, the cohorts section included.
func checkKeys(doc *yaml.Node) (Lines, error) {
	lines, err := yamlpath.Check(doc, reflect.TypeOf(File{}), map[string]reflect.Type{
		"cohorts": reflect.TypeOf(cohorts.Spec{}), // a yaml.Node that cohorts.ParseSpec decodes
	})
	return Lines(lines), err
}

// sectionPrefixes name the file's key paths in the Validate errors of
// the packages, which are relative to their sections.
var sectionPrefixes = []yamlpath.Prefix{
	{From: "cohorts: cohort spec: ", To: "cohorts."},
	{From: "cohort spec: ", To: "cohorts."},
	{From: "clickhouse: ", To: "clickhouse."},
	{From: "cohorts: privacy: ", To: "cohorts.privacy."},
}

// locate gives a validation error the lines of its keys.
func (l Lines) locate(err error) error { return yamlpath.Lines(l).Locate(err, sectionPrefixes) }
