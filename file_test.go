package usermgmt_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/files"
)

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// SetProfilePicture is the trusted call an OAuth sign-up uses to import a
// provider's picture; it applies the same content rules as over HTTP.
func TestSetProfilePicture(t *testing.T) {
	ctx := context.Background()
	disk, err := files.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := newManager(t, openStore(t), newFakeClock(), usermgmt.WithStorage(disk))
	u := mustCreate(t, m, "pic_user")
	pic := testPNG(t, 64, 64)

	f, err := m.SetProfilePicture(ctx, u.UUID, "avatar.png", bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	if f.OwnerUUID != u.UUID || f.CreatedByUUID != u.UUID || f.ContentType != "image/png" || f.Size != int64(len(pic)) {
		t.Fatalf("file = %+v", f)
	}
	d, err := m.ProfilePicture(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(d.Content)
	d.Content.Close()
	if d.File == nil || d.File.ID != f.ID || !bytes.Equal(got, pic) {
		t.Fatalf("ProfilePicture = %+v (%d bytes)", d.File, len(got))
	}
	p, err := m.Profile(ctx, u.UUID)
	if err != nil || p.Picture == nil || p.Picture.ID != f.ID {
		t.Fatalf("Profile.Picture = %+v, %v", p, err)
	}

	for _, tt := range []struct {
		name, filename string
		content        []byte
		want           error
	}{
		{"not an image", "a.png", []byte("hello"), usermgmt.ErrInvalidImage},
		{"wrong extension", "a.svg", pic, usermgmt.ErrInvalidImage},
		{"too large", "a.png", testPNG(t, 600, 10), usermgmt.ErrImageTooLarge},
	} {
		if _, err := m.SetProfilePicture(ctx, u.UUID, tt.filename, bytes.NewReader(tt.content)); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := m.SetProfilePicture(ctx, "00000000-0000-4000-8000-000000000000", "a.png", bytes.NewReader(pic)); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	// The refused attempts left the picture in place.
	if p, _ := m.Profile(ctx, u.UUID); p.Picture == nil || p.Picture.ID != f.ID {
		t.Fatalf("picture after refusals = %+v", p.Picture)
	}

	// Only the user (or an admin) may set it through the policy.
	other := mustCreate(t, m, "other_user")
	if _, err := m.As(other).SetProfilePicture(ctx, u.UUID, usermgmt.Upload{FileName: "a.png", Content: bytes.NewReader(pic)}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("another user: %v", err)
	}
	if err := m.DeleteProfilePicture(ctx, u.UUID); err != nil {
		t.Fatal(err)
	}
	d, err = m.ProfilePicture(ctx, u.UUID)
	if err != nil || d.File != nil || d.ContentType != "image/png" {
		t.Fatalf("after deletion: %+v, %v", d, err)
	}
	d.Content.Close()
}

func TestFilesWithoutStorage(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), newFakeClock())
	u := mustCreate(t, m, "no_storage")
	if _, err := m.UploadFile(ctx, u.UUID, usermgmt.Upload{FileName: "a.txt", Content: strings.NewReader("x")}); !errors.Is(err, usermgmt.ErrStorageUnavailable) {
		t.Errorf("UploadFile = %v", err)
	}
	// The generated picture needs no storage.
	d, err := m.ProfilePicture(ctx, u.UUID)
	if err != nil || d.ContentType != "image/png" || d.Size == 0 {
		t.Fatalf("ProfilePicture = %+v, %v", d, err)
	}
	d.Content.Close()
	// Deleting a user works, with nothing to sweep.
	if err := m.DeleteUser(ctx, u.UUID); err != nil {
		t.Fatal(err)
	}
	if n, err := m.SweepFiles(ctx); err != nil || n != 0 {
		t.Fatalf("SweepFiles = %d, %v", n, err)
	}
}
