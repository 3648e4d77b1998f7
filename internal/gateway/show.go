package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/session"
)

// SHOW SESSION goes to Trino, which lists its own properties, and the
// gateway adds gatehouse's rows (already filtered by the statement's LIKE) to
// the last page of the result, so the client sees one result. Which rows to
// add travels as a query parameter on the nextUris the gateway hands out, for
// the same reason synthetic outcomes travel in theirs: no state between
// requests.

// showParam is the nextUri query parameter carrying the rows to add. It is
// removed before the request goes to Trino.
const showParam = "gatehouse_show"

// maxShowPageBytes bounds a SHOW SESSION page, which the gateway reads whole
// to add its rows (Trino's list of session properties is some tens of KB).
const maxShowPageBytes = 16 << 20

func encodeShow(rows []session.Row) string {
	pairs := make([][2]string, len(rows))
	for i, r := range rows {
		pairs[i] = [2]string{r.Name, r.Value}
	}
	b, _ := json.Marshal(pairs)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeShow reads the rows back, accepting only gatehouse's properties with
// values they may hold.
func decodeShow(s string) ([]session.Row, bool) {
	if len(s) > maxOutcomeLen {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var pairs [][2]string
	if json.Unmarshal(b, &pairs) != nil || len(pairs) > len(session.Properties) {
		return nil, false
	}
	rows := make([]session.Row, 0, len(pairs))
	for _, kv := range pairs {
		for _, p := range session.Properties {
			if p.Name != kv[0] {
				continue
			}
			if kv[1] != p.Default && session.Validate(kv[0], kv[1]) != nil {
				return nil, false
			}
			rows = append(rows, session.Row{Name: p.Name, Value: kv[1], Default: p.Default, Type: p.Type, Description: p.Description})
		}
	}
	if len(rows) != len(pairs) {
		return nil, false
	}
	return rows, true
}

// showColumns are SHOW SESSION's columns, used when a final page carries
// none of its own.
var showColumns = []column{varcharColumn("Name"), varcharColumn("Value"), varcharColumn("Default"), varcharColumn("Type"), varcharColumn("Description")}

// mergeShow adds rows to a SHOW SESSION page if it is the last one (no
// nextUri) and did not fail; other pages are returned unchanged. Each row is
// laid out in the page's own columns, matched by name, so a Trino that
// reorders or adds columns still gets well-formed rows.
func mergeShow(page []byte, rows []session.Row) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(page, &doc); err != nil {
		return nil, err
	}
	if present(doc["nextUri"]) || present(doc["error"]) {
		return page, nil
	}
	cols := showColumns
	if present(doc["columns"]) {
		if err := json.Unmarshal(doc["columns"], &cols); err != nil {
			return nil, err
		}
	} else {
		doc["columns"], _ = json.Marshal(cols)
	}
	var data []json.RawMessage
	if present(doc["data"]) {
		if err := json.Unmarshal(doc["data"], &data); err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		line := make([]any, len(cols))
		for i, c := range cols {
			switch strings.ToLower(c.Name) {
			case "name":
				line[i] = r.Name
			case "value":
				line[i] = r.Value
			case "default":
				line[i] = r.Default
			case "type":
				line[i] = r.Type
			case "description":
				line[i] = r.Description
			}
		}
		b, _ := json.Marshal(line)
		data = append(data, b)
	}
	doc["data"], _ = json.Marshal(data)
	return json.Marshal(doc)
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
