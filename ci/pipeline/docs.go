package pipeline

import "dagger.io/dagger"

// Docs builds the project's mdBook site with Debian's mdbook. It returns
// nil when the project declares no docs folder.
func (p *Pipeline) Docs() *dagger.Directory {
	dir := p.cfg.Project.Docs
	if dir == "" {
		return nil
	}
	return p.c.Container().From(p.cfg.BaseImage).
		WithExec([]string{"sh", "-c", "set -eu; export DEBIAN_FRONTEND=noninteractive; apt-get update -q; apt-get install -y -q --no-install-recommends mdbook; rm -rf /var/lib/apt/lists/*"}).
		WithMountedDirectory("/book", p.cfg.Source.Directory(dir)).
		WithWorkdir("/book").
		WithExec([]string{"mdbook", "build", "--dest-dir", "/site"}).
		Directory("/site")
}
