package usermgmt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/usermgmt/usermgmt/files"
)

// File is a user's file: its metadata, kept in the Store; the content lives
// in the Manager's files.Storage under StorageKey, in the owner's folder.
type File struct {
	ID int64
	// OwnerUUID is the user whose folder holds the file; deleting them
	// deletes it.
	OwnerUUID string
	// CreatedByUUID is who uploaded it (an admin may upload for another
	// user); empty once that user is deleted.
	CreatedByUUID string
	// FileName is the client's name reduced to a safe base name
	// (files.SafeName), unique among the owner's files.
	FileName string
	// FileType is the lower-cased extension of FileName.
	FileType string
	// ContentType is sniffed from the content, never taken from the client.
	ContentType string
	Size        int64
	// SHA256 is the content's hash, in hex.
	SHA256      string
	Description string
	// StorageKey is where the content is stored ("users/{owner}/...").
	StorageKey string
	CreatedAt  time.Time
}

// Upload is a file sent by a client.
type Upload struct {
	// FileName is the client's file name; only its safe base name is kept.
	FileName string
	// Description is free text, at most 256 characters.
	Description string
	// Content is read once, up to Config.MaxUploadBytes.
	Content io.Reader
}

// Download is a file's content ready to serve. The caller must close
// Content.
type Download struct {
	// File is the stored file; nil for a generated picture.
	File        *File
	ContentType string
	Size        int64
	// ETag is a strong entity tag, quoted, derived from the content.
	ETag    string
	Content io.ReadCloser
}

// Audit actions of files and pictures.
const (
	AuditFileUploaded    = "file-uploaded"
	AuditFileUpdated     = "file-updated"
	AuditFileDeleted     = "file-deleted"
	AuditPictureUpdated  = "profile-picture-updated"
	AuditPictureDeleted  = "profile-picture-deleted"
	MaxFileDescription   = 256
	fileSweepBatch       = 100
	pendingUploadTimeout = 10 * time.Minute
)

// WithStorage keeps users' files in s (instead of the local disk under
// Config.DataDir).
func WithStorage(s files.Storage) Option { return func(m *Manager) { m.storage = s } }

// initFiles prepares the storage (from DataDir unless an option gave one)
// and the avatar renderer.
func (m *Manager) initFiles() error {
	if m.storage == nil && m.cfg.DataDir != "" {
		d, err := files.NewDisk(m.cfg.DataDir)
		if err != nil {
			return fmt.Errorf("usermgmt: file storage: %w", err)
		}
		m.storage = d
	}
	var err error
	if m.avatars, err = files.NewAvatars(); err != nil {
		return fmt.Errorf("usermgmt: %w", err)
	}
	return nil
}

// Storage returns the file storage in force, nil when there is none.
func (m *Manager) Storage() files.Storage { return m.storage }

// userFolder is the storage folder of a user's files.
func userFolder(uuid string) string { return "users/" + uuid }

func userFolderDeletion(uuid string, at time.Time) FileDeletion {
	return FileDeletion{Key: userFolder(uuid), Folder: true, CreatedAt: at}
}

// recordFolderDeletion records, in tx, that the user's folder must go.
func (m *Manager) recordFolderDeletion(ctx context.Context, tx fullStore, uuid string) error {
	if m.storage == nil {
		return nil
	}
	return tx.AddFileDeletion(ctx, userFolderDeletion(uuid, m.now()))
}

// purge carries out a recorded deletion and forgets it. A failure is
// logged and left recorded for SweepFiles.
func (m *Manager) purge(ctx context.Context, d FileDeletion) bool {
	if m.storage == nil {
		return true
	}
	ctx = context.WithoutCancel(ctx) // a client leaving must not stop the cleanup
	var err error
	if d.Folder {
		err = m.storage.DeleteAll(ctx, d.Key)
	} else {
		err = m.storage.Delete(ctx, d.Key)
	}
	if err == nil {
		err = m.store.RemoveFileDeletion(ctx, d.Key)
	}
	if err != nil {
		m.log.WarnContext(ctx, "file deletion left for the sweep", "key", d.Key, "err", err)
		return false
	}
	return true
}

// SweepFiles finishes the storage deletions a stopped process left undone:
// folders of deleted users, files deleted or replaced, and uploads cut off
// before their row was written (those once they are older than ten
// minutes, so that an upload in progress on another instance is left
// alone). Call it at start-up (examples/server does, and then hourly). It
// returns how many deletions it carried out.
func (m *Manager) SweepFiles(ctx context.Context) (int, error) {
	done := 0
	cutoff := m.now().Add(-pendingUploadTimeout)
	var after *FileDeletion // pages go on past deletions that keep failing
	for {
		ds, err := m.store.FileDeletions(ctx, after, fileSweepBatch)
		if err != nil {
			return done, err
		}
		for _, d := range ds {
			if !d.Folder && d.CreatedAt.After(cutoff) {
				continue // maybe an upload in progress elsewhere
			}
			if m.purge(ctx, d) {
				done++
			}
		}
		if len(ds) < fileSweepBatch {
			return done, nil
		}
		after = &ds[len(ds)-1]
	}
}

