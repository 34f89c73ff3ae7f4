// Package textcut bounds strings for storage, logs and messages without
// cutting a UTF-8 character in two.
package textcut

import "unicode/utf8"

// Bytes returns s cut to at most n bytes on a character boundary.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Marked is Bytes with "…" appended when s was cut (the mark's three bytes
// are beyond n).
func Marked(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Bytes(s, n) + "…"
}
