package testenv

import "testing"

// TestServicesSkipOutsideCI checks that a missing service skips a test on a
// developer's machine (CI unset) instead of failing it.
func TestServicesSkipOutsideCI(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(S3EndpointEnv, "")
	t.Setenv(RegistryEnv, "")
	for name, use := range map[string]func(testing.TB){
		"S3":       func(t testing.TB) { S3(t) },
		"Registry": func(t testing.TB) { Registry(t) },
	} {
		skipped := false
		t.Run(name, func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			use(t)
		})
		if !skipped {
			t.Errorf("%s without its variables did not skip the test", name)
		}
	}
}
