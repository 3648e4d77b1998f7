// Package trino speaks the wire contract of Trino's `opa` access control
// plugin: it decodes and checks the requests Trino POSTs to the five decision
// URIs, asks the decision engine, checks that each answer has exactly the
// shape Trino decodes, and encodes it. Anything malformed fails closed: a 4xx
// for bad requests, a 5xx for a bad policy answer, never an allow.
package trino

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Endpoint names, as in the URI /v1/data/trino/<endpoint>.
const (
	EndpointAllow            = "allow"
	EndpointBatch            = "batch"
	EndpointRowFilters       = "rowFilters"
	EndpointColumnMask       = "columnMask"
	EndpointBatchColumnMasks = "batchColumnMasks"
)

// Resource kinds: the keys of action.resource (trino-opa-protocol.md §2).
const (
	ResNone                   = ""
	ResUser                   = "user"
	ResSystemSessionProperty  = "systemSessionProperty"
	ResCatalogSessionProperty = "catalogSessionProperty"
	ResCatalog                = "catalog"
	ResSchema                 = "schema"
	ResTable                  = "table"
	ResColumn                 = "column"
	ResFunction               = "function"
)

// Operations maps every operation Trino 476 sends to the resource it carries.
// An operation not listed here is denied and audited as unknown.
var Operations = map[string]string{
	"ExecuteQuery": ResNone, "ReadSystemInformation": ResNone, "WriteSystemInformation": ResNone,
	"ImpersonateUser": ResUser, "ViewQueryOwnedBy": ResUser, "KillQueryOwnedBy": ResUser, "FilterViewQueryOwnedBy": ResUser,
	"SetSystemSessionProperty":  ResSystemSessionProperty,
	"SetCatalogSessionProperty": ResCatalogSessionProperty,
	"AccessCatalog":             ResCatalog, "CreateCatalog": ResCatalog, "DropCatalog": ResCatalog, "ShowSchemas": ResCatalog, "FilterCatalogs": ResCatalog,
	"CreateSchema": ResSchema, "DropSchema": ResSchema, "ShowCreateSchema": ResSchema, "ShowTables": ResSchema,
	"ShowFunctions": ResSchema, "FilterSchemas": ResSchema, "RenameSchema": ResSchema, "SetSchemaAuthorization": ResSchema,
	"ShowCreateTable": ResTable, "DropTable": ResTable, "SetTableComment": ResTable, "SetViewComment": ResTable,
	"SetColumnComment": ResTable, "ShowColumns": ResTable, "AddColumn": ResTable, "AlterColumn": ResTable,
	"DropColumn": ResTable, "RenameColumn": ResTable, "InsertIntoTable": ResTable, "DeleteFromTable": ResTable,
	"TruncateTable": ResTable, "CreateView": ResTable, "DropView": ResTable, "RefreshMaterializedView": ResTable,
	"SetMaterializedViewComment": ResTable, "DropMaterializedView": ResTable, "FilterTables": ResTable,
	"CreateTable": ResTable, "SetTableProperties": ResTable, "CreateMaterializedView": ResTable,
	"SetMaterializedViewProperties": ResTable, "SelectFromColumns": ResTable, "UpdateTableColumns": ResTable,
	"CreateViewWithSelectFromColumns": ResTable, "FilterColumns": ResTable, "RenameTable": ResTable,
	"RenameView": ResTable, "RenameMaterializedView": ResTable, "SetTableAuthorization": ResTable,
	"SetViewAuthorization": ResTable, "ExecuteTableProcedure": ResTable, "GetRowFilters": ResTable,
	"ExecuteProcedure": ResFunction, "CreateFunction": ResFunction, "DropFunction": ResFunction,
	"ShowCreateFunction": ResFunction, "ExecuteFunction": ResFunction, "CreateViewWithExecuteFunction": ResFunction,
	"FilterFunctions": ResFunction,
	"GetColumnMask":   ResColumn,
}

