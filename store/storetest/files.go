package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var fileCases = []testCase{
	{"InsertAndRead", testFileInsertRead},
	{"NamesUniquePerOwner", testFileNamesPerOwner},
	{"UpdateAndDelete", testFileUpdateDelete},
	{"OwnerDeletion", testFileOwnerDeletion},
	{"ClearProfilePicture", testClearProfilePicture},
	{"Deletions", testFileDeletions},
}

// newFile returns a file of owner numbered n, created n seconds after t0.
func newFile(owner *usermgmt.User, n int) *usermgmt.File {
	return &usermgmt.File{
		OwnerUUID: owner.UUID, CreatedByUUID: owner.UUID,
		FileName: fmt.Sprintf("file_%d.txt", n), FileType: "txt", ContentType: "text/plain; charset=utf-8",
		Size: int64(100 + n), SHA256: fmt.Sprintf("%064x", n), Description: fmt.Sprintf("file %d", n),
		StorageKey: fmt.Sprintf("users/%s/k%d_file_%d.txt", owner.UUID, n, n),
		CreatedAt:  t0.Add(time.Duration(n) * time.Second),
	}
}

func wantFile(f *usermgmt.File) *usermgmt.File {
	w := *f
	w.CreatedAt = stored(f.CreatedAt)
	return &w
}

func checkFile(t *testing.T, what string, got, want *usermgmt.File) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil file", what)
	}
	checkUTC(t, what+" CreatedAt", got.CreatedAt)
	if w := wantFile(want); !reflect.DeepEqual(got, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, w)
	}
}

func mustInsertFiles(t *testing.T, st usermgmt.FileStore, fs ...*usermgmt.File) {
	t.Helper()
	for _, f := range fs {
		if err := st.InsertFile(context.Background(), f); err != nil {
			t.Fatalf("InsertFile(%s): %v", f.FileName, err)
		}
	}
}

