package fields

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnknownField is the error (through errors.Is) of [Resolve] for a field
// name or argument that the catalogue does not know. Falco's
// skip-if-unknown-filter rule option turns such errors into warnings.
var ErrUnknownField = errors.New("unknown field")

// UnknownFieldError reports a field reference that does not resolve. Its
// message is Falco's: "filter_check called with nonexistent field NAME".
type UnknownFieldError struct {
	// Text is the reference as written.
	Text string
	// Reason explains why the argument is invalid; empty when the name
	// itself is unknown.
	Reason string
}

func (e *UnknownFieldError) Error() string {
	if e.Reason != "" {
		return "filter_check called with nonexistent field " + e.Text + ": " + e.Reason
	}
	return "filter_check called with nonexistent field " + e.Text
}

// Is makes errors.Is(err, ErrUnknownField) true.
func (e *UnknownFieldError) Is(target error) bool { return target == ErrUnknownField }

// Resolve checks a field reference and returns it in parsed form. name is the
// dotted name as written, such as "proc.aname", "evt.arg.flags" or
// "k8s.pod.label.app". arg is the bracket argument, and hasArg reports
// whether there was one: proc.aname[2] is ("proc.aname", "2", true).
//
// Names resolve by longest known prefix: when name is not a field, a known
// prefix of dotted segments whose field takes a dotted argument may consume
// the rest, as evt.arg consumes ".flags".
func Resolve(name, arg string, hasArg bool) (*Ref, error) {
	text := name
	if hasArg {
		text = name + "[" + arg + "]"
	}
	if f := Lookup(name); f != nil {
		return resolveArg(f, text, arg, hasArg)
	}
	for i := strings.LastIndexByte(name, '.'); i > 0; i = strings.LastIndexByte(name[:i], '.') {
		f := Lookup(name[:i])
		if f == nil {
			continue
		}
		if hasArg {
			break
		}
		switch f.Arg {
		case ArgParam, ArgParamName, ArgKeyDotted:
			return resolveArg(f, text, name[i+1:], true)
		}
		break
	}
	return nil, &UnknownFieldError{Text: text}
}

func resolveArg(f *Field, text, arg string, hasArg bool) (*Ref, error) {
	ref := &Ref{Field: f.ID, Index: AnyIndex, HasArg: hasArg, Text: text, Type: f.Type}
	if !hasArg {
		if f.Has(FlagArgRequired) {
			return nil, &UnknownFieldError{Text: text, Reason: "the field requires an argument, such as " + f.Name + example(f.Arg)}
		}
		return ref, nil
	}
	switch f.Arg {
	case ArgNone:
		return nil, &UnknownFieldError{Text: text, Reason: "the field takes no argument"}
	case ArgIndex:
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return nil, &UnknownFieldError{Text: text, Reason: fmt.Sprintf("argument %q is not a non-negative number", arg)}
		}
		ref.Index = n
	case ArgKey, ArgKeyDotted:
		ref.Key = arg
	case ArgIndexOrKey:
		if n, err := strconv.Atoi(arg); err == nil && n >= 0 {
			ref.Index = n
		} else {
			ref.Key = arg
		}
	case ArgParam:
		if n, err := strconv.Atoi(arg); err == nil && n >= 0 {
			ref.Index = n
			break
		}
		if !IsParam(arg) {
			return nil, &UnknownFieldError{Text: text, Reason: fmt.Sprintf("%q is not a parameter of any event", arg)}
		}
		ref.Key = arg
	case ArgParamName:
		typ, ok := eventParams[arg]
		if !ok {
			return nil, &UnknownFieldError{Text: text, Reason: fmt.Sprintf("%q is not a parameter of any event", arg)}
		}
		ref.Key = arg
		ref.Type = typ
	}
	return ref, nil
}

func example(k ArgKind) string {
	switch k {
	case ArgIndex:
		return "[1]"
	case ArgParam, ArgParamName:
		return ".flags"
	case ArgIndexOrKey:
		return "[0]"
	}
	return "[name]"
}
