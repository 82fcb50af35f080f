package network

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// FindModuleDir walks up from dir to the caseledger module root (the folder whose go.mod declares
// the module).
func FindModuleDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module github.com/caseledger/caseledger\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("caseledger module root not found above the working directory")
		}
		dir = parent
	}
}

// EnsureFabric returns the folder of the pinned Fabric binaries, building them once if the cache
// outside the clone lacks them (scripts/fabric-bins.sh). CASELEDGER_FABRIC_BIN overrides it.
func EnsureFabric(ctx context.Context, moduleDir string) (string, error) {
	if d := os.Getenv("CASELEDGER_FABRIC_BIN"); d != "" {
		return d, nil
	}
	cmd := exec.CommandContext(ctx, filepath.Join(moduleDir, "scripts", "fabric-bins.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("fabric binaries: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
