package pipeline

import (
	"io/fs"

	"dagger.io/dagger"
)

// DirectoryFromFS turns an fs.FS (such as the embedded example project)
// into a Directory without touching the host. Files are written 0644:
// stages that run a script set its mode themselves.
func DirectoryFromFS(c *dagger.Client, fsys fs.FS) (*dagger.Directory, error) {
	dir := c.Directory()
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		dir = dir.WithNewFile(name, string(data))
		return nil
	})
	return dir, err
}
