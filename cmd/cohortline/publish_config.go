package main

import (
	"github.com/cohortline/cohortline/cmd/internal/buildinfo"
	"github.com/cohortline/cohortline/cohorts/publish"
)

// publisherConfig is the publish.Config of a checked config.
func (c *config) publisherConfig() (publish.Config, error) {
	return c.file.Publish.PublisherConfig(c.spec, c.file.Mode, c.secret, buildinfo.CodeVersion())
}
