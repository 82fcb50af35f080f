// Command privacyd runs an agency's privacy service (pseudonym vault).
//
//	privacyd [serve] --data-dir D --kek-file K --domains national,dublin \
//	    --listen :8443 --tls-cert C --tls-key K --client-ca CA [--init]
//	privacyd keygen     --kek-file K
//	privacyd rotate-kek --kek-file K --data-dir D --domains ...
//	privacyd retire-kek --kek-file K --data-dir D --domains ... --version N
//	privacyd backup     --out F  (--data-dir D ... | --server URL --tls-cert --tls-key --server-ca)
//	privacyd restore    --in F   (--data-dir D ... | --server URL --tls-cert --tls-key --server-ca)
//
// Every flag falls back to the environment variable PRIVACYD_<FLAG> (upper
// case, dashes as underscores); the keyring itself may come from PRIVACYD_KEK.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caseledger/caseledger/internal/diskspace"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

func main() {
	cmd, args := "serve", os.Args[1:]
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cmd, args); err != nil {
		fmt.Fprintf(os.Stderr, "privacyd %s: %v\n", cmd, err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// env returns PRIVACYD_<NAME> or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("PRIVACYD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); ok {
		return v
	}
	return def
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type common struct {
	fs                                  *flag.FlagSet
	dataDir, domains, kekFile, tombFile *string
	logLevel                            *string
}

func newCommon(name string) *common {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	str := func(n, def, usage string) *string { return fs.String(n, env(n, def), usage) }
	return &common{
		fs:       fs,
		dataDir:  str("data-dir", "", "data directory (Badger, key slots)"),
		domains:  str("domains", "national,dublin", "pseudonymisation domains, comma separated"),
		kekFile:  str("kek-file", "", "keyring file (0600, outside the data directory); else PRIVACYD_KEK holds the keyring"),
		tombFile: str("tombstone-file", "", "tombstone log (default <data-dir>/tombstones.log; keep it with the KEK)"),
		logLevel: str("log-level", "info", "debug, info, warn, error"),
	}
}

func (c *common) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*c.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

func (c *common) storeOptions(kek privacy.KeyWrapper) privacy.Options {
	return privacy.Options{Dir: *c.dataDir, Domains: list(*c.domains), KEK: kek,
		TombstonePath: *c.tombFile, Logger: c.logger()}
}

func (c *common) openStore(ctx context.Context) (*privacy.Store, error) {
	kek, err := privacy.LoadKEK(*c.kekFile, os.Getenv("PRIVACYD_KEK"))
	if err != nil {
		return nil, err
	}
	return privacy.Open(ctx, c.storeOptions(kek))
}

func printJSON(v any) {
	out, _ := json.Marshal(v)
	fmt.Println(string(out))
}

func run(ctx context.Context, cmd string, args []string) error {
	switch cmd {
	case "serve":
		return serve(ctx, args)
	case "keygen":
		c := newCommon(cmd)
		if err := c.fs.Parse(args); err != nil {
			return err
		}
		if *c.kekFile == "" {
			return errors.New("--kek-file is required")
		}
		_, err := privacy.CreateKeyringFile(*c.kekFile)
		return err
	case "rotate-kek":
		c := newCommon(cmd)
		if err := c.fs.Parse(args); err != nil {
			return err
		}
		v, n, err := privacy.RotateKEKFile(ctx, *c.kekFile, c.storeOptions(nil))
		if err == nil {
			fmt.Printf("active KEK version %d, %d data keys re-wrapped\n", v, n)
		}
		return err
	case "retire-kek":
		c := newCommon(cmd)
		version := c.fs.Uint("version", 0, "KEK version to destroy")
		if err := c.fs.Parse(args); err != nil {
			return err
		}
		return privacy.RetireKEKVersion(ctx, *c.kekFile, uint32(*version), c.storeOptions(nil))
	case "backup", "restore":
		return backupRestore(ctx, cmd, args)
	default:
		return fmt.Errorf("unknown command %q (serve, keygen, rotate-kek, retire-kek, backup, restore): %w", cmd, flag.ErrHelp)
	}
}

func serve(ctx context.Context, args []string) error {
	c := newCommon("serve")
	fs := c.fs
	str := func(n, def, usage string) *string { return fs.String(n, env(n, def), usage) }
	listen := str("listen", ":8443", "mTLS API address")
	opsListen := str("ops-listen", "", "optional plain-HTTP address for /healthz, /readyz, /metrics")
	cert := str("tls-cert", "", "server certificate (PEM)")
	key := str("tls-key", "", "server key (PEM)")
	clientCA := str("client-ca", "", "agency CA that signs client certificates (PEM)")
	allowCN := str("allow-cn", "", "allowed client certificate CNs, comma separated (empty: any the CA signed)")
	allowOU := str("allow-ou", "", "allowed client certificate OUs, comma separated")
	allowKey := str("allow-key-sha256", "", "pinned client public keys: hex SHA-256 of the certificate's SubjectPublicKeyInfo, comma separated (empty: no pin)")
	adminCN := str("admin-cn", "", "client CNs allowed to call /v1/admin/* (backup, restore)")
	adminKey := str("admin-key-sha256", "", "pinned admin public keys, like --allow-key-sha256 (empty: no pin)")
	initKEK, _ := strconv.ParseBool(env("init", "false"))
	fs.BoolVar(&initKEK, "init", initKEK, "create the keyring file (0600) if it does not exist")
	minFree := str("min-free", "1GiB", "readiness is false while a folder (data, tombstones, kek) has less free space (bytes, or with KiB/MiB/GiB; 0: off)")
	shutdown := fs.Duration("shutdown-timeout", 15*time.Second, "grace period for calls in flight")
	profiling := fs.Bool("pprof", false, "serve Go's /debug/pprof/ on the ops listener (loopback or a management network only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	minFreeBytes, err := diskspace.ParseBytes(*minFree)
	if err != nil {
		return fmt.Errorf("--min-free: %w", err)
	}
	if *profiling && *opsListen == "" {
		return fmt.Errorf("--pprof needs --ops-listen: %w", flag.ErrHelp)
	}
	if initKEK && *c.kekFile != "" {
		if _, err := os.Stat(*c.kekFile); errors.Is(err, os.ErrNotExist) {
			if _, err := privacy.CreateKeyringFile(*c.kekFile); err != nil {
				return err
			}
		}
	}
	kek, err := privacy.LoadKEK(*c.kekFile, os.Getenv("PRIVACYD_KEK"))
	if err != nil {
		return err
	}
	tlsCfg, err := privacy.ServerTLSConfig(*cert, *key, *clientCA)
	if err != nil {
		return err
	}
	opts := c.storeOptions(kek)
	return privacy.RunDaemon(ctx, privacy.DaemonConfig{
		Store: opts, Listen: *listen, OpsListen: *opsListen, Profiling: *profiling, TLS: tlsCfg,
		AllowedCNs: list(*allowCN), AllowedOUs: list(*allowOU), AllowedKeys: list(*allowKey), AdminCNs: list(*adminCN), AdminKeys: list(*adminKey),
		ShutdownTimeout: *shutdown, Audit: opts.Logger.With("log", "audit"),
		KEKFile: *c.kekFile, MinFreeBytes: minFreeBytes,
	})
}

func backupRestore(ctx context.Context, cmd string, args []string) error {
	c := newCommon(cmd)
	fs := c.fs
	str := func(n, def, usage string) *string { return fs.String(n, env(n, def), usage) }
	file := fs.String(map[string]string{"backup": "out", "restore": "in"}[cmd], "", "backup file")
	server := str("server", "", "URL of a running service (else the store in --data-dir is opened; the service must be stopped)")
	cert := str("tls-cert", "", "admin client certificate (PEM), with --server")
	key := str("tls-key", "", "admin client key (PEM), with --server")
	serverCA := str("server-ca", "", "CA of the service certificate (PEM), with --server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("backup file (--out / --in) is required")
	}
	if *server != "" {
		tlsCfg, err := privacy.ClientTLSConfig(*cert, *key, *serverCA)
		if err != nil {
			return err
		}
		cl, err := privacy.NewClient(*server, tlsCfg)
		if err != nil {
			return err
		}
		defer cl.Close()
		if cmd == "backup" {
			return privacy.BackupFileFromServer(ctx, cl, *file)
		}
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := cl.Restore(ctx, f)
		printJSON(st)
		return err
	}
	s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if cmd == "backup" {
		st, err := privacy.BackupToFile(ctx, s, *file)
		printJSON(st)
		return err
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := s.Restore(ctx, f)
	printJSON(st)
	return err
}
