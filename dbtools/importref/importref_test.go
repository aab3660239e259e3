package importref_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/dbtools/importref"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/postgres"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// target is a usermgmt service over an empty database, with dbtools.
type target struct {
	m     *usermgmt.Manager
	tools *dbtools.Tools
	srv   *httptest.Server
	dir   string
}

func newTarget(t testing.TB, st *store.DB, opts ...usermgmt.Option) *target {
	t.Helper()
	dir := t.TempDir()
	tools := dbtools.New(dbtools.Options{})
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("a test secret of at least thirty-two bytes"),
		BcryptCost: 4, DataDir: dir, Logger: slog.New(slog.DiscardHandler)}, append(opts, usermgmt.WithFeature(tools))...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpadapter.New(m, httpadapter.Options{Prefix: "/api"}))
	t.Cleanup(func() { srv.Close(); m.Close(); st.Close() })
	return &target{m: m, tools: tools, srv: srv, dir: dir}
}

func sqliteTarget(t testing.TB, opts ...usermgmt.Option) *target {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "target.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newTarget(t, st, opts...)
}

// sqliteReference writes a reference Project.db with rows and returns its
// DATABASE_URI, in the reference's own form.
func sqliteReference(t *testing.T, rows []refRow) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "Project.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	buildFixture(t, db, "sqlite", rows)
	return "sqlite+aiosqlite:///" + path
}

