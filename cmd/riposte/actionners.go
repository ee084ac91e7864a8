package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"sigs.k8s.io/yaml"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/policies"
)

func init() {
	subcommands = append(subcommands, newActionnersCommand, newRBACCommand, newReleaseCommand)
}

// allRegistry returns a registry of every actionner, host and Kubernetes, for
// commands that describe them. The Kubernetes actionners have no client and
// must not run.
func allRegistry() (*actionners.Registry, error) {
	return runRegistry(nil)
}

// actionnerInfos describes every actionner, sorted by name.
func actionnerInfos() ([]kubernetes.Info, error) {
	infos := kubernetes.Catalog()
	hosts, err := hostRegistry()
	if err != nil {
		return nil, err
	}
	for _, name := range hosts.Names() {
		a, _ := hosts.Get(name)
		info := kubernetes.Info{Name: name, Permissions: a.Permissions()}
		if d, ok := a.(actionners.Describer); ok {
			info.Summary, info.Parameters = d.Describe()
		}
		infos = append(infos, info)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos, nil
}

func newActionnersCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "actionners",
		Short: "Describe the actionners that policies can choose",
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List every actionner with its parameters and the permissions it needs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			infos, err := actionnerInfos()
			if err != nil {
				return err
			}
			return printActionners(cmd.OutOrStdout(), infos, v.GetString("output"))
		},
	}
	list.Flags().StringP("output", "o", "text", "output format: text or json")
	cmd.AddCommand(list)
	return cmd
}

func printActionners(w io.Writer, infos []kubernetes.Info, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, info := range infos {
			if err := enc.Encode(info); err != nil {
				return fmt.Errorf("write actionner %s: %w", info.Name, err)
			}
		}
		return nil
	case "text":
	default:
		return fmt.Errorf("invalid output format %q: use text or json", format)
	}
	for i, info := range infos {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s", info.Name)
		if len(info.Aliases) > 0 {
			fmt.Fprintf(w, " (aliases: %s)", strings.Join(info.Aliases, ", "))
		}
		fmt.Fprintf(w, "\n  %s\n", info.Summary)
		if len(info.Parameters) > 0 {
			fmt.Fprintln(w, "  parameters:")
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			names := make([]string, 0, len(info.Parameters))
			for name := range info.Parameters {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				fmt.Fprintf(tw, "    %s\t%s\n", name, info.Parameters[name])
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		fmt.Fprintln(w, "  needs:")
		for _, p := range info.Permissions {
			fmt.Fprintf(w, "    %s\n", describePermission(p))
		}
	}
	return nil
}

func describePermission(p actionners.Permission) string {
	var parts []string
	if len(p.Verbs) > 0 {
		groups := make([]string, len(p.APIGroups))
		for i, g := range p.APIGroups {
			if g == "" {
				g = "core"
			}
			groups[i] = g
		}
		parts = append(parts, fmt.Sprintf("%s on %s (API group %s)",
			strings.Join(p.Verbs, ","), strings.Join(p.Resources, ","), strings.Join(groups, ",")))
	}
	if p.Capability != "" {
		parts = append(parts, p.Capability+" on the host")
	}
	return strings.Join(parts, " and ")
}

func newRBACCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "Print the minimal ClusterRole for the actionners the policies use",
		Long: `Print, as YAML, the minimal ClusterRole that lets the responder run the
actionners named by the loaded policies (the default policies, or those of
--policies.dir), or those given with --actionners.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := allRegistry()
			if err != nil {
				return err
			}
			names := stringList(v, "actionners")
			if len(names) == 0 {
				set, err := policies.Load(cmd.Context(), policies.Options{Dir: v.GetString("policies.dir"), Registry: reg})
				if err != nil {
					return fmt.Errorf("load policies: %w", err)
				}
				names = set.Actionners()
			}
			role, err := kubernetes.ClusterRole(v.GetString("name"), reg, names)
			if err != nil {
				return fmt.Errorf("%w; known actionners: %s", err, strings.Join(reg.Names(), ", "))
			}
			if len(role.Rules) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "# The actionners %v need no Kubernetes permission.\n", names)
			}
			data, err := yaml.Marshal(role)
			if err != nil {
				return fmt.Errorf("encode ClusterRole: %w", err)
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().String("policies.dir", "", "directory of Rego policies (default: the embedded policies)")
	cmd.Flags().StringSlice("actionners", nil, "actionner names to grant, instead of those the policies use")
	cmd.Flags().String("name", "riposte-responder", "name of the ClusterRole")
	return cmd
}

func newReleaseCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release POD",
		Short: "Remove the network isolation that kubernetes:isolate put on a pod",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			namespace := v.GetString("namespace")
			if namespace == "" {
				return fmt.Errorf("missing namespace: pass --namespace (-n) with the pod's namespace")
			}
			logger, err := newLogger(v, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			client, err := kubernetesClient(v, logger)
			if err != nil {
				return err
			}
			res, err := kubernetes.Release(cmd.Context(), client, namespace, args[0])
			if err != nil {
				return fmt.Errorf("release pod %s/%s: %w", namespace, args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s: %s: %s\n", namespace, args[0], res.Outcome, res.Message)
			return nil
		},
	}
	cmd.Flags().StringP("namespace", "n", "", "namespace of the pod")
	cmd.Flags().String("kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)")
	return cmd
}

// kubernetesClient makes a Kubernetes client from the kubeconfig key,
// $KUBECONFIG or the in-cluster service account.
func kubernetesClient(v *viper.Viper, logger *slog.Logger) (*kubernetes.Client, error) {
	cfg, err := clusterConfig(v.GetString("kubeconfig"))
	if err != nil {
		return nil, fmt.Errorf("%w: pass --kubeconfig or set $KUBECONFIG", err)
	}
	return kubernetes.NewClient(cfg, logger)
}
