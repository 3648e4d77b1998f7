// Package trino speaks the wire contract of Trino's `opa` access control
// plugin: it decodes and checks the requests Trino POSTs to the five decision
// URIs, asks the decision engine, checks that each answer has exactly the
// shape Trino decodes, and encodes it. Anything malformed fails closed: a 4xx
// for bad requests, a 5xx for a bad policy answer, never an allow.
package trino

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
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

	Resource        map[string]any // action.resource, nil when absent
	FilterResources []any          // action.filterResources, nil when absent

	// Input is the whole `input` object as an AST value, handed to Rego
	// without another JSON round trip.
	Input ast.Value
}

// BadRequest is a request error whose message names the offending field.
type BadRequest struct{ Msg string }

func (e *BadRequest) Error() string { return e.Msg }

func bad(format string, args ...any) error { return &BadRequest{Msg: fmt.Sprintf(format, args...)} }

// Decode reads and checks a request body for endpoint. The body must be at
// most limit bytes: the caller bounds the reader and reports 413.
func Decode(body []byte, endpoint string) (*Request, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, bad("request body is empty: expected {\"input\": {...}}")
		}
		return nil, bad("request body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad("request body has data after the JSON object")
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, bad("request body must be a JSON object with an \"input\" field")
	}
	input, err := object(root, "input", "input", true)
	if err != nil {
		return nil, err
	}
	r := &Request{}
	ctx, err := object(input, "context", "input.context", true)
	if err != nil {
		return nil, err
	}
	ident, err := object(ctx, "identity", "input.context.identity", true)
	if err != nil {
		return nil, err
	}
	if r.User, err = str(ident, "user", "input.context.identity.user", true); err != nil {
		return nil, err
	}
	if r.Groups, err = strList(ident, "groups", "input.context.identity.groups"); err != nil {
		return nil, err
	}
	if r.QueryID, err = str(ctx, "queryId", "input.context.queryId", false); err != nil {
		return nil, err
	}
	action, err := object(input, "action", "input.action", true)
	if err != nil {
		return nil, err
	}
	if r.Operation, err = str(action, "operation", "input.action.operation", true); err != nil {
		return nil, err
	}
	if r.Resource, err = object(action, "resource", "input.action.resource", false); err != nil {
		return nil, err
	}
	if v, ok := action["filterResources"]; ok && v != nil {
		arr, ok := v.([]any)
		if !ok {
			return nil, bad("input.action.filterResources must be an array, not %s", kind(v))
		}
		for i, item := range arr {
			if _, ok := item.(map[string]any); !ok {
				return nil, bad("input.action.filterResources[%d] must be an object, not %s", i, kind(item))
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
	if r.Input, err = ast.InterfaceToValue(input); err != nil {
		return nil, bad("input cannot be converted: %v", err)
	}
	return r, nil
}

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
			if len(r.FilterResources) != 1 {
				return bad("input.action.filterResources must hold exactly one table for FilterColumns, not %d", len(r.FilterResources))
			}
			t, err := object(r.FilterResources[0].(map[string]any), "table", "input.action.filterResources[0].table", true)
			if err != nil {
				return err
			}
			if _, err := strListRequired(t, "columns", "input.action.filterResources[0].table.columns"); err != nil {
				return err
			}
			return nil
		}
		for i, item := range r.FilterResources {
			if err := checkResource(item.(map[string]any), resKind, fmt.Sprintf("input.action.filterResources[%d]", i)); err != nil {
				return err
			}
		}
		return nil
	}
	if resKind == ResNone {
		return nil
	}
	if r.Resource == nil {
		return bad("input.action.resource is required for %s", r.Operation)
	}
	return checkResource(r.Resource, resKind, "input.action.resource")
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

func checkResource(res map[string]any, resKind, path string) error {
	obj, err := object(res, resKind, path+"."+resKind, true)
	if err != nil {
		return err
	}
	for _, f := range resourceFields[resKind] {
		if _, err := str(obj, f, path+"."+resKind+"."+f, true); err != nil {
			return err
		}
	}
	if resKind == ResTable {
		if _, err := strList(obj, "columns", path+".table.columns"); err != nil {
			return err
		}
	}
	return nil
}

// Describe summarises the request's resource for audit: "memory.hr.employees",
// "user:alice", or "N items" for batches.
func (r *Request) Describe() string {
	if r.FilterResources != nil {
		if r.Operation == "FilterColumns" && len(r.FilterResources) == 1 {
			return describe(r.FilterResources[0].(map[string]any))
		}
		return fmt.Sprintf("%d items", len(r.FilterResources))
	}
	if r.Resource == nil {
		return ""
	}
	return describe(r.Resource)
}

func describe(res map[string]any) string {
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		obj, ok := res[k].(map[string]any)
		if !ok {
			continue
		}
		var parts []string
		for _, f := range []string{"user", "name", "catalogName", "schemaName", "tableName", "columnName", "propertyName", "functionName"} {
			if s, ok := obj[f].(string); ok {
				parts = append(parts, s)
			}
		}
		return k + ":" + strings.Join(parts, ".")
	}
	return ""
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// object returns m[key] as an object; null counts as absent.
func object(m map[string]any, key, path string, required bool) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			return nil, bad("%s is required", path)
		}
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, bad("%s must be an object, not %s", path, kind(v))
	}
	return o, nil
}

func str(m map[string]any, key, path string, required bool) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			return "", bad("%s is required", path)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", bad("%s must be a string, not %s", path, kind(v))
	}
	return s, nil
}

func strList(m map[string]any, key, path string) ([]string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, bad("%s must be an array of strings, not %s", path, kind(v))
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, bad("%s[%d] must be a string, not %s", path, i, kind(x))
		}
		out[i] = s
	}
	return out, nil
}

func strListRequired(m map[string]any, key, path string) ([]string, error) {
	if v, ok := m[key]; !ok || v == nil {
		return nil, bad("%s is required", path)
	}
	return strList(m, key, path)
}
