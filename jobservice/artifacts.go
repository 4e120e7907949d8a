package jobservice

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// artifactStore keeps staged artifacts content-addressed on disk:
// root/tmp holds files being written, root/sha256/<hex> the finished ones.
type artifactStore struct {
	root string // absolute DataDir/artifacts
	tmp  string
	dir  string
}

func newArtifactStore(dataDir string) (*artifactStore, error) {
	root, err := filepath.Abs(filepath.Join(dataDir, "artifacts"))
	if err != nil {
		return nil, fmt.Errorf("resolving artifact directory under %q: %w", dataDir, err)
	}
	a := &artifactStore{root: root, tmp: filepath.Join(root, "tmp"), dir: filepath.Join(root, "sha256")}
	// Partial files from an earlier process are garbage.
	if err := os.RemoveAll(a.tmp); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", a.tmp, err)
	}
	for _, d := range []string{a.tmp, a.dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating artifact directory: %w", err)
		}
	}
	return a, nil
}

// artifactWriter receives one artifact's bytes, hashing them on the way.
type artifactWriter struct {
	store *artifactStore
	f     *os.File
	h     hash.Hash
	n     int64
}

func (a *artifactStore) create() (*artifactWriter, error) {
	f, err := os.CreateTemp(a.tmp, "staging-*")
	if err != nil {
		return nil, fmt.Errorf("creating temporary artifact file: %w", err)
	}
	return &artifactWriter{store: a, f: f, h: sha256.New()}, nil
}

func (w *artifactWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("writing artifact: %w", err)
	}
	return n, nil
}

// abort throws the partial file away.
func (w *artifactWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// errShaMismatch marks content that does not hash to the declared sha256.
var errShaMismatch = errors.New("sha256 mismatch")

// commit finishes the artifact: it checks the hash against want (if not
// empty) and moves the file to its content address, keeping an existing
// copy if there is one. It returns the absolute path and hex sha256.
func (w *artifactWriter) commit(want string) (path, sum string, err error) {
	sum = hex.EncodeToString(w.h.Sum(nil))
	if err := w.f.Sync(); err != nil {
		w.abort()
		return "", "", fmt.Errorf("syncing artifact: %w", err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return "", "", fmt.Errorf("closing artifact: %w", err)
	}
	if want != "" && !strings.EqualFold(want, sum) {
		os.Remove(w.f.Name())
		return "", "", fmt.Errorf("%w: declared %s, received %d bytes hashing to %s", errShaMismatch, want, w.n, sum)
	}
	path = filepath.Join(w.store.dir, sum)
	if _, err := os.Stat(path); err == nil {
		os.Remove(w.f.Name()) // same content already stored
		return path, sum, nil
	}
	if err := os.Chmod(w.f.Name(), 0o644); err != nil {
		os.Remove(w.f.Name())
		return "", "", fmt.Errorf("setting artifact permissions: %w", err)
	}
	if err := os.Rename(w.f.Name(), path); err != nil {
		os.Remove(w.f.Name())
		return "", "", fmt.Errorf("storing artifact %s: %w", sum, err)
	}
	return path, sum, nil
}

// within reports whether path (after cleaning and resolving symlinks) lies
// inside root. It returns the resolved path.
func within(root, path string) (string, bool) {
	if !filepath.IsAbs(path) {
		return "", false
	}
	resolved, err := filepath.EvalSymlinks(filepath.Clean(path))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			resolved = filepath.Clean(path)
		} else {
			return "", false
		}
	}
	roots := []string{root}
	if realRoot, err := filepath.EvalSymlinks(root); err == nil && realRoot != root {
		roots = append(roots, realRoot)
	}
	for _, r := range roots {
		rel, err := filepath.Rel(r, resolved)
		if err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return resolved, true
		}
	}
	return "", false
}