func testFileInsertRead(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	f1, f2, f3 := newFile(a, 1), newFile(a, 2), newFile(b, 3)
	f3.CreatedByUUID = a.UUID // an upload for another user
	mustInsertFiles(t, st, f3, f1, f2)
	if f1.ID == 0 || f2.ID == 0 || f3.ID == 0 || f1.ID == f2.ID {
		t.Fatalf("IDs %d %d %d", f1.ID, f2.ID, f3.ID)
	}
	got, err := st.FileByID(ctx, f1.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, "FileByID", got, f1)
	_, err = st.FileByID(ctx, 999999)
	checkNotFound(t, "FileByID(missing)", err)

	list, err := st.ListFiles(ctx, usermgmt.FileQuery{})
	if err != nil || len(list) != 3 {
		t.Fatalf("ListFiles = %d files, %v", len(list), err)
	}
	for i, want := range []*usermgmt.File{f1, f2, f3} { // by creation time
		checkFile(t, fmt.Sprintf("ListFiles[%d]", i), list[i], want)
	}
	page, err := st.ListFiles(ctx, usermgmt.FileQuery{Offset: 1, Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != f2.ID {
		t.Fatalf("ListFiles page = %v, %v", page, err)
	}
	mine, err := st.ListFiles(ctx, usermgmt.FileQuery{OwnerUUID: a.UUID})
	if err != nil || len(mine) != 2 || mine[0].ID != f1.ID || mine[1].ID != f2.ID {
		t.Fatalf("ListFiles of an owner = %v, %v", mine, err)
	}
	owned, err := st.ListFiles(ctx, usermgmt.FileQuery{OwnerUUID: b.UUID})
	if err != nil || len(owned) != 1 || owned[0].ID != f3.ID {
		t.Fatalf("ListFiles(owner) = %v, %v", owned, err)
	}
	byIDs, err := st.FilesByIDs(ctx, []int64{f3.ID, 424242, f1.ID})
	if err != nil || len(byIDs) != 2 {
		t.Fatalf("FilesByIDs = %v, %v", byIDs, err)
	}
	if none, err := st.FilesByIDs(ctx, nil); err != nil || none == nil || len(none) != 0 {
		t.Fatalf("FilesByIDs(nil) = %#v, %v", none, err)
	}
	if n, err := st.CountFiles(ctx); err != nil || n != 3 {
		t.Fatalf("CountFiles = %d, %v", n, err)
	}
	// A file of an owner that does not exist.
	ghost := newFile(newUser(9), 9)
	checkNotFound(t, "InsertFile(unknown owner)", st.InsertFile(ctx, ghost))
}

func testFileNamesPerOwner(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	f := newFile(a, 1)
	mustInsertFiles(t, st, f)
	dup := newFile(a, 2)
	dup.FileName = f.FileName
	checkConflict(t, "same name, same owner", st.InsertFile(ctx, dup), "file_name")
	other := newFile(b, 3)
	other.FileName = f.FileName
	if err := st.InsertFile(ctx, other); err != nil {
		t.Fatalf("same name, other owner: %v", err)
	}
}

func testFileUpdateDelete(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	f := newFile(a, 1)
	mustInsertFiles(t, st, f)
	f.Description = "changed"
	if err := st.UpdateFile(ctx, f); err != nil {
		t.Fatal(err)
	}
	got, err := st.FileByID(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, "after UpdateFile", got, f)
	if err := st.DeleteFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, "DeleteFile twice", st.DeleteFile(ctx, f.ID))
	checkNotFound(t, "UpdateFile(missing)", st.UpdateFile(ctx, f))
}

func testFileOwnerDeletion(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	own := newFile(a, 1)
	forB := newFile(b, 2)
	forB.CreatedByUUID = a.UUID
	mustInsertFiles(t, st, own, forB)
	if err := st.DeleteUser(ctx, a.UUID); err != nil {
		t.Fatal(err)
	}
	_, err := st.FileByID(ctx, own.ID)
	checkNotFound(t, "owner's file after the owner's deletion", err)
	got, err := st.FileByID(ctx, forB.ID)
	if err != nil {
		t.Fatalf("another owner's file after the uploader's deletion: %v", err)
	}
	forB.CreatedByUUID = ""
	checkFile(t, "uploader deleted", got, forB)
}

func testClearProfilePicture(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	f := newFile(a, 1)
	mustInsertFiles(t, st, f)
	a.ProfilePictureID = &f.ID
	if err := st.UpdateUser(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClearProfilePicture(ctx, f.ID)
	if err != nil || !reflect.DeepEqual(got, []string{a.UUID}) {
		t.Fatalf("ClearProfilePicture = %v, %v", got, err)
	}
	u, err := st.UserByUUID(ctx, a.UUID)
	if err != nil || u.ProfilePictureID != nil {
		t.Fatalf("picture after clearing = %v, %v", u.ProfilePictureID, err)
	}
	// b's picture (newUser gives one) is untouched; nothing left to clear.
	if got, err := st.ClearProfilePicture(ctx, f.ID); err != nil || len(got) != 0 {
		t.Fatalf("second ClearProfilePicture = %v, %v", got, err)
	}
	ub, err := st.UserByUUID(ctx, b.UUID)
	if err != nil || ub.ProfilePictureID == nil {
		t.Fatalf("other user's picture = %v, %v", ub, err)
	}
}

func testFileDeletions(t *testing.T, st fullStore) {
	ctx := context.Background()
	ds := []usermgmt.FileDeletion{
		{Key: "users/b/k_x.txt", CreatedAt: t0.Add(2 * time.Second)},
		{Key: "users/a", Folder: true, CreatedAt: t0},
		{Key: "users/c/k_y.txt", CreatedAt: t0.Add(time.Second)},
	}
	for _, d := range ds {
		if err := st.AddFileDeletion(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// Adding a recorded key again is a no-op.
	if err := st.AddFileDeletion(ctx, usermgmt.FileDeletion{Key: "users/a", CreatedAt: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("AddFileDeletion twice: %v", err)
	}
	got, err := st.FileDeletions(ctx, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []usermgmt.FileDeletion{ds[1], ds[2], ds[0]}
	for i := range want {
		want[i].CreatedAt = stored(want[i].CreatedAt)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FileDeletions =\n %+v\nwant\n %+v", got, want)
	}
	if got, _ := st.FileDeletions(ctx, nil, 1); len(got) != 1 || got[0].Key != "users/a" {
		t.Fatalf("FileDeletions(1) = %+v", got)
	}
	// Pages go on after a given deletion, ties on the time ordered by key.
	tie := usermgmt.FileDeletion{Key: "users/c/k_z.txt", CreatedAt: t0.Add(time.Second)}
	if err := st.AddFileDeletion(ctx, tie); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var after *usermgmt.FileDeletion
	for {
		page, err := st.FileDeletions(ctx, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		keys = append(keys, page[0].Key)
		after = &page[0]
	}
	if want := []string{"users/a", "users/c/k_y.txt", "users/c/k_z.txt", "users/b/k_x.txt"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("paged FileDeletions = %v, want %v", keys, want)
	}
	if err := st.RemoveFileDeletion(ctx, tie.Key); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveFileDeletion(ctx, "users/a"); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveFileDeletion(ctx, "users/a"); err != nil {
		t.Fatalf("RemoveFileDeletion twice: %v", err)
	}
	if got, _ := st.FileDeletions(ctx, nil, 0); len(got) != 2 {
		t.Fatalf("after removal: %+v", got)
	}
}
