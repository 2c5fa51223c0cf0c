package main

import (
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/cohortline/cohortline/cmd/internal/yamlpath"
	"github.com/cohortline/cohortline/cohorts"
)

// configLines maps every key path of a config file to its line.
type configLines = yamlpath.Lines

// checkConfigKeys walks the config document against fileConfig before it
// is decoded (yamlpath.Check): errors give the key's full path and its
// line in the file, the cohorts section included.
func checkConfigKeys(doc *yaml.Node) (configLines, error) {
	return yamlpath.Check(doc, reflect.TypeOf(fileConfig{}), map[string]reflect.Type{
		"cohorts": reflect.TypeOf(cohorts.Spec{}), // a yaml.Node that cohorts.ParseSpec decodes
	})
}

// sectionPrefixes name the file's key paths in the Validate errors of
// the packages, which are relative to their sections.
var sectionPrefixes = []yamlpath.Prefix{
	{From: "cohorts: cohort spec: ", To: "cohorts."},
	{From: "cohort spec: ", To: "cohorts."},
	{From: "clickhouse: ", To: "clickhouse."},
	{From: "cohorts: privacy: ", To: "cohorts.privacy."},
}

// locateConfigError gives a validation error the lines of its keys.
func locateConfigError(lines configLines, err error) error { return lines.Locate(err, sectionPrefixes) }
