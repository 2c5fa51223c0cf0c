package main

import (
	"io"

	"github.com/cohortline/cohortline/cmd/internal/console"
	"github.com/cohortline/cohortline/pipeline/backfill"
)

// startBackfillProgress shows bf's progress on w, a line per partition or
// file.
func startBackfillProgress(w io.Writer, bf *backfill.Job) *console.Sources {
	return console.StartSources(w, "backfill", func() ([]console.Source, console.Source) {
		ps := bf.Progress()
		all, _ := backfill.Overall(ps)
		out := make([]console.Source, len(ps))
		for i, p := range ps {
			out[i] = sourceOf(p)
		}
		return out, sourceOf(all)
	})
}

func sourceOf(p backfill.SourceProgress) console.Source {
	return console.Source{Name: p.Name, Fraction: p.Fraction(), Messages: p.Messages, Bytes: p.Bytes, Finished: p.Finished}
}
