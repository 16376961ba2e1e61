// kubelet-oracle says which image settings kubelet would run with, reading its command
// line and files with the very libraries kubelet decodes them with: spf13/pflag (with
// kubelet's '_' -> '-' normalization), sigs.k8s.io/yaml (YAML 1.1 via go-yaml v2, to
// JSON) and sigs.k8s.io/json (case-sensitive). It is a test oracle, not product code.
//
// Usage: kubelet-oracle [-root DIR] -- KUBELET-FLAGS...
// Paths given by --config and --config-dir are read under DIR. Prints one JSON object:
// the effective values (defaults applied), or {"error": "..."} and exit status 1 when
// kubelet would refuse to start.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The managed fields of KubeletConfiguration v1beta1, as pointers: nil means unset.
type managed struct {
	APIVersion                  string  `json:"apiVersion"`
	Kind                        string  `json:"kind"`
	NodeStatusMaxImages         *int32  `json:"nodeStatusMaxImages"`
	ImageGCHighThresholdPercent *int32  `json:"imageGCHighThresholdPercent"`
	ImageGCLowThresholdPercent  *int32  `json:"imageGCLowThresholdPercent"`
	ImageMinimumGCAge           *string `json:"imageMinimumGCAge"`
	ImageMaximumGCAge           *string `json:"imageMaximumGCAge"`
	SerializeImagePulls         *bool   `json:"serializeImagePulls"`
	MaxParallelImagePulls       *int32  `json:"maxParallelImagePulls"`
}

func die(format string, args ...interface{}) {
	out, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, args...)})
	fmt.Println(string(out))
	os.Exit(1)
}

// kubelet's apimachinery decoder takes a buffer whose first non-space byte is '{' as JSON.
func isJSON(data []byte) bool {
	trimmed := bytes.TrimLeftFunc(data, unicode.IsSpace)
	return bytes.HasPrefix(trimmed, []byte("{"))
}

func toJSON(path string, data []byte) []byte {
	if isJSON(data) {
		return data
	}
	out, err := yaml.YAMLToJSON(data)
	if err != nil {
		die("%s: %v", path, err)
	}
	return out
}

func decode(path string, data []byte) managed {
	var m managed
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &m); err != nil {
		die("%s: %v", path, err)
	}
	if m.Kind != "KubeletConfiguration" || !strings.HasPrefix(m.APIVersion, "kubelet.config.k8s.io/") {
		die("%s: not a KubeletConfiguration", path)
	}
	return m
}

// RFC 7386 JSON merge patch.
func mergePatch(target, patch interface{}) interface{} {
	p, ok := patch.(map[string]interface{})
	if !ok {
		return patch
	}
	t, ok := target.(map[string]interface{})
	if !ok {
		t = map[string]interface{}{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = mergePatch(t[k], v)
		}
	}
	return t
}

func readConfig(root, config, dir string) []byte {
	base := []byte(`{}`)
	if config != "" {
		data, err := os.ReadFile(filepath.Join(root, config))
		if err != nil {
			die("%v", err)
		}
		base = toJSON(config, data)
		decode(config, base)
	}
	if dir == "" {
		return base
	}
	var merged interface{}
	if err := json.Unmarshal(base, &merged); err != nil {
		die("%s: %v", config, err)
	}
	err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Ext(d.Name()) != ".conf" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		js := toJSON(path, data)
		decode(path, js)
		var patch interface{}
		if err := json.Unmarshal(js, &patch); err != nil {
			return err
		}
		merged = mergePatch(merged, patch)
		return nil
	})
	if err != nil {
		die("%v", err)
	}
	out, _ := json.Marshal(merged)
	return out
}

func main() {
	root := "/"
	args := os.Args[1:]
	if len(args) >= 2 && args[0] == "-root" {
		root, args = args[1], args[2:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	fset := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	fset.ParseErrorsWhitelist.UnknownFlags = true
	// kubelet's cliflag.WordSepNormalizeFunc.
	fset.SetNormalizeFunc(func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.Replace(name, "_", "-", -1))
	})
	fset.SetOutput(os.Stderr)
	config := fset.String("config", "", "")
	configDir := fset.String("config-dir", "", "")
	maxImages := fset.Int32("node-status-max-images", 50, "")
	high := fset.Int32("image-gc-high-threshold", 85, "")
	low := fset.Int32("image-gc-low-threshold", 80, "")
	minAge := fset.Duration("minimum-image-gc-age", 2*time.Minute, "")
	serialize := fset.Bool("serialize-image-pulls", true, "")
	if err := fset.Parse(args); err != nil {
		die("flags: %v", err)
	}
	var m managed
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(readConfig(root, *config, *configDir), &m); err != nil {
		die("merged configuration: %v", err)
	}
	result := map[string]interface{}{}
	pick := func(name string, fromFile interface{}, isNil bool, def interface{}) {
		if isNil {
			result[name] = def
		} else {
			result[name] = fromFile
		}
	}
	pick("nodeStatusMaxImages", m.NodeStatusMaxImages, m.NodeStatusMaxImages == nil, int32(50))
	pick("imageGCHighThresholdPercent", m.ImageGCHighThresholdPercent, m.ImageGCHighThresholdPercent == nil, int32(85))
	pick("imageGCLowThresholdPercent", m.ImageGCLowThresholdPercent, m.ImageGCLowThresholdPercent == nil, int32(80))
	pick("serializeImagePulls", m.SerializeImagePulls, m.SerializeImagePulls == nil, true)
	pick("maxParallelImagePulls", m.MaxParallelImagePulls, m.MaxParallelImagePulls == nil, nil)
	ages := map[string]*string{"imageMinimumGCAge": m.ImageMinimumGCAge, "imageMaximumGCAge": m.ImageMaximumGCAge}
	for name, v := range ages {
		d := time.Duration(0)
		if name == "imageMinimumGCAge" {
			d = 2 * time.Minute
		}
		if v != nil {
			parsed, err := time.ParseDuration(*v)
			if err != nil {
				die("%s: %v", name, err)
			}
			d = parsed
		}
		result[name] = d.String()
	}
	// Flags beat every file.
	if fset.Changed("node-status-max-images") {
		result["nodeStatusMaxImages"] = *maxImages
	}
	if fset.Changed("image-gc-high-threshold") {
		result["imageGCHighThresholdPercent"] = *high
	}
	if fset.Changed("image-gc-low-threshold") {
		result["imageGCLowThresholdPercent"] = *low
	}
	if fset.Changed("minimum-image-gc-age") {
		result["imageMinimumGCAge"] = minAge.String()
	}
	if fset.Changed("serialize-image-pulls") {
		result["serializeImagePulls"] = *serialize
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}
