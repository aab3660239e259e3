package usermgmt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/usermgmt/usermgmt/files"
)

// maxPictureSide bounds a profile picture's width and height, in pixels.
const maxPictureSide = 512

// pictureOf returns the file of u's profile picture, nil when u has none
// (or its row is gone).
func (m *Manager) pictureOf(ctx context.Context, u *User) (*File, error) {
	if u.ProfilePictureID == nil {
		return nil, nil
	}
	f, err := m.store.FileByID(ctx, *u.ProfilePictureID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return f, err
}

// checkPicture reads a picture upload (bounded by MaxUploadBytes) and
// accepts it only when the file name's extension and the content's format
// are both PNG, JPEG, GIF or BMP and the header's dimensions are at most
// maxPictureSide. The dimensions come from the header, before anything else
// reads the content.
func (m *Manager) checkPicture(up Upload) ([]byte, files.ImageInfo, error) {
	if !slices.Contains(files.ImageExtensions, files.Ext(up.FileName)) {
		return nil, files.ImageInfo{}, ErrInvalidImage
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(&limitedReader{r: up.Content, n: m.cfg.MaxUploadBytes}); err != nil {
		if errors.Is(err, ErrFileTooLarge) {
			return nil, files.ImageInfo{}, ErrFileTooLarge.WithMessage(fmt.Sprintf("The file is larger than %d bytes.", m.cfg.MaxUploadBytes))
		}
		return nil, files.ImageInfo{}, ErrInvalidInput.WithMessage("Could not read the upload.").Wrap(err)
	}
	info, err := files.InspectImage(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, files.ImageInfo{}, ErrInvalidImage.Wrap(err)
	}
	if info.Width > maxPictureSide || info.Height > maxPictureSide {
		return nil, info, ErrImageTooLarge.WithMessage(fmt.Sprintf("Image must be below %dx%d px (%dx%dpx)", maxPictureSide, maxPictureSide, info.Width, info.Height))
	}
	if files.Sniff(buf.Bytes()) != info.ContentType() {
		return nil, info, ErrInvalidImage
	}
	return buf.Bytes(), info, nil
}

// setPicture stores a new profile picture for the user and points the user
// at it, replacing (and deleting) the previous one in the same
// transaction. authorize, when not nil, accepts the target first.
func (m *Manager) setPicture(ctx context.Context, userUUID, actorUUID string, up Upload, authorize func(target *User) error) (*File, error) {
	if _, err := m.checkUpload(Upload{FileName: "picture", Description: up.Description, Content: up.Content}); err != nil {
		return nil, err
	}
	target, err := m.User(ctx, userUUID)
	if err != nil {
		return nil, err
	}
	if authorize != nil {
		if err := authorize(target); err != nil {
			return nil, err
		}
	}
	content, info, err := m.checkPicture(up)
	if err != nil {
		return nil, err
	}
	createdBy := actorUUID
	if createdBy == "" { // trusted: the user's own picture
		createdBy = target.UUID
	}
	name := "pfp_" + target.UUID + "." + info.Format
	f, err := m.putContent(ctx, newUpload{owner: target.UUID, createdBy: createdBy, name: name,
		description: up.Description, content: bytes.NewReader(content)})
	if err != nil {
		return nil, err
	}
	var old *FileDeletion
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		u, err := tx.LockUser(ctx, target.UUID)
		if errors.Is(err, ErrNotFound) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if old, err = m.dropPicture(ctx, tx, u); err != nil {
			return err
		}
		if err := tx.InsertFile(ctx, f); err != nil {
			return fileInsertError(err)
		}
		if err := tx.RemoveFileDeletion(ctx, f.StorageKey); err != nil {
			return err
		}
		u.ProfilePictureID = &f.ID
		u.UpdatedAt = m.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return m.audit(ctx, tx, actorUUID, u.UUID, AuditPictureUpdated, f.FileName)
	})
	m.cache.invalidateUser(target.UUID)
	if err != nil {
		m.purge(ctx, FileDeletion{Key: f.StorageKey})
		m.purgeDeletedOwner(ctx, target.UUID, err)
		return nil, err
	}
	if old != nil {
		m.purge(ctx, *old)
	}
	return f, nil
}

// dropPicture deletes, in tx, the row of u's current picture (if any) and
// records its content for deletion; u's picture ID is cleared (the caller
// writes u). It returns the deletion to carry out after the commit.
func (m *Manager) dropPicture(ctx context.Context, tx fullStore, u *User) (*FileDeletion, error) {
	if u.ProfilePictureID == nil {
		return nil, nil
	}
	id := *u.ProfilePictureID
	u.ProfilePictureID = nil
	f, err := tx.FileByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil // a dangling ID: nothing more to drop
	}
	if err != nil {
		return nil, err
	}
	if err := tx.DeleteFile(ctx, id); err != nil {
		return nil, err
	}
	d := FileDeletion{Key: f.StorageKey, CreatedAt: m.now()}
	if m.storage != nil {
		if err := tx.AddFileDeletion(ctx, d); err != nil {
			return nil, err
		}
	}
	return &d, nil
}

