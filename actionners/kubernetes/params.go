package kubernetes

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riposte-sec/riposte/actionners"
)

// params reads an action's parameters. Each getter takes the parameter's
// names: the documented one first, then aliases such as Falco Talon's. A
// getter records a problem instead of failing, so that one call to err
// reports every invalid and unknown parameter at once.
type params struct {
	actionner string
	values    map[string]any
	used      map[string]bool
	errs      []error
}

func newParams(actionner string, values map[string]any) *params {
	return &params{actionner: actionner, values: values, used: map[string]bool{}}
}

func (p *params) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("parameter %q: %s", name, fmt.Sprintf(format, args...)))
}

// lookup returns the value under the first of names that is set. Setting two
// of the names is an error, because their values could disagree.
func (p *params) lookup(names ...string) (name string, value any, ok bool) {
	for _, n := range names {
		p.used[n] = true
		v, set := p.values[n]
		if !set {
			continue
		}
		if ok {
			p.fail(n, "set together with %q, which means the same: keep one", name)
			continue
		}
		name, value, ok = n, v, true
	}
	if ok && value == nil {
		return name, nil, false
	}
	return name, value, ok
}

func (p *params) int(def int64, names ...string) int64 {
	name, v, ok := p.lookup(names...)
	if !ok {
		return def
	}
	n, err := toInt(v)
	if err != nil {
		p.fail(name, "%v", err)
		return def
	}
	return n
}

func toInt(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case uint32:
		return int64(n), nil
	case uint64:
		if n > math.MaxInt64 {
			return 0, fmt.Errorf("%d is too large", n)
		}
		return int64(n), nil
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, fmt.Errorf("expected a whole number, got %v", n)
		}
		return int64(n), nil
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0, fmt.Errorf("expected a whole number, got %s", n)
		}
		return i, nil
	default:
		return 0, fmt.Errorf("expected a whole number, got %T %v", v, v)
	}
}

func (p *params) bool(def bool, names ...string) bool {
	name, v, ok := p.lookup(names...)
	if !ok {
		return def
	}
	switch b := v.(type) {
	case bool:
		return b
	case string:
		parsed, err := strconv.ParseBool(b)
		if err == nil {
			return parsed
		}
	}
	p.fail(name, "expected true or false, got %T %v", v, v)
	return def
}

func (p *params) string(def string, names ...string) string {
	name, v, ok := p.lookup(names...)
	if !ok {
		return def
	}
	s, isString := v.(string)
	if !isString {
		p.fail(name, "expected a string, got %T %v", v, v)
		return def
	}
	return s
}

// strings accepts a list of strings or a single string.
func (p *params) strings(names ...string) []string {
	name, v, ok := p.lookup(names...)
	if !ok {
		return nil
	}
	switch list := v.(type) {
	case string:
		return []string{list}
	case []string:
		return list
	case []any:
		out := make([]string, 0, len(list))
		for i, item := range list {
			s, isString := item.(string)
			if !isString {
				p.fail(name, "item %d: expected a string, got %T %v", i, item, item)
				continue
			}
			out = append(out, s)
		}
		return out
	default:
		p.fail(name, "expected a list of strings, got %T %v", v, v)
		return nil
	}
}

// stringMap reads a map whose values are strings, numbers or booleans,
// converted to strings. A null or empty value is returned as nil, which the
// label and annotate actionners read as "remove the key", as Falco Talon does.
func (p *params) stringMap(names ...string) (map[string]*string, bool) {
	name, v, ok := p.lookup(names...)
	if !ok {
		return nil, false
	}
	var in map[string]any
	switch m := v.(type) {
	case map[string]any:
		in = m
	case map[string]string:
		in = make(map[string]any, len(m))
		for k, s := range m {
			in[k] = s
		}
	default:
		p.fail(name, "expected a map of keys to values, got %T %v", v, v)
		return nil, true
	}
	out := make(map[string]*string, len(in))
	for k, item := range in {
		switch s := item.(type) {
		case nil:
			out[k] = nil
		case string:
			if s == "" {
				out[k] = nil
			} else {
				out[k] = &s
			}
		case bool, int, int64, float64, json.Number:
			str := fmt.Sprint(s)
			out[k] = &str
		default:
			p.fail(name, "key %q: expected a string value, got %T %v", k, item, item)
		}
	}
	return out, true
}

// duration accepts a Go duration string such as "30s" or a number of seconds.
func (p *params) duration(def time.Duration, names ...string) time.Duration {
	name, v, ok := p.lookup(names...)
	if !ok {
		return def
	}
	if s, isString := v.(string); isString {
		d, err := time.ParseDuration(s)
		if err != nil {
			p.fail(name, "invalid duration %q: use a number of seconds or a duration such as 30s", s)
			return def
		}
		return d
	}
	n, err := toInt(v)
	if err != nil {
		p.fail(name, "expected a number of seconds or a duration such as 30s: %v", err)
		return def
	}
	return time.Duration(n) * time.Second
}

// cidrs reads a list of CIDR prefixes.
func (p *params) cidrs(names ...string) []netip.Prefix {
	list := p.strings(names...)
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		prefix, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			p.fail(names[0], "invalid CIDR %q: use a form such as 10.0.0.0/8", s)
			continue
		}
		out = append(out, prefix.Masked())
	}
	return out
}

// err returns every problem found, with the parameters that no getter read
// reported as unknown. It wraps actionners.ErrInvalidParameters.
func (p *params) err() error {
	var unknown []string
	for name := range p.values {
		if !p.used[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		p.fail(name, "unknown parameter of %s", p.actionner)
	}
	if len(p.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w: %w", p.actionner, actionners.ErrInvalidParameters, errors.Join(p.errs...))
}

// atLeast records an error when a value is below min.
func (p *params) atLeast(name string, value, min int64) {
	if value < min {
		p.fail(name, "must be at least %d, got %d", min, value)
	}
}
