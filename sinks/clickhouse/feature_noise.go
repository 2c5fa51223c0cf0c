package clickhouse

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// UsersIndex is the feature_noise index of a release's users count.
const UsersIndex = math.MaxUint32

// FeatureNoise is one row of feature_noise: the standard deviation of the
// noise of one slot of one release.
type FeatureNoise struct {
	Release    string
	FeatureSet uint16
	Index      uint32 // slot, or UsersIndex
	Name       string
	Sigma      float64 // NaN for a slot whose block is off
}

// WriteFeatureNoise records the noise of a release's slots. Writing the
// same rows again (every publish of the release does) leaves one of each.
func (c *Client) WriteFeatureNoise(ctx context.Context, rows []FeatureNoise) error {
	if len(rows) == 0 {
		return nil
	}
	insert := "INSERT INTO " + c.cfg.PublishedDatabase + ".feature_noise (release, feature_set, `index`, name, sigma)"
	err := retry(ctx, c.cfg.Retry, func(ctx context.Context) error {
		batch, err := c.conn.PrepareBatch(ctx, insert)
		if err != nil {
			return err
		}
		defer batch.Close()
		for _, r := range rows {
			if err := batch.Append(r.Release, r.FeatureSet, r.Index, r.Name, r.Sigma); err != nil {
				return err
			}
		}
		return batch.Send()
	})
	if err != nil {
		return fmt.Errorf("writing the noise of %d slots of release %q to %s.feature_noise: %w", len(rows), rows[0].Release, c.cfg.PublishedDatabase, err)
	}
	return nil
}

// ReadFeatureNoise returns the noise of release's slots, by index (the
// users count last, at UsersIndex); none for a release published before
// feature_noise or without noise.
func (c *Client) ReadFeatureNoise(ctx context.Context, release string) ([]FeatureNoise, error) {
	if strings.ContainsFunc(release, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_')
	}) {
		return nil, fmt.Errorf("reading feature_noise: release %q has characters a release name never has", release)
	}
	q := "SELECT `index`, any(feature_set), any(name), any(sigma) FROM " + c.cfg.PublishedDatabase +
		".feature_noise WHERE release = '" + release + "' GROUP BY `index` ORDER BY `index`"
	out, err := queryRows(ctx, c, func(scan func(...any) error) (FeatureNoise, error) {
		r := FeatureNoise{Release: release}
		return r, scan(&r.Index, &r.FeatureSet, &r.Name, &r.Sigma)
	}, q)
	if err != nil {
		return nil, fmt.Errorf("reading the noise of release %q from %s.feature_noise: %w", release, c.cfg.PublishedDatabase, err)
	}
	return out, nil
}