// Request is a decoded, checked decision request.
type Request struct {
	User      string   // context.identity.user
	Groups    []string // context.identity.groups
	QueryID   string   // context.queryId, when Trino sends it (478+)
	Operation string
	Known     bool // Operation is one of Operations

	Resource        ast.Object // action.resource, nil when absent
	FilterResources *ast.Array // action.filterResources, nil when absent

	// Input is the whole `input` object as an AST value, parsed once from
	// the body and handed to Rego as it is.
	Input ast.Value
}

// BadRequest is a request error whose message names the offending field.
type BadRequest struct{ Msg string }

func (e *BadRequest) Error() string { return e.Msg }

func bad(format string, args ...any) error { return &BadRequest{Msg: fmt.Sprintf(format, args...)} }

// Decode reads and checks a request body for endpoint. The caller bounds
// the body's size.
func Decode(body []byte, endpoint string) (*Request, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, bad("request body is empty: expected {\"input\": {...}}")
	}
	doc, isObject, err := parseInput(body)
	if err != nil {
		return nil, bad("request body is not valid JSON: %v", err)
	}
	if !isObject {
		return nil, bad("request body must be a JSON object with an \"input\" field")
	}
	if _, null := doc.(ast.Null); doc == nil || null {
		return nil, bad("input is required")
	}
	input, ok := doc.(ast.Object)
	if !ok {
		return nil, bad("input must be an object, not %s", kind(doc))
	}
	r := &Request{Input: input}
	ctx, err := object(input, "context", "input.context", true)
	if err != nil {
		return nil, err
	}
	ident, err := object(ctx, "identity", "input.context.identity", true)
	if err != nil {
		return nil, err
	}
	// The strings parsed from the body share its memory; those that outlive the
	// request (audit, metrics, the decision cache) are copied.
	if r.User, err = str(ident, "user", "input.context.identity.user", true); err != nil {
		return nil, err
	}
	r.User = strings.Clone(r.User)
	if r.Groups, err = strList(ident, "groups", "input.context.identity.groups"); err != nil {
		return nil, err
	}
	for i := range r.Groups {
		r.Groups[i] = strings.Clone(r.Groups[i])
	}
	if r.QueryID, err = str(ctx, "queryId", "input.context.queryId", false); err != nil {
		return nil, err
	}
	r.QueryID = strings.Clone(r.QueryID)
	action, err := object(input, "action", "input.action", true)
	if err != nil {
		return nil, err
	}
	if r.Operation, err = str(action, "operation", "input.action.operation", true); err != nil {
		return nil, err
	}
	r.Operation = strings.Clone(r.Operation)
	if r.Resource, err = object(action, "resource", "input.action.resource", false); err != nil {
		return nil, err
	}
	if t := action.Get(keyTerm("filterResources")); t != nil && !isNull(t) {
		arr, ok := t.Value.(*ast.Array)
		if !ok {
			return nil, bad("input.action.filterResources must be an array, not %s", kind(t.Value))
		}
		for i := range arr.Len() {
			if _, ok := arr.Elem(i).Value.(ast.Object); !ok {
				return nil, bad("input.action.filterResources[%d] must be an object, not %s", i, kind(arr.Elem(i).Value))
			}
		}
		r.FilterResources = arr
	}
	if _, err := object(action, "targetResource", "input.action.targetResource", false); err != nil {
		return nil, err
	}
	if _, err := object(action, "grantee", "input.action.grantee", false); err != nil {
		return nil, err
	}
	var resKind string
	resKind, r.Known = Operations[r.Operation]
	if err := r.checkShape(endpoint, resKind); err != nil {
		return nil, err
	}
	return r, nil
}

// Items is the number of filterResources (0 when absent).
func (r *Request) Items() int {
	if r.FilterResources == nil {
		return 0
	}
	return r.FilterResources.Len()
}

func (r *Request) item(i int) ast.Object { return r.FilterResources.Elem(i).Value.(ast.Object) }

