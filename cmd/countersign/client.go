package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/datadir"
)

// defaultServer is the API address when nothing says otherwise.
const defaultServer = "http://127.0.0.1:8080"

// clientFlags are the flags of every command that talks to the API.
type clientFlags struct {
	server  string
	token   string
	dataDir string
}

func (f *clientFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.server, "server", "", "base URL of the countersign API (env COUNTERSIGN_SERVER; default: the dev stack in --data-dir, else "+defaultServer+")")
	fs.StringVar(&f.token, "token", "", "API token (env COUNTERSIGN_TOKEN; default: the dev admin token in --data-dir)")
	fs.StringVar(&f.dataDir, "data-dir", ".countersign", "dev data dir to find the server and admin token in (env COUNTERSIGN_DATA_DIR)")
}

// client resolves the server and token: flag, then environment (as for
// every flag), then the dev data dir.
func (f *clientFlags) client(cmd *cobra.Command) (*apiclient.Client, error) {
	server := f.server
	if server == "" {
		server = defaultServer
		if raw, err := os.ReadFile(filepath.Join(f.dataDir, datadir.DevFile)); err == nil {
			var info datadir.DevInfo
			if json.Unmarshal(raw, &info) == nil && info.API != "" {
				server = info.API
			}
		}
	}
	token := f.token
	if token == "" {
		raw, err := os.ReadFile(filepath.Join(f.dataDir, datadir.AdminTokenFile))
		if err != nil {
			return nil, exitError{code: 2, err: fmt.Errorf("no API token: pass --token, set COUNTERSIGN_TOKEN, or run in a folder whose %s holds a dev stack", f.dataDir)}
		}
		token = strings.TrimSpace(string(raw))
	}
	c := apiclient.New(server, token)
	c.Channel = countersign.ChannelCLI
	c.RateLimitRetries = rateLimitRetries
	return c, nil
}

// rateLimitRetries is how often the CLI sends a call the API refused for
// its token's rate again, after the wait the API asks for.
const rateLimitRetries = 10

// friendly turns API errors into one-line messages for a terminal, and
// says what to do when nothing answers at the API's address.
func friendly(err error) error {
	var apiErr *apiclient.Error
	if errors.As(err, &apiErr) {
		return errors.New(apiErr.Message)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w\nIs countersign running there? make dev starts the dev stack from a clone of its repository (countersign dev, anywhere); --server or COUNTERSIGN_SERVER points the CLI at another API", err)
	}
	return err
}

// printJSON writes v as indented JSON, for the --json output of commands.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
