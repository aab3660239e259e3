package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// referenceImage is a 400x400 PNG, as the reference's load-test asset.
func referenceImage(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 400, 400))
	for y := range 400 {
		for x := range 400 {
			img.Set(x, y, color.RGBA{uint8(x * y), uint8(x + 3*y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// step is one request of the iteration and its answer.
type step struct {
	name   string
	status int
	header http.Header
	body   []byte
}

// TestReferenceIteration runs the reference's k6 iteration (seed-api.md
// section 9) against the server, twice in a row as the k6 loop does, and
// checks the reference's statuses: the first login fails (401, the user was
// deleted by the previous iteration), then every request answers 200.
func TestReferenceIteration(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, map[string]string{"DATA_DIR": dataDir})
	const (
		user     = "test_user_1"
		password = "qwertyQWERTY1234!@#$"
	)
	pic := referenceImage(t)

	send := func(name, method, path, token, ctype string, body io.Reader) step {
		t.Helper()
		req, err := http.NewRequest(method, s.base+"/api"+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return step{name: name, status: resp.StatusCode, header: resp.Header, body: b}
	}
	form := func(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
	const formType = "application/x-www-form-urlencoded"
	loginForm := url.Values{"username": {user}, "password": {password}, "grant_type": {"password"}}

	for iter := range 2 {
		var steps []step
		// 1. Login: the user does not exist (yet, or any more).
		steps = append(steps, send("login", "POST", "/auth/login", "", formType, form(loginForm)))
		// 2. Register, then log that session out.
		reg := send("register", "POST", "/auth/register", "", formType, form(url.Values{
			"username": {user}, "email": {user + "@example.com"}, "password": {password}, "confirm_password": {password},
		}))
		steps = append(steps, reg)
		var regTok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(reg.body, &regTok)
		steps = append(steps, send("logout", "POST", "/auth/logout", regTok.AccessToken, "", nil))
		// 3. Login again.
		login := send("login again", "POST", "/auth/login", "", formType, form(loginForm))
		steps = append(steps, login)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(login.body, &tok)
		// 4. /user/me.
		me := send("me", "GET", "/user/me", tok.AccessToken, "", nil)
		steps = append(steps, me)
		var u struct {
			UUID           string          `json:"uuid"`
			ProfilePicture json.RawMessage `json:"profile_picture"`
		}
		_ = json.Unmarshal(me.body, &u)
		// 5. A fresh user has no picture: the step is skipped.
		if string(u.ProfilePicture) != "null" {
			t.Fatalf("iteration %d: a fresh user has a picture: %s", iter, u.ProfilePicture)
		}
		// 6. The generated picture, without auth.
		gen := send("generated picture", "GET", "/user/"+u.UUID+"/image", "", "", nil)
		steps = append(steps, gen)
		// 7. Upload test.png.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "test.png")
		_, _ = fw.Write(pic)
		_ = mw.Close()
		steps = append(steps, send("upload picture", "PUT", "/user/"+u.UUID+"/image", tok.AccessToken, mw.FormDataContentType(), &buf))
		// 8. The uploaded picture, without auth.
		up := send("uploaded picture", "GET", "/user/"+u.UUID+"/image", "", "", nil)
		steps = append(steps, up)
		// 9. Delete the user.
		steps = append(steps, send("delete user", "DELETE", "/user/"+u.UUID, tok.AccessToken, "", nil))

		want := []int{401, 200, 200, 200, 200, 200, 200, 200, 200}
		var got []string
		for i, st := range steps {
			got = append(got, fmt.Sprintf("%s=%d", st.name, st.status))
			if st.status != want[i] {
				t.Errorf("iteration %d, %s: status %d, want %d: %s", iter, st.name, st.status, want[i], st.body)
			}
		}
		t.Logf("iteration %d: %s", iter, strings.Join(got, " "))
		if t.Failed() {
			t.FailNow()
		}
		if ct := gen.header.Get("Content-Type"); ct != "image/png" || len(gen.body) == 0 {
			t.Fatalf("generated picture: %s, %d bytes", ct, len(gen.body))
		}
		if !bytes.Equal(up.body, pic) || bytes.Equal(up.body, gen.body) {
			t.Fatalf("the uploaded picture is not served back (%d bytes)", len(up.body))
		}
		// Nothing of the user is left on disk.
		if _, err := os.Stat(filepath.Join(dataDir, "users", u.UUID)); !os.IsNotExist(err) {
			t.Fatalf("iteration %d: the user's folder survived: %v", iter, err)
		}
	}
}

// TestStartupSweep: a folder whose deletion was recorded but not carried
// out (the process died in between) is removed when the server starts.
func TestStartupSweep(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, map[string]string{"DATA_DIR": dataDir})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	const uuid = "00000000-0000-4000-8000-0000000000aa"
	folder := filepath.Join(dataDir, "users", uuid)
	if err := os.MkdirAll(folder, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "k_left.txt"), []byte("left"), 0o640); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(dataDir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.AddFileDeletion(ctx, usermgmt.FileDeletion{Key: "users/" + uuid, Folder: true, CreatedAt: time.Now()})
	_ = st.Close()
	if err != nil {
		t.Fatal(err)
	}

	s2 := startServer(t, map[string]string{"DATA_DIR": dataDir})
	if _, err := os.Stat(folder); !os.IsNotExist(err) {
		t.Fatalf("the folder survived the start-up sweep: %v", err)
	}
	if err := s2.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s2.logs.String(), "file sweep") {
		t.Errorf("no sweep log line:\n%s", s2.logs.String())
	}
}
