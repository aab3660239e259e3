package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
)

// Page sizes of ListFiles.
const (
	defaultFileLimit = 100
	maxFileLimit     = 1000
)

// fileRow is the files table.
type fileRow struct {
	bun.BaseModel `bun:"table:files,alias:f"`

	ID            int64     `bun:"id,pk,autoincrement"`
	OwnerUUID     string    `bun:"owner_uuid"`
	CreatedByUUID *string   `bun:"created_by_uuid"`
	FileName      string    `bun:"file_name"`
	FileType      string    `bun:"file_type"`
	ContentType   string    `bun:"content_type"`
	Size          int64     `bun:"size"`
	SHA256        string    `bun:"sha256"`
	Description   string    `bun:"description"`
	StorageKey    string    `bun:"storage_key"`
	CreatedAt     time.Time `bun:"created_at"`
}

func newFileRow(f *usermgmt.File) *fileRow {
	var by *string
	if f.CreatedByUUID != "" {
		v := f.CreatedByUUID
		by = &v
	}
	return &fileRow{
		ID: f.ID, OwnerUUID: f.OwnerUUID, CreatedByUUID: by, FileName: f.FileName,
		FileType: f.FileType, ContentType: f.ContentType, Size: f.Size, SHA256: f.SHA256,
		Description: f.Description, StorageKey: f.StorageKey, CreatedAt: dbTime(f.CreatedAt),
	}
}

