package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

const iamSelect = "SELECT id, display_name, user_info, profile_mapping, created_at, updated_at FROM iams"

// GetIAM implements store.Reader.
func (r *reader) GetIAM(ctx context.Context, id string) (directory.IAM, error) {
	iams, err := r.loadIAMs(ctx, " WHERE id = ?", id)
	if err != nil {
		return directory.IAM{}, err
	}
	if len(iams) == 0 {
		return directory.IAM{}, directory.NotFound("iam", id)
	}
	return iams[0], nil
}

// ListIAMs implements store.Reader, ordered by id.
func (r *reader) ListIAMs(ctx context.Context) ([]directory.IAM, error) {
	return r.loadIAMs(ctx, " ORDER BY id")
}

// loadIAMs reads identity providers; the user-info endpoint and profile
// mapping are JSON documents, NULL when unset.
func (r *reader) loadIAMs(ctx context.Context, clause string, args ...any) ([]directory.IAM, error) {
	iams := []directory.IAM{}
	var i directory.IAM
	var userInfo, mapping sql.NullString
	err := r.each(ctx, "list iams", iamSelect+clause, args,
		[]any{&i.ID, &i.DisplayName, &userInfo, &mapping, scanTime(&i.CreatedAt), scanTime(&i.UpdatedAt)},
		func() error {
			i.UserInfo, i.ProfileMapping = nil, nil
			if userInfo.Valid {
				if err := json.Unmarshal([]byte(userInfo.String), &i.UserInfo); err != nil {
					return r.fail("decode user info of iam "+i.ID, err)
				}
			}
			if mapping.Valid {
				if err := json.Unmarshal([]byte(mapping.String), &i.ProfileMapping); err != nil {
					return r.fail("decode profile mapping of iam "+i.ID, err)
				}
			}
			iams = append(iams, i)
			return nil
		})
	return iams, err
}

// PutIAM implements store.Tx. Replacing keeps the original creation time.
func (t *tx) PutIAM(ctx context.Context, i directory.IAM) error {
	var userInfo, mapping []byte
	var err error
	if i.UserInfo != nil {
		if userInfo, err = json.Marshal(i.UserInfo); err != nil {
			return t.fail("encode user info", err)
		}
	}
	if len(i.ProfileMapping) > 0 {
		if mapping, err = json.Marshal(i.ProfileMapping); err != nil {
			return t.fail("encode profile mapping", err)
		}
	}
	_, err = t.execCount(ctx, "put iam", nil,
		"INSERT INTO iams (id, display_name, user_info, profile_mapping, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"+
			" ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, user_info = excluded.user_info,"+
			" profile_mapping = excluded.profile_mapping, updated_at = excluded.updated_at",
		i.ID, i.DisplayName, nullString(userInfo), nullString(mapping), t.d.time(i.CreatedAt), t.d.time(i.UpdatedAt))
	return err
}

// DeleteIAM implements store.Tx.
func (t *tx) DeleteIAM(ctx context.Context, id string) error {
	ok, err := t.exists(ctx, "SELECT 1 FROM iams WHERE id = ?", id)
	if err != nil {
		return t.fail("find iam", err)
	}
	if !ok {
		return directory.NotFound("iam", id)
	}
	var users int64
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM users WHERE iam = ?", id).Scan(&users); err != nil {
		return t.fail("count users of iam", err)
	}
	if users > 0 {
		return conflict("iam %q still has %d user(s): migrate or delete them first", id, users)
	}
	_, err = t.execCount(ctx, "delete iam", nil, "DELETE FROM iams WHERE id = ?", id)
	return err
}
