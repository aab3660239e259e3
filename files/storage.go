package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is returned (wrapped) by Storage.Open for a key that holds
// nothing.
var ErrNotFound = errors.New("files: not found")

// ErrInvalidKey is returned for a key that is not a relative slash-separated
// path of safe names.
var ErrInvalidKey = errors.New("files: invalid key")

// Storage keeps file contents by key. A key is a relative path with slashes
// ("users/<uuid>/<name>"); each element is a name SafeName accepts
// unchanged. Implementations must be safe for concurrent use.
type Storage interface {
	// Put stores everything r yields under key, replacing what was there,
	// and returns the number of bytes written. A reader error (a size limit
	// tripping, say) or a crash leaves the previous content (or nothing)
	// under key, never part of the new one.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the content under key; an error matching ErrNotFound when
	// there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the content under key; a missing key is no error.
	Delete(ctx context.Context, key string) error
	// DeleteAll removes every key that starts with prefix + "/" (a folder
	// and all it holds); a missing folder is no error.
	DeleteAll(ctx context.Context, prefix string) error
}

// Disk is a Storage in a directory of the local file system: key a/b/c is
// the file Root/a/b/c. Writes go to a temporary file in the same directory,
// are synced and then renamed over the target, so a crash never leaves half
// a file under a key.
type Disk struct {
	root string
}

// NewDisk returns a Disk rooted at dir, creating it (mode 0750) if needed.
func NewDisk(dir string) (*Disk, error) {
	if dir == "" {
		return nil, errors.New("files: disk storage needs a directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("files: create %s: %w", abs, err)
	}
	return &Disk{root: abs}, nil
}

// Root returns the directory the Disk stores under.
func (d *Disk) Root() string { return d.root }

// tempPrefix starts the names of files being written; SafeName never
// returns a name starting with a dot, so no key can name one.
const tempPrefix = ".tmp-"

// path returns the file system path of key, refusing any key that could
// leave the root.
func (d *Disk) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// ValidKey reports whether key is a relative slash-separated path whose
// every element SafeName leaves unchanged.
func ValidKey(key string) bool {
	if key == "" || len(key) > 1024 {
		return false
	}
	for elem := range strings.SplitSeq(key, "/") {
		if s, err := SafeName(elem); err != nil || s != elem {
			return false
		}
	}
	return true
}

// Put implements Storage.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, fmt.Errorf("files: create folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return 0, fmt.Errorf("files: create temporary file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, ctxReader{ctx: ctx, r: r})
	if err != nil {
		return n, err
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("files: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("files: close: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return n, fmt.Errorf("files: chmod: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return n, fmt.Errorf("files: rename: %w", err)
	}
	done = true
	syncDir(dir)
	return n, nil
}

// syncDir makes a rename in dir durable (best effort: not every system can
// sync a directory).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}

// Open implements Storage.
func (d *Disk) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("files: open: %w", err)
	}
	return f, nil
}

// Delete implements Storage.
func (d *Disk) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("files: delete: %w", err)
	}
	syncDir(filepath.Dir(p))
	return nil
}

// DeleteAll implements Storage. Removal is idempotent: if it is cut off
// half-way, calling it again finishes the job.
func (d *Disk) DeleteAll(_ context.Context, prefix string) error {
	p, err := d.path(prefix)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("files: delete folder: %w", err)
	}
	syncDir(filepath.Dir(p))
	return nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