// limitedReader fails with ErrFileTooLarge once more than n bytes come.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, ErrFileTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, ErrFileTooLarge
	}
	return n, err
}

// contentProbe records the hash and the first bytes of what flows through.
type contentProbe struct {
	head []byte
	sum  hashWriter
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func (c *contentProbe) Write(p []byte) (int, error) {
	if room := files.SniffLen - len(c.head); room > 0 {
		c.head = append(c.head, p[:min(room, len(p))]...)
	}
	return c.sum.Write(p)
}

// newUpload is a file about to be stored for an owner.
type newUpload struct {
	owner, createdBy, name, description string
	content                             io.Reader
}

// keyTail is the end of name that fits in a storage key's last part after
// the 17 bytes of its random prefix (files.ValidKey allows MaxNameBytes),
// cut on a rune boundary. The file's name itself is kept whole in its row.
func keyTail(name string) string {
	limit := files.MaxNameBytes - 17
	if len(name) <= limit {
		return name
	}
	start := len(name) - limit
	for start < len(name) && !utf8.RuneStart(name[start]) {
		start++
	}
	return name[start:]
}

// putContent stores content under a fresh key in the owner's folder,
// recording the key first so that a crash before the row is written leaves
// nothing behind (SweepFiles removes it). It returns the file to insert.
func (m *Manager) putContent(ctx context.Context, up newUpload) (*File, error) {
	rnd, err := m.randomBytes(8)
	if err != nil {
		return nil, err
	}
	key := userFolder(up.owner) + "/" + hex.EncodeToString(rnd) + "_" + keyTail(up.name)
	now := m.now()
	if err := m.store.AddFileDeletion(ctx, FileDeletion{Key: key, CreatedAt: now}); err != nil {
		return nil, err
	}
	probe := &contentProbe{sum: sha256.New()}
	src := io.TeeReader(&limitedReader{r: up.content, n: m.cfg.MaxUploadBytes}, probe)
	size, err := m.storage.Put(ctx, key, src)
	if err != nil {
		m.purge(ctx, FileDeletion{Key: key})
		if errors.Is(err, ErrFileTooLarge) {
			return nil, ErrFileTooLarge.WithMessage(fmt.Sprintf("The file is larger than %d bytes.", m.cfg.MaxUploadBytes))
		}
		if noSpace(err) {
			return nil, ErrInsufficientStorage.WithMessage("The file storage is full; the file was not saved.").Wrap(err)
		}
		return nil, fmt.Errorf("usermgmt: store file: %w", err)
	}
	return &File{
		OwnerUUID: up.owner, CreatedByUUID: up.createdBy, FileName: up.name,
		FileType: files.Ext(up.name), ContentType: files.Sniff(probe.head), Size: size,
		SHA256: hex.EncodeToString(probe.sum.Sum(nil)), Description: up.description,
		StorageKey: key, CreatedAt: now,
	}, nil
}

// checkUpload validates the name and description of an upload and that
// storage exists; it returns the safe name.
func (m *Manager) checkUpload(up Upload) (string, error) {
	if m.storage == nil {
		return "", ErrStorageUnavailable
	}
	if up.Content == nil {
		return "", ErrInvalidInput.WithMessage("The upload has no content.")
	}
	name, err := files.SafeName(up.FileName)
	if err != nil {
		return "", ErrInvalidFileName
	}
	if !validText(up.Description, MaxFileDescription) {
		return "", ErrInvalidDescription
	}
	return name, nil
}

// uploadFile stores a file in the owner's folder, after authorize (when
// not nil) accepts the owner.
func (m *Manager) uploadFile(ctx context.Context, ownerUUID, actorUUID string, up Upload, authorize func(owner *User) error) (*File, error) {
	name, err := m.checkUpload(up)
	if err != nil {
		return nil, err
	}
	owner, err := m.User(ctx, ownerUUID)
	if err != nil {
		return nil, err
	}
	if authorize != nil {
		if err := authorize(owner); err != nil {
			return nil, err
		}
	}
	createdBy := actorUUID
	if createdBy == "" { // trusted: the owner's own file
		createdBy = owner.UUID
	}
	f, err := m.putContent(ctx, newUpload{owner: owner.UUID, createdBy: createdBy, name: name, description: up.Description, content: up.Content})
	if err != nil {
		return nil, err
	}
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		if err := tx.InsertFile(ctx, f); err != nil {
			return fileInsertError(err)
		}
		if err := tx.RemoveFileDeletion(ctx, f.StorageKey); err != nil {
			return err
		}
		return m.audit(ctx, tx, actorUUID, owner.UUID, AuditFileUploaded, f.FileName)
	})
	if err != nil {
		m.purge(ctx, FileDeletion{Key: f.StorageKey})
		m.purgeDeletedOwner(ctx, owner.UUID, err)
		return nil, err
	}
	m.cache.invalidateUser(owner.UUID) // the profile lists the files
	return f, nil
}