// SetProfilePicture stores content as the user's profile picture,
// replacing any previous one (trusted: no policy applies). The same rules
// as over HTTP apply to the content: an image (PNG, JPEG, GIF or BMP, by
// both filename's extension and content) of at most 512x512 pixels.
func (m *Manager) SetProfilePicture(ctx context.Context, userUUID, filename string, content io.Reader) (*File, error) {
	return m.setPicture(ctx, userUUID, "", Upload{FileName: filename, Content: content}, nil)
}

// deletePicture removes a user's profile picture, after authorize (when not
// nil) accepts the target. ErrFileNotFound when the user has none.
func (m *Manager) deletePicture(ctx context.Context, userUUID, actorUUID string, authorize func(target *User) error) error {
	var old *FileDeletion
	_, err := m.changeUserTx(ctx, userUUID, authorize, func(ctx context.Context, tx fullStore, u *User) error {
		if u.ProfilePictureID == nil {
			return ErrFileNotFound.WithMessage("The user has no profile picture.")
		}
		var err error
		if old, err = m.dropPicture(ctx, tx, u); err != nil {
			return err
		}
		u.UpdatedAt = m.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return m.audit(ctx, tx, actorUUID, u.UUID, AuditPictureDeleted, "")
	})
	if err != nil {
		return err
	}
	if old != nil {
		m.purge(ctx, *old)
	}
	return nil
}

// changeUserTx runs fn on the locked user inside one transaction, after
// authorize, and drops the cached user afterwards.
func (m *Manager) changeUserTx(ctx context.Context, uuid string, authorize func(*User) error, fn func(ctx context.Context, tx fullStore, u *User) error) (*User, error) {
	id, err := canonicalUUID(uuid)
	if err != nil {
		return nil, ErrUserNotFound
	}
	var out *User
	err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
		u, err := tx.LockUser(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if authorize != nil {
			if err := authorize(u); err != nil {
				return err
			}
		}
		out = u
		return fn(ctx, tx, u)
	})
	m.cache.invalidateUser(id)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteProfilePicture removes a user's profile picture (trusted: no
// policy applies); the generated one is served again.
func (m *Manager) DeleteProfilePicture(ctx context.Context, userUUID string) error {
	return m.deletePicture(ctx, userUUID, "", nil)
}

// ProfilePicture returns the user's picture to serve: the uploaded one, or
// (when they have none, or its content is gone) a generated PNG with their
// initials. Anyone may read it, as in the reference; ErrUserNotFound for an
// unknown user.
func (m *Manager) ProfilePicture(ctx context.Context, userUUID string) (*Download, error) {
	u, err := m.User(ctx, userUUID)
	if err != nil {
		return nil, err
	}
	if m.storage != nil {
		f, err := m.pictureOf(ctx, u)
		if err != nil {
			return nil, err
		}
		if f != nil {
			d, err := m.open(ctx, f)
			if err == nil {
				return d, nil
			}
			m.log.WarnContext(ctx, "profile picture unreadable; serving the generated one", "user", u.UUID, "file", f.ID, "err", err)
		}
	}
	return m.GeneratedPicture(u.DisplayName)
}

// GeneratedPicture returns the PNG avatar of a name: its initials in white
// on a grey square (the reference's look).
func (m *Manager) GeneratedPicture(name string) (*Download, error) {
	b, err := m.avatars.PNG(name)
	if errors.Is(err, files.ErrTextTooLong) {
		return nil, ErrInvalidInput.WithMessage("Unable to fit text within the image.")
	}
	if err != nil {
		return nil, err
	}
	return bytesDownload(b, "image/png"), nil
}

// SetProfilePicture stores a user's profile picture (policy
// user_image.create on the user: by default themself, or an admin).
func (a *Actor) SetProfilePicture(ctx context.Context, userUUID string, up Upload) (*File, error) {
	return a.m.setPicture(ctx, userUUID, a.uuid(), up, func(t *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "user_image", Action: "create", Target: t})
	})
}

// DeleteProfilePicture removes a user's profile picture (policy
// user_image.delete on the user: by default themself, or an admin).
func (a *Actor) DeleteProfilePicture(ctx context.Context, userUUID string) error {
	return a.m.deletePicture(ctx, userUUID, a.uuid(), func(t *User) error {
		return a.authorize(ctx, AccessRequest{Resource: "user_image", Action: "delete", Target: t})
	})
}
