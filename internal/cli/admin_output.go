package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// none is what tables show for an empty cell, so that columns stay aligned
// and "nothing" is visibly different from a missing column.
const none = "-"

// table prints rows under an upper-case header, aligned by tabwriter.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i, cell := range r {
			if cell == "" {
				r[i] = none
			}
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// field is one line of a detail view; an empty label continues the field
// above it (one attribute or member per line).
type field struct{ label, value string }

// details prints a single object as "Label:  value" lines.
func details(w io.Writer, fields []field) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range fields {
		label := f.label
		if label != "" {
			label += ":"
		}
		value := f.value
		if value == "" {
			value = none
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, value)
	}
	return tw.Flush()
}

// multi makes one field per value under a single label, or one empty field.
func multi(label string, values []string) []field {
	if len(values) == 0 {
		return []field{{label, ""}}
	}
	out := make([]field, len(values))
	for i, v := range values {
		out[i] = field{value: v}
	}
	out[0].label = label
	return out
}

// pairs renders a map as "key=value" strings sorted by key, so that output
// is stable from run to run and diffable.
func pairs[V any](m map[string]V, format func(V) string) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+format(m[k]))
	}
	return out
}

// attrs renders attributes one name per string: region=EMEA,APAC.
func attrs(a map[string][]string) []string {
	return pairs(a, func(v []string) string { return strings.Join(v, ",") })
}

// mapping renders a string map such as external ids: trino=alice.
func mapping(m map[string]string) []string {
	return pairs(m, func(v string) string { return v })
}

// list joins values with commas for a table cell.
func list[S ~string](values []S) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

// when shows a time in UTC to the second; the zero time is "never set".
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