// purgeDeletedOwner removes the folder an upload recreated when its owner
// was deleted while the content was being written.
func (m *Manager) purgeDeletedOwner(ctx context.Context, owner string, err error) {
	if errors.Is(err, ErrUserNotFound) {
		m.purge(ctx, userFolderDeletion(owner, m.now()))
	}
}

// fileInsertError maps a store error of InsertFile.
func fileInsertError(err error) error {
	switch {
	case conflictField(err) == "file_name":
		return ErrFileNameTaken.Wrap(err)
	case errors.Is(err, ErrNotFound):
		return ErrUserNotFound.Wrap(err)
	}
	return err
}

// UploadFile stores a file in the owner's folder (trusted: no policy
// applies).
func (m *Manager) UploadFile(ctx context.Context, ownerUUID string, up Upload) (*File, error) {
	return m.uploadFile(ctx, ownerUUID, "", up, nil)
}

// File returns one file's metadata, or ErrFileNotFound.
func (m *Manager) File(ctx context.Context, id int64) (*File, error) {
	f, err := m.store.FileByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrFileNotFound
	}
	return f, err
}

// ListFiles returns a page of files, oldest first.
func (m *Manager) ListFiles(ctx context.Context, q FileQuery) ([]*File, error) {
	if q.Offset < 0 || q.Limit < 0 || q.Limit > 1000 {
		return nil, ErrInvalidInput.WithMessage("skip must be at least 0 and limit between 0 and 1000.")
	}
	return m.store.ListFiles(ctx, q)
}

// FilesByIDs returns the files among ids that exist (at most 1000 IDs).
func (m *Manager) FilesByIDs(ctx context.Context, ids []int64) ([]*File, error) {
	if len(ids) > 1000 {
		return nil, ErrInvalidInput.WithMessage("At most 1000 files at a time.")
	}
	return m.store.FilesByIDs(ctx, ids)
}

// CountFiles returns the number of files.
func (m *Manager) CountFiles(ctx context.Context) (int, error) { return m.store.CountFiles(ctx) }

// OpenFile returns a file's content (trusted: no policy applies).
func (m *Manager) OpenFile(ctx context.Context, id int64) (*Download, error) {
	f, err := m.File(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.open(ctx, f)
}

// open returns the content of f.
func (m *Manager) open(ctx context.Context, f *File) (*Download, error) {
	if m.storage == nil {
		return nil, ErrStorageUnavailable
	}
	rc, err := m.storage.Open(ctx, f.StorageKey)
	if errors.Is(err, files.ErrNotFound) {
		return nil, ErrFileNotFound.Wrap(err)
	}
	if err != nil {
		return nil, fmt.Errorf("usermgmt: open file: %w", err)
	}
	return &Download{File: f, ContentType: f.ContentType, Size: f.Size, ETag: `"` + f.SHA256 + `"`, Content: rc}, nil
}

// updateFile sets a file's description, after authorize (when not nil)
// accepts the file's owner.
func (m *Manager) updateFile(ctx context.Context, id int64, description, actorUUID string, authorize func(owner *User) error) (*File, error) {
	if !validText(description, MaxFileDescription) {
		return nil, ErrInvalidDescription
	}
	f, err := m.File(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := m.authorizeOwner(ctx, f, authorize); err != nil {
		return nil, err
	}
	f.Description = description
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		if err := tx.UpdateFile(ctx, f); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrFileNotFound
			}
			return err
		}
		return m.audit(ctx, tx, actorUUID, f.OwnerUUID, AuditFileUpdated, f.FileName)
	})
	if err != nil {
		return nil, err
	}
	m.cache.invalidateUser(f.OwnerUUID)
	return f, nil
}

// UpdateFile sets a file's description (trusted: no policy applies).
func (m *Manager) UpdateFile(ctx context.Context, id int64, description string) (*File, error) {
	return m.updateFile(ctx, id, description, "", nil)
}

