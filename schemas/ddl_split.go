package schemas

import "strings"

// SplitStatements splits a SQL script into its statements, without comments
// and without the ';' that ends each: the native protocol takes one
// statement per query. It knows '…' strings, `…` and "…" identifiers,
// -- line comments and /* */ comments, which is all the DDL files use.
func SplitStatements(script string) []string {
	var (
		out  []string
		stmt strings.Builder
	)
	flush := func() {
		if s := strings.TrimSpace(stmt.String()); s != "" {
			out = append(out, s)
		}
		stmt.Reset()
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case c == '\'' || c == '`' || c == '"':
			end := quotedEnd(script, i)
			stmt.WriteString(script[i:end])
			i = end - 1
		case strings.HasPrefix(script[i:], "--"):
			nl := strings.IndexByte(script[i:], '\n')
			if nl < 0 {
				i = len(script)
				break
			}
			i += nl - 1 // keep the newline
		case strings.HasPrefix(script[i:], "/*"):
			end := strings.Index(script[i+2:], "*/")
			if end < 0 {
				i = len(script)
				break
			}
			i += 2 + end + 1
			stmt.WriteByte(' ')
		case c == ';':
			flush()
		default:
			stmt.WriteByte(c)
		}
	}
	flush()
	for i, s := range out {
		out[i] = trimLines(s)
	}
	return out
}

// quotedEnd returns the index just past the quoted token that starts at i,
// honouring backslash escapes and doubled quotes.
func quotedEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// trimLines drops the trailing blanks that removed comments leave and the
// empty lines, so that statements read well in logs and errors.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if l = strings.TrimRight(l, " \t"); l != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}
