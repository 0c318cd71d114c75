package pipeline

import (
	"strings"

	"dagger.io/dagger"
)

// RegistryAuth is a registry login. The password is a Dagger secret: it
// reaches the engine only as one.
type RegistryAuth struct {
	Username string
	Password *dagger.Secret
}

// Apply gives ctr the login for ref's registry (the host part of ref); a
// nil or empty login leaves ctr as it is.
func (a *RegistryAuth) Apply(ctr *dagger.Container, ref string) *dagger.Container {
	if a == nil || a.Username == "" || a.Password == nil {
		return ctr
	}
	host, _, _ := strings.Cut(ref, "/")
	return ctr.WithRegistryAuth(host, a.Username, a.Password)
}
