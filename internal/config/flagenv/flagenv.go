// Package flagenv backs every command-line flag of countersign with an
// environment variable (--data-dir: COUNTERSIGN_DATA_DIR) and checks the
// files flags name. Package config, the server's configuration, uses it;
// the client commands use it without linking config and what the server
// configures (codecs, OIDC, OCR, PDFium).
package flagenv

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// EnvPrefix starts the environment variable of every flag: --data-dir is
// also COUNTERSIGN_DATA_DIR.
const EnvPrefix = "COUNTERSIGN_"

// Env returns the environment variable that backs a flag.
func Env(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Setting names a flag and its variable for messages, as an operator may
// have set either: COUNTERSIGN_DATA_DIR (--data-dir).
func Setting(flag string) string { return fmt.Sprintf("%s (--%s)", Env(flag), flag) }

// FromEnv sets every flag the command line did not set from its
// environment variable, when that is set (even to nothing, as --flag= would):
// the flag wins over the variable and the variable over the default.
// flagOnly, if not nil, names the flags that never come from the
// environment. A value the flag refuses is an error naming the variable.
func FromEnv(fs *pflag.FlagSet, flagOnly func(name string) bool) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil || (flagOnly != nil && flagOnly(f.Name)) {
			return
		}
		if v, ok := os.LookupEnv(Env(f.Name)); ok {
			// The flag's own Set, not the FlagSet's: its error would name
			// the flag again, as if given on the command line.
			if setErr := f.Value.Set(v); setErr != nil {
				err = fmt.Errorf("%s: invalid value %q: %w", Setting(f.Name), v, setErr)
				return
			}
			f.Changed = true
		}
	})
	return err
}

// readFileAnnotation marks a flag whose value is a file countersign reads.
const readFileAnnotation = "countersign_reads_file"

// MarkFile marks the flag name of fs as naming a file countersign reads,
// which CheckFiles opens before anything starts.
func MarkFile(fs *pflag.FlagSet, name string) {
	fs.Lookup(name).Annotations = map[string][]string{readFileAnnotation: {"true"}}
}

// ReadsFile reports whether the flag names a file countersign reads: one
// marked with MarkFile, or any flag whose name ends in -file.
func ReadsFile(f *pflag.Flag) bool {
	return len(f.Annotations[readFileAnnotation]) > 0 || strings.HasSuffix(f.Name, "-file")
}

// CheckFiles opens every file a flag of fs names, so that a key, certificate
// or list that is set but cannot be read stops the command before it starts,
// with a message naming the setting, instead of leaving what it configures
// off.
func CheckFiles(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || !ReadsFile(f) || f.Value.String() == "" {
			return
		}
		var file *os.File
		if file, err = os.Open(f.Value.String()); err != nil {
			err = fmt.Errorf("%s: %w", Setting(f.Name), err)
			return
		}
		file.Close()
	})
	return err
}