func openSource(t *testing.T, uri string) *importref.Source {
	t.Helper()
	src, err := importref.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// TestImportSQLiteReference imports a reference Project.db (with its files)
// and uses the accounts over HTTP as their owners would.
func TestImportSQLiteReference(t *testing.T) {
	dataDir := t.TempDir()
	writeFixtureFiles(t, dataDir)
	uri := sqliteReference(t, fixtureRows(t, dataDir))
	tg := sqliteTarget(t)
	rep, err := importref.Import(context.Background(), tg.m, tg.tools, openSource(t, uri), importref.Options{FilesDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, true)
	checkImported(t, tg, true)
}

// TestImportPostgresReference imports the reference's PostgreSQL schema,
// kept in a schema of its own (the URI's search_path names it), into a
// PostgreSQL target, metadata only.
func TestImportPostgresReference(t *testing.T) {
	ctx := context.Background()
	dsn := testpg.DSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// A decoy users table in public: the import must read refapp's.
	for _, q := range []string{"CREATE SCHEMA refapp", "CREATE TABLE public.users (uuid TEXT)"} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", "refapp")
	u.RawQuery = q.Encode()
	refDSN := u.String()
	db, err := sql.Open("pgx", refDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := fixtureRows(t, "/srv/app/data")
	for i := range rows {
		if rows[i].table == "users" && rows[i].vals[0] == extUUID {
			rows[i].vals[16] = nil // PostgreSQL keeps the reference's foreign key: no dangling picture
		}
	}
	buildFixture(t, db, "postgres", rows)
	st, err := postgres.Open(ctx, testpg.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t, st)
	// The reference's own spelling of its URI.
	src := openSource(t, strings.Replace(refDSN, "postgres://", "postgresql+psycopg://", 1))
	if src.Dialect() != importref.Postgres {
		t.Fatalf("dialect %q", src.Dialect())
	}
	rep, err := importref.Import(ctx, tg.m, tg.tools, src, importref.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, false)
	for _, k := range rep.FileKeys {
		if k.ID == 2 && (k.From != "/srv/app/data/users/"+janeUUID+"/cv.pdf" || k.StorageKey != "users/"+janeUUID+"/cv.pdf") {
			t.Errorf("file 2 maps %+v", k)
		}
	}
	checkImported(t, tg, false)
}

func checkReport(t *testing.T, rep *importref.Report, contents bool) {
	t.Helper()
	if rep.Users != 3 || rep.Files != 2 || rep.ExternalAccounts != 2 || rep.History != 3 || rep.ContentsCopied != contents {
		t.Errorf("report %+v", rep)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, want := range []string{
		"oauth_tokens: 1 provider token row(s) not carried",
		"users row 2 (uuid " + janeUUID + "): blocked uuid \"" + goneUUID + "\" names no user",
		"users row 1 (admin): the password is still the reference's default \"changeme\"",
		"1 user(s) have the email second factor",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

// checkImported logs in with the old passwords and a TOTP code that
// oathtool computes from the reference's secret, and reads the linked
// providers, the files and the history.
func checkImported(t *testing.T, tg *target, contents bool) {
	t.Helper()
	ctx := context.Background()
	// The admin logs in with the reference's password.
	status, body := form(t, tg.srv.URL+"/api/auth/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "grant_type": {"password"}})
	if status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("admin login: %d %v", status, body)
	}
	// jane: her old password, then her authenticator's code.
	status, body = form(t, tg.srv.URL+"/api/auth/login", url.Values{"username": {"jane@example.com"}, "password": {janePassword}, "grant_type": {"password"}})
	if status != http.StatusUnauthorized || body["code"] != usermgmt.ErrOTPRequired.Code {
		t.Fatalf("jane login: %d %v", status, body)
	}
	code := oathtool(t, janeSecret)
	status, body = form(t, tg.srv.URL+"/api/auth/OTP", url.Values{"otp_code": {code}, "otp_token": {body["otp_token"].(string)}})
	if status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("jane OTP with oathtool's code: %d %v", status, body)
	}
	token := body["access_token"].(string)
	// A wrong password still fails.
	if status, _ := form(t, tg.srv.URL+"/api/auth/login", url.Values{"username": {"jane_doe"}, "password": {"Wrong-Passw0rd!"}, "grant_type": {"password"}}); status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", status)
	}
	me := getJSON(t, tg.srv.URL+"/api/user/me", token)
	if me["email"] != "jane@example.com" || me["otp_method"] != "authenticator" || me["display_name"] != "Jane Doe" {
		t.Errorf("me: %v", me)
	}
	var providers []string
	for _, a := range me["external_accounts"].([]any) {
		providers = append(providers, a.(map[string]any)["provider"].(string))
	}
	if !slices.Equal(providers, []string{"github"}) {
		t.Errorf("linked providers %v", providers)
	}
	var names []string
	for _, f := range me["files"].([]any) {
		names = append(names, f.(map[string]any)["file_name"].(string))
	}
	slices.Sort(names)
	if want := []string{"cv.pdf", "pfp_" + janeUUID + ".png"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	if pic, _ := me["profile_picture"].(map[string]any); pic == nil || pic["id"] != json.Number("1") && pic["id"] != float64(1) {
		t.Errorf("profile picture %v", me["profile_picture"])
	}
	if blocked := me["blocked_uuids"].([]any); len(blocked) != 1 || blocked[0] != extUUID {
		t.Errorf("blocked %v", blocked)
	}
	if contents {
		req, _ := http.NewRequest(http.MethodGet, tg.srv.URL+"/api/file/2/file", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != cvBytes {
			t.Errorf("file 2: %d %q", resp.StatusCode, got)
		}
	}
	// A new upload takes the next id: the identity moved past the imported
	// ones (PostgreSQL's sequence is reset by the import).
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "notes.txt")
	_, _ = fw.Write([]byte("new notes"))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, tg.srv.URL+"/api/file/", &mp)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || up["id"] != float64(3) {
		t.Errorf("upload after the import: %d %v", resp.StatusCode, up)
	}
	// The external-only account has no password, and keeps its provider.
	octo, err := tg.m.UserByLogin(ctx, "octo_cat")
	if err != nil {
		t.Fatal(err)
	}
	if octo.PasswordHash != "" || !octo.IsExternalOnly || octo.ProfilePictureID != nil || octo.OTPMethod != usermgmt.OTPEmail || octo.OTPSecret != "" {
		t.Errorf("octo_cat: hash %q external %v picture %v otp %q", octo.PasswordHash, octo.IsExternalOnly, octo.ProfilePictureID, octo.OTPMethod)
	}
	if status, _ := form(t, tg.srv.URL+"/api/auth/login", url.Values{"username": {"octo_cat"}, "password": {"ThirdPartyOnlyAcc"}, "grant_type": {"password"}}); status != http.StatusUnauthorized {
		t.Errorf("external-only password login: %d", status)
	}
	// The history is jane's audit trail, and the import is audited.
	entries, err := tg.m.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: janeUUID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, importref.HistoryActionPrefix) {
			actions = append(actions, e.Action+"|"+e.ActorUUID+"|"+e.Detail)
		}
	}
	slices.Sort(actions)
	want := []string{
		"reference:Forgot password request||Forgot password request (by <logged out user>)",
		"reference:ban|" + adminUUID + "|spam",
		"reference:email-verified|" + janeUUID + "|Email verified",
	}
	if !slices.Equal(actions, want) {
		t.Errorf("history as audit:\n%s\nwant\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
}

// oathtool computes the current TOTP code of a secret independently.
func oathtool(t *testing.T, secret string) string {
	t.Helper()
	bin, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("oathtool is not installed: in CI the migration test must check codes with it")
		}
		t.Skip("oathtool is not installed")
	}
	out, err := exec.Command(bin, "--totp", "-b", strings.ToUpper(secret)).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func form(t *testing.T, u string, v url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func getJSON(t *testing.T, u, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return body
}

// errorIs fails unless err is an *usermgmt.Error matching want whose
// message holds every part.
func errorIs(t *testing.T, err, want error, parts ...string) *usermgmt.Error {
	t.Helper()
	var ue *usermgmt.Error
	if !errors.Is(err, want) || !errors.As(err, &ue) {
		t.Fatalf("error %v, want %v", err, want)
	}
	for _, p := range parts {
		if !strings.Contains(ue.Message, p) {
			t.Errorf("message %q lacks %q", ue.Message, p)
		}
	}
	return ue
}
