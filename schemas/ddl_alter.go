package schemas

import (
	"regexp"
	"strings"
)

// addColumn matches the start of a migration statement that adds a
// column, as a template renders it: ALTER TABLE db.t[ ON CLUSTER `c`]
// ADD COLUMN name …
var addColumn = regexp.MustCompile("^ALTER TABLE ([A-Za-z_][A-Za-z0-9_]*)\\.([A-Za-z_][A-Za-z0-9_]*)(?: ON CLUSTER `[^`]+`)?\\s+ADD COLUMN ([A-Za-z_][A-Za-z0-9_]*)\\s")

// AddedColumn recognises a migration statement that adds one column to
// one table and does nothing else, and returns the column's database,
// table and name. ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS, so
// such a statement fails when re-run after a half-applied migration;
// migrate checks for the column first and skips the statement when the
// table has it. A statement with several ALTER commands (a comma outside
// parentheses and quotes) is not recognised: it could be half-redundant.
func AddedColumn(stmt string) (database, table, column string, ok bool) {
	m := addColumn.FindStringSubmatch(stmt)
	if m == nil || hasTopLevelComma(stmt) {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

// hasTopLevelComma reports a ',' outside parentheses, '…' strings and
// `…` or "…" identifiers.
func hasTopLevelComma(s string) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '`', '"':
			i = quotedEnd(s, i) - 1
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				return true
			}
		}
	}
	return false
}

// IsDataMigration recognises a migration statement that copies rows, an
// INSERT … SELECT filling a new table from older ones (0012), rather than
// DDL: it cannot be ON CLUSTER (its table is replicated to every node
// instead), and re-running it after a half-applied migration may repeat
// rows, which the table's readers must not mind.
func IsDataMigration(stmt string) bool {
	return strings.HasPrefix(stmt, "INSERT INTO ") && strings.Contains(stmt, "\nSELECT ")
}
