package importref

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/usermgmt/usermgmt/files"
)

// sniffBytes is how much of a file's start files.Sniff reads.
const sniffBytes = 512

// copyContents copies the content of every carried file from the
// reference's data directory dir into the Manager's storage, filling the
// rows' size, sha256 and content_type. It returns the keys it wrote; on an
// error it has removed them again. The reference's own files are opened
// through an os.Root, so no row can name a path outside dir.
func (c *converter) copyContents(ctx context.Context, dir string) ([]string, error) {
	st := c.m.Storage()
	if st == nil {
		return nil, errors.New("importref: FilesDir is set but the Manager has no file storage (Config.DataDir or WithStorage)")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("importref: open the reference's data directory: %w", err)
	}
	defer root.Close()
	var written []string
	for _, f := range c.files {
		key := f.out["storage_key"].(string)
		src, tried, err := openContent(root, f)
		if err != nil {
			c.removeContents(ctx, written)
			return nil, rowError("files", f.n, f.out["id"], "its content is not in the data directory (looked for %s): %v", strings.Join(tried, ", "), err)
		}
		probe := &probe{sum: sha256.New()}
		size, err := st.Put(ctx, key, io.TeeReader(src, probe))
		_ = src.Close()
		if err != nil {
			c.removeContents(ctx, append(written, key))
			return nil, fmt.Errorf("importref: copy the content of files row %d: %w", f.n, err)
		}
		written = append(written, key)
		f.out["size"], f.out["sha256"], f.out["content_type"] = size, hex.EncodeToString(probe.sum.Sum(nil)), files.Sniff(probe.head)
	}
	return written, nil
}

// openContent opens a file's content: where the reference keeps it
// (users/<uploader>/<file_name>), else the users/... tail of its
// file_path (a data directory moved since).
func openContent(root *os.Root, f *fileRow) (io.ReadCloser, []string, error) {
	var tried []string
	candidates := []string{path.Join("users", f.createdBy, f.name)}
	if i := strings.LastIndex(f.path, "/users/"); i >= 0 {
		candidates = append(candidates, f.path[i+1:])
	}
	var last error = os.ErrNotExist
	for _, p := range candidates {
		if tried = append(tried, p); !isLocal(p) {
			continue
		}
		r, err := root.Open(p)
		if err == nil {
			if fi, err := r.Stat(); err == nil && fi.Mode().IsRegular() {
				return r, tried, nil
			}
			_ = r.Close()
			last = errors.New("not a regular file")
			continue
		}
		last = err
	}
	return nil, tried, last
}

// isLocal reports whether p is a relative slash path that stays inside
// its root.
func isLocal(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && p != ".." && !strings.HasPrefix(p, "../")
}

// removeContents deletes keys written by copyContents.
func (c *converter) removeContents(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := c.m.Storage().Delete(ctx, k); err != nil {
			c.m.Config().Logger.WarnContext(ctx, "importref: remove a copied file", "key", k, "err", err)
		}
	}
}

// probe keeps the start of what it is written, for files.Sniff, and
// hashes all of it.
type probe struct {
	head []byte
	sum  interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func (p *probe) Write(b []byte) (int, error) {
	if n := sniffBytes - len(p.head); n > 0 {
		p.head = append(p.head, b[:min(n, len(b))]...)
	}
	return p.sum.Write(b)
}
