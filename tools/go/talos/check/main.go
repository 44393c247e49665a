// Command check runs Talos's own machine-config code (pkg/machinery, at the Talos version the examples run)
// for the tests: it loads machine configs the way a node does and validates them in a runtime mode, generates
// Talos's own configs from the same inputs and secrets bundle, applies patches with Talos's patcher, and makes a
// secrets bundle the way `talosctl gen secrets` does. It only calls pkg/machinery's public API; the runtime mode type is ours because
// Talos's own lives under internal/ (same semantics: metal installs, container does not).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
	"go.yaml.in/yaml/v4"
)

type mode struct{ name string }

func (m mode) String() string        { return m.name }
func (m mode) RequiresInstall() bool { return m.name == "metal" }
func (m mode) InContainer() bool     { return m.name == "container" }

type validateResult struct {
	File     string   `json:"file"`
	Warnings []string `json:"warnings"`
	Error    string   `json:"error,omitempty"`
}

// validate loads each file with Talos's strict loader and validates it as `talosctl validate --mode` does.
func validate(args []string) error {
	fs := flag.NewFlagSet("validate", flag.ExitOnError)
	runtime := fs.String("mode", "metal", "runtime mode: metal or container")
	strict := fs.Bool("strict", false, "warnings are errors")
	_ = fs.Parse(args)
	if *runtime != "metal" && *runtime != "container" {
		return fmt.Errorf("unknown mode %q", *runtime)
	}
	options := []validation.Option{validation.WithLocal()}
	if *strict {
		options = append(options, validation.WithStrict())
	}
	out := json.NewEncoder(os.Stdout)
	for _, file := range fs.Args() {
		result := validateResult{File: file, Warnings: []string{}}
		data, err := os.ReadFile(file)
		if err == nil {
			var cfg config.Provider
			if cfg, err = configloader.NewFromBytes(data); err == nil {
				result.Warnings, err = cfg.Validate(mode{*runtime}, options...)
				if result.Warnings == nil {
					result.Warnings = []string{}
				}
			}
		}
		if err != nil {
			result.Error = err.Error()
		}
		if err := out.Encode(result); err != nil {
			return err
		}
	}
	return nil
}

// generateInput is what `talosctl gen config` is told, as flags, for one cluster.
type generateInput struct {
	ClusterName                    string   `json:"clusterName"`
	Endpoint                       string   `json:"endpoint"`
	KubernetesVersion              string   `json:"kubernetesVersion"`
	TalosVersion                   string   `json:"talosVersion"`
	Secrets                        string   `json:"secrets"`
	InstallDisk                    string   `json:"installDisk,omitempty"`
	InstallImage                   string   `json:"installImage,omitempty"`
	AdditionalSANs                 []string `json:"additionalSANs,omitempty"`
	DNSDomain                      string   `json:"dnsDomain,omitempty"`
	KubePrismPort                  int      `json:"kubePrismPort,omitempty"`
	AllowSchedulingOnControlPlanes bool     `json:"allowSchedulingOnControlPlanes,omitempty"`
}

// generateConfigs writes Talos's own controlplane.yaml and worker.yaml for the input, without comments.
func generateConfigs(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ExitOnError)
	inputFile := fs.String("input", "", "JSON file with the generator's inputs")
	outDir := fs.String("out", "", "folder for controlplane.yaml and worker.yaml")
	_ = fs.Parse(args)
	raw, err := os.ReadFile(*inputFile)
	if err != nil {
		return err
	}
	var in generateInput
	if err = json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("%s: %w", *inputFile, err)
	}
	contract, err := config.ParseContractFromVersion(in.TalosVersion)
	if err != nil {
		return err
	}
	bundle, err := secrets.LoadBundle(in.Secrets)
	if err != nil {
		return fmt.Errorf("%s: %w", in.Secrets, err)
	}
	if err = bundle.Validate(); err != nil {
		return fmt.Errorf("%s: %w", in.Secrets, err)
	}
	options := []generate.Option{generate.WithVersionContract(contract), generate.WithSecretsBundle(bundle)}
	if in.InstallDisk != "" {
		options = append(options, generate.WithInstallDisk(in.InstallDisk))
	}
	if in.InstallImage != "" {
		options = append(options, generate.WithInstallImage(in.InstallImage))
	}
	if len(in.AdditionalSANs) > 0 {
		options = append(options, generate.WithAdditionalSubjectAltNames(in.AdditionalSANs))
	}
	if in.DNSDomain != "" {
		options = append(options, generate.WithDNSDomain(in.DNSDomain))
	}
	if in.KubePrismPort != 0 {
		options = append(options, generate.WithKubePrismPort(in.KubePrismPort))
	}
	if in.AllowSchedulingOnControlPlanes {
		options = append(options, generate.WithAllowSchedulingOnControlPlanes(true))
	}
	input, err := generate.NewInput(in.ClusterName, in.Endpoint, in.KubernetesVersion, options...)
	if err != nil {
		return err
	}
	for file, kind := range map[string]machine.Type{"controlplane.yaml": machine.TypeControlPlane, "worker.yaml": machine.TypeWorker} {
		cfg, err := input.Config(kind)
		if err != nil {
			return err
		}
		data, err := cfg.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
		if err != nil {
			return err
		}
		if err = os.WriteFile(filepath.Join(*outDir, file), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// patch applies patch files to a config with Talos's own patcher (as `talosctl machineconfig patch` does) and
// prints the result without comments.
func patch(args []string) error {
	fs := flag.NewFlagSet("patch", flag.ExitOnError)
	base := fs.String("config", "", "the machine config to patch")
	_ = fs.Parse(args)
	data, err := os.ReadFile(*base)
	if err != nil {
		return err
	}
	patches := make([]configpatcher.Patch, 0, fs.NArg())
	for _, file := range fs.Args() {
		raw, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		p, err := configpatcher.LoadPatch(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		patches = append(patches, p)
	}
	out, err := configpatcher.Apply(configpatcher.WithBytes(data), patches)
	if err != nil {
		return err
	}
	cfg, err := out.Config()
	if err != nil {
		return err
	}
	encoded, err := cfg.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(encoded)
	return err
}

// genSecrets writes a bundle as `talosctl gen secrets` does (same constructor, clock and encoding).
func genSecrets(args []string) error {
	fs := flag.NewFlagSet("gen-secrets", flag.ExitOnError)
	out := fs.String("out", "", "file to write")
	talosVersion := fs.String("talos-version", "v1.13", "version contract")
	_ = fs.Parse(args)
	contract, err := config.ParseContractFromVersion(*talosVersion)
	if err != nil {
		return err
	}
	bundle, err := secrets.NewBundle(secrets.NewFixedClock(time.Now()), contract)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(bundle)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, data, 0o600)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: check validate|generate|gen-secrets|patch [flags]")
		os.Exit(2)
	}
	commands := map[string]func([]string) error{"validate": validate, "generate": generateConfigs, "gen-secrets": genSecrets, "patch": patch}
	command, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := command(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