func (r *fileRow) file() *usermgmt.File {
	f := &usermgmt.File{
		ID: r.ID, OwnerUUID: r.OwnerUUID, FileName: r.FileName,
		FileType: r.FileType, ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256,
		Description: r.Description, StorageKey: r.StorageKey, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.CreatedByUUID != nil {
		f.CreatedByUUID = *r.CreatedByUUID
	}
	return f
}

func fileList(rows []*fileRow) []*usermgmt.File {
	out := make([]*usermgmt.File, len(rows))
	for i, r := range rows {
		out[i] = r.file()
	}
	return out
}

// fileDeletionRow is the file_deletions table.
type fileDeletionRow struct {
	bun.BaseModel `bun:"table:file_deletions,alias:fd"`

	StorageKey string    `bun:"storage_key,pk"`
	Folder     bool      `bun:"folder"`
	CreatedAt  time.Time `bun:"created_at"`
}

// InsertFile implements usermgmt.FileStore; it sets f.ID.
func (h *handle) InsertFile(ctx context.Context, f *usermgmt.File) error {
	row := newFileRow(f)
	row.ID = 0
	if _, err := h.idb.NewInsert().Model(row).ExcludeColumn("id").Returning("id").Exec(ctx); err != nil {
		return h.fail("insert file", err)
	}
	f.ID = row.ID
	return nil
}

// FileByID implements usermgmt.FileStore.
func (h *handle) FileByID(ctx context.Context, id int64) (*usermgmt.File, error) {
	row := new(fileRow)
	if err := h.idb.NewSelect().Model(row).Where("id = ?", id).Limit(1).Scan(ctx); err != nil {
		return nil, h.fail("file by id", err)
	}
	return row.file(), nil
}

// FilesByIDs implements usermgmt.FileStore.
func (h *handle) FilesByIDs(ctx context.Context, ids []int64) ([]*usermgmt.File, error) {
	if len(ids) == 0 {
		return []*usermgmt.File{}, nil
	}
	var rows []*fileRow
	if err := h.idb.NewSelect().Model(&rows).Where("id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, h.fail("files by ids", err)
	}
	return fileList(rows), nil
}

// ListFiles implements usermgmt.FileStore. A zero limit means 100, larger
// than 1000 means 1000, and a negative offset means 0.
func (h *handle) ListFiles(ctx context.Context, q usermgmt.FileQuery) ([]*usermgmt.File, error) {
	var rows []*fileRow
	sel := h.idb.NewSelect().Model(&rows)
	if q.OwnerUUID != "" {
		sel = sel.Where("owner_uuid = ?", q.OwnerUUID)
	}
	err := sel.OrderExpr("created_at ASC, id ASC").
		Limit(int64(clampLimit(q.Limit, defaultFileLimit, maxFileLimit))).Offset(int64(max(q.Offset, 0))).
		Scan(ctx)
	if err != nil {
		return nil, h.fail("list files", err)
	}
	return fileList(rows), nil
}

// CountFiles implements usermgmt.FileStore.
func (h *handle) CountFiles(ctx context.Context) (int, error) {
	n, err := h.idb.NewSelect().Model((*fileRow)(nil)).Count(ctx)
	if err != nil {
		return 0, h.fail("count files", err)
	}
	return int(n), nil
}

// UpdateFile implements usermgmt.FileStore.
func (h *handle) UpdateFile(ctx context.Context, f *usermgmt.File) error {
	res, err := h.idb.NewUpdate().Model((*fileRow)(nil)).
		Set("description = ?", f.Description).
		Where("id = ?", f.ID).
		Exec(ctx)
	if err != nil {
		return h.fail("update file", err)
	}
	return h.expectRow(res, "update file")
}

// DeleteFile implements usermgmt.FileStore.
func (h *handle) DeleteFile(ctx context.Context, id int64) error {
	res, err := h.idb.NewDelete().Model((*fileRow)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return h.fail("delete file", err)
	}
	return h.expectRow(res, "delete file")
}

// ClearProfilePicture implements usermgmt.FileStore.
func (h *handle) ClearProfilePicture(ctx context.Context, fileID int64) ([]string, error) {
	uuids := []string{}
	_, err := h.idb.NewUpdate().Model((*userRow)(nil)).
		Set("profile_picture_id = NULL").
		Where("profile_picture_id = ?", fileID).
		Returning("uuid").
		Exec(ctx, &uuids)
	if err != nil {
		return nil, h.fail("clear profile picture", err)
	}
	return uuids, nil
}

// AddFileDeletion implements usermgmt.FileStore.
func (h *handle) AddFileDeletion(ctx context.Context, d usermgmt.FileDeletion) error {
	row := &fileDeletionRow{StorageKey: d.Key, Folder: d.Folder, CreatedAt: dbTime(d.CreatedAt)}
	if _, err := h.idb.NewInsert().Model(row).On("CONFLICT (storage_key) DO NOTHING").Exec(ctx); err != nil {
		return h.fail("add file deletion", err)
	}
	return nil
}

// RemoveFileDeletion implements usermgmt.FileStore.
func (h *handle) RemoveFileDeletion(ctx context.Context, key string) error {
	if _, err := h.idb.NewDelete().Model((*fileDeletionRow)(nil)).Where("storage_key = ?", key).Exec(ctx); err != nil {
		return h.fail("remove file deletion", err)
	}
	return nil
}

// FileDeletions implements usermgmt.FileStore.
func (h *handle) FileDeletions(ctx context.Context, after *usermgmt.FileDeletion, limit int) ([]usermgmt.FileDeletion, error) {
	var rows []*fileDeletionRow
	sel := h.idb.NewSelect().Model(&rows)
	if after != nil {
		at := after.CreatedAt.UTC()
		sel = sel.Where("created_at > ? OR (created_at = ? AND storage_key > ?)", at, at, after.Key)
	}
	err := sel.OrderExpr("created_at ASC, storage_key ASC").
		Limit(int64(clampLimit(limit, defaultFileLimit, maxFileLimit))).
		Scan(ctx)
	if err != nil {
		return nil, h.fail("file deletions", err)
	}
	out := make([]usermgmt.FileDeletion, len(rows))
	for i, r := range rows {
		out[i] = usermgmt.FileDeletion{Key: r.StorageKey, Folder: r.Folder, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}
