package main

import (
	"github.com/cohortline/cohortline/pipeline/archive"
	"github.com/cohortline/cohortline/pipeline/backfill"
)

// openArchive opens an archive file for a files backfill.
func openArchive(path string) (backfill.RecordReader, error) { return archive.Open(path) }