// checkShape checks what each endpoint needs: batch endpoints need
// filterResources, FilterColumns exactly one table with columns; known
// operations need the fields the policies and audit read from their resource.
func (r *Request) checkShape(endpoint, resKind string) error {
	batch := endpoint == EndpointBatch || endpoint == EndpointBatchColumnMasks
	if batch && r.FilterResources == nil {
		return bad("input.action.filterResources is required on the %s endpoint", endpoint)
	}
	if !r.Known {
		return nil
	}
	if batch {
		if r.Operation == "FilterColumns" {
			if r.Items() != 1 {
				return bad("input.action.filterResources must hold exactly one table for FilterColumns, not %d", r.Items())
			}
			t, err := object(r.item(0), "table", "input.action.filterResources[0].table", true)
			if err != nil {
				return err
			}
			if _, err := strListRequired(t, "columns", "input.action.filterResources[0].table.columns"); err != nil {
				return err
			}
			return nil
		}
		// (A batch that repeats a kept array was checked for its kind when
		// it was first sent: see arrayCache.)
		if arrays.checked(r.FilterResources, resKind) {
			return nil
		}
		for i := range r.Items() {
			if err := checkResource(r.item(i), resKind, i); err != nil {
				return err
			}
		}
		arrays.markChecked(r.FilterResources, resKind)
		return nil
	}
	if resKind == ResNone {
		return nil
	}
	if r.Resource == nil {
		return bad("input.action.resource is required for %s", r.Operation)
	}
	return checkResource(r.Resource, resKind, -1)
}

// resourceFields lists, per resource kind, the string fields it must carry.
var resourceFields = map[string][]string{
	ResUser:                   {"user"},
	ResSystemSessionProperty:  {"name"},
	ResCatalogSessionProperty: {"catalogName", "propertyName"},
	ResCatalog:                {"name"},
	ResSchema:                 {"catalogName", "schemaName"},
	ResTable:                  {"catalogName", "schemaName", "tableName"},
	ResColumn:                 {"catalogName", "schemaName", "tableName", "columnName"},
	ResFunction:               {"functionName"},
}

// checkResource checks filterResources[item] (item ≥ 0) or resource (item < 0).
// Paths for messages are built only on error: a batch has thousands of items.
func checkResource(res ast.Object, resKind string, item int) error {
	path := func() string {
		if item < 0 {
			return "input.action.resource"
		}
		return fmt.Sprintf("input.action.filterResources[%d]", item)
	}
	t := get(res, resKind)
	if t == nil {
		return bad("%s.%s is required", path(), resKind)
	}
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return bad("%s.%s must be an object, not %s", path(), resKind, kind(t.Value))
	}
	for _, f := range resourceFields[resKind] {
		t := get(obj, f)
		if t == nil {
			return bad("%s.%s.%s is required", path(), resKind, f)
		}
		s, ok := t.Value.(ast.String)
		if !ok {
			return bad("%s.%s.%s must be a string, not %s", path(), resKind, f, kind(t.Value))
		}
		if s == "" {
			return bad("%s.%s.%s must not be empty", path(), resKind, f)
		}
	}
	if resKind == ResTable {
		if t := get(obj, "columns"); t != nil {
			if _, err := strList(obj, "columns", path()+".table.columns"); err != nil {
				return err
			}
		}
	}
	return nil
}

// Describe summarises the request's resource for audit: "table:memory.hr.employees",
// "user:alice", or "N items" for batches.
func (r *Request) Describe() string {
	if r.FilterResources != nil {
		if r.Operation == "FilterColumns" && r.Items() == 1 {
			return describe(r.item(0))
		}
		return fmt.Sprintf("%d items", r.Items())
	}
	if r.Resource == nil {
		return ""
	}
	return describe(r.Resource)
}