// authorizeOwner runs authorize on the owner of f.
func (m *Manager) authorizeOwner(ctx context.Context, f *File, authorize func(owner *User) error) error {
	if authorize == nil {
		return nil
	}
	owner, err := m.User(ctx, f.OwnerUUID)
	if errors.Is(err, ErrUserNotFound) {
		return ErrFileNotFound // deleted with its owner meanwhile
	}
	if err != nil {
		return err
	}
	return authorize(owner)
}

// deleteFile removes a file (and clears any profile picture pointing at
// it), after authorize (when not nil) accepts the file's owner.
func (m *Manager) deleteFile(ctx context.Context, id int64, actorUUID string, authorize func(owner *User) error) error {
	f, err := m.File(ctx, id)
	if err != nil {
		return err
	}
	if err := m.authorizeOwner(ctx, f, authorize); err != nil {
		return err
	}
	var cleared []string
	d := FileDeletion{Key: f.StorageKey, CreatedAt: m.now()}
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		if err := tx.DeleteFile(ctx, id); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrFileNotFound
			}
			return err
		}
		var err error
		if cleared, err = tx.ClearProfilePicture(ctx, id); err != nil {
			return err
		}
		if m.storage != nil {
			if err := tx.AddFileDeletion(ctx, d); err != nil {
				return err
			}
		}
		return m.audit(ctx, tx, actorUUID, f.OwnerUUID, AuditFileDeleted, f.FileName)
	})
	for _, u := range append(cleared, f.OwnerUUID) {
		m.cache.invalidateUser(u)
	}
	if err != nil {
		return err
	}
	m.purge(ctx, d)
	return nil
}

// DeleteFile removes a file, its content, and any profile picture pointing
// at it (trusted: no policy applies).
func (m *Manager) DeleteFile(ctx context.Context, id int64) error {
	return m.deleteFile(ctx, id, "", nil)
}

// UploadFile stores a file in the actor's own folder (policy file.create).
func (a *Actor) UploadFile(ctx context.Context, up Upload) (*File, error) {
	if a.user == nil {
		return nil, ErrForbidden
	}
	return a.m.uploadFile(ctx, a.user.UUID, a.user.UUID, up, func(owner *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "file", Action: "create", Target: owner})
	})
}

// UploadUserFile stores a file in another user's folder (policy
// user_file.create on that user: by default themself, or an admin).
func (a *Actor) UploadUserFile(ctx context.Context, userUUID string, up Upload) (*File, error) {
	return a.m.uploadFile(ctx, userUUID, a.uuid(), up, func(owner *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "user_file", Action: "create", Target: owner})
	})
}

// File returns a file the actor may read (policy file.read on its owner).
func (a *Actor) File(ctx context.Context, id int64) (*File, error) {
	f, err := a.m.File(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := a.m.authorizeOwner(ctx, f, func(owner *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "file", Action: "read", Target: owner, Data: f})
	}); err != nil {
		return nil, err
	}
	return f, nil
}

// OpenFile returns the content of a file the actor may read.
func (a *Actor) OpenFile(ctx context.Context, id int64) (*Download, error) {
	f, err := a.File(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.m.open(ctx, f)
}

// ListFiles returns a page of files (policy file.read on no one in
// particular: admins and moderators by default).
func (a *Actor) ListFiles(ctx context.Context, q FileQuery) ([]*File, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "file", Action: "read"}); err != nil {
		return nil, err
	}
	return a.m.ListFiles(ctx, q)
}

// FilesByIDs returns the files among ids that exist (policy file.read on
// no one in particular).
func (a *Actor) FilesByIDs(ctx context.Context, ids []int64) ([]*File, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "file", Action: "read"}); err != nil {
		return nil, err
	}
	return a.m.FilesByIDs(ctx, ids)
}

// CountFiles returns the number of files (policy file.read on no one in
// particular).
func (a *Actor) CountFiles(ctx context.Context) (int, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "file", Action: "read"}); err != nil {
		return 0, err
	}
	return a.m.CountFiles(ctx)
}

// UpdateFile sets a file's description (policy file.update on its owner).
func (a *Actor) UpdateFile(ctx context.Context, id int64, description string) (*File, error) {
	return a.m.updateFile(ctx, id, description, a.uuid(), func(owner *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "file", Action: "update", Target: owner})
	})
}

// DeleteFile removes a file (policy file.delete on its owner).
func (a *Actor) DeleteFile(ctx context.Context, id int64) error {
	return a.m.deleteFile(ctx, id, a.uuid(), func(owner *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "file", Action: "delete", Target: owner})
	})
}

// bytesDownload serves generated content.
func bytesDownload(b []byte, contentType string) *Download {
	sum := sha256.Sum256(b)
	return &Download{ContentType: contentType, Size: int64(len(b)), ETag: `"` + hex.EncodeToString(sum[:16]) + `"`,
		Content: io.NopCloser(bytes.NewReader(b))}
}