func describe(res ast.Object) string {
	// The first key in sort order whose value is an object (Trino sends one).
	var key *ast.Term
	res.Foreach(func(k, v *ast.Term) {
		if _, ok := v.Value.(ast.Object); !ok {
			return
		}
		if _, ok := k.Value.(ast.String); !ok {
			return
		}
		if key == nil || ast.Compare(k, key) < 0 {
			key = k
		}
	})
	if key == nil {
		return ""
	}
	obj := res.Get(key).Value.(ast.Object)
	n := len(key.Value.(ast.String)) + 1
	var parts [8]string
	np := 0
	for _, f := range describeFields {
		if t := obj.Get(keyTerm(f)); t != nil {
			if s, ok := t.Value.(ast.String); ok {
				parts[np] = string(s)
				n += len(s) + 1
				np++
			}
		}
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(string(key.Value.(ast.String)))
	b.WriteByte(':')
	for i := range np {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(parts[i])
	}
	return b.String()
}

var describeFields = []string{"user", "name", "catalogName", "schemaName", "tableName", "columnName", "propertyName", "functionName"}

// Target is ImpersonateUser's target user, "" for other operations.
func (r *Request) Target() string {
	if r.Operation != "ImpersonateUser" || r.Resource == nil {
		return ""
	}
	if u, ok := r.Resource.Get(keyTerm("user")).Value.(ast.Object); ok {
		if t := u.Get(keyTerm("user")); t != nil {
			if s, ok := t.Value.(ast.String); ok {
				return strings.Clone(string(s))
			}
		}
	}
	return ""
}

// columns is the number of columns of the one FilterColumns table.
func (r *Request) columns() int {
	t, _ := r.item(0).Get(keyTerm("table")).Value.(ast.Object)
	if t == nil {
		return 0
	}
	if c := t.Get(keyTerm("columns")); c != nil {
		if a, ok := c.Value.(*ast.Array); ok {
			return a.Len()
		}
	}
	return 0
}

func kind(v ast.Value) string {
	switch v.(type) {
	case ast.Null:
		return "null"
	case ast.String:
		return "a string"
	case ast.Boolean:
		return "a boolean"
	case ast.Number:
		return "a number"
	case *ast.Array:
		return "an array"
	case ast.Object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func isNull(t *ast.Term) bool {
	_, ok := t.Value.(ast.Null)
	return ok
}

// get returns m[key], nil when absent or null.
func get(m ast.Object, key string) *ast.Term {
	t := m.Get(keyTerm(key))
	if t == nil || isNull(t) {
		return nil
	}
	return t
}

// object returns m[key] as an object; null counts as absent.
func object(m ast.Object, key, path string, required bool) (ast.Object, error) {
	t := get(m, key)
	if t == nil {
		if required {
			return nil, bad("%s is required", path)
		}
		return nil, nil
	}
	o, ok := t.Value.(ast.Object)
	if !ok {
		return nil, bad("%s must be an object, not %s", path, kind(t.Value))
	}
	return o, nil
}

func str(m ast.Object, key, path string, required bool) (string, error) {
	t := get(m, key)
	if t == nil {
		if required {
			return "", bad("%s is required", path)
		}
		return "", nil
	}
	s, ok := t.Value.(ast.String)
	if !ok {
		return "", bad("%s must be a string, not %s", path, kind(t.Value))
	}
	if required && s == "" {
		return "", bad("%s must not be empty", path)
	}
	return string(s), nil
}

func strList(m ast.Object, key, path string) ([]string, error) {
	t := get(m, key)
	if t == nil {
		return nil, nil
	}
	arr, ok := t.Value.(*ast.Array)
	if !ok {
		return nil, bad("%s must be an array of strings, not %s", path, kind(t.Value))
	}
	out := make([]string, arr.Len())
	for i := range arr.Len() {
		s, ok := arr.Elem(i).Value.(ast.String)
		if !ok {
			return nil, bad("%s[%d] must be a string, not %s", path, i, kind(arr.Elem(i).Value))
		}
		out[i] = string(s)
	}
	return out, nil
}

func strListRequired(m ast.Object, key, path string) ([]string, error) {
	if get(m, key) == nil {
		return nil, bad("%s is required", path)
	}
	return strList(m, key, path)
}
