package config

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// source records, for each value path of a loaded configuration, the line it
// came from, its text before ${VAR} expansion when expansion changed it, and
// whether Load already reported a problem there.
type source struct {
	lines  map[string]int
	env    map[string]string
	broken map[string]bool
}

// line returns the line of path, or of its nearest ancestor that has one.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for path != "" {
		if l, ok := s.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// parentPath strips the last ".key" or "[i]" from path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// fromEnv returns the text of the value at path before ${VAR} expansion,
// and whether expansion changed it.
func (s *source) fromEnv(path string) (string, bool) {
	if s == nil {
		return "", false
	}
	raw, ok := s.env[path]
	return raw, ok
}

// showEnv describes a value that came from the environment by its text
// before expansion, such as "${TOKEN}" from the environment.
func showEnv(raw string) string { return strconv.Quote(raw) + " from the environment" }

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} in the scalar values (not the keys) under n
// with getenv(NAME), and records the nodes it changed in changed, with their
// text before expansion. A plain
// scalar that changes loses its tag so that its type is resolved again:
// "${PORT}" may become an integer, and an empty result becomes null, which
// counts as absent.
func expandEnv(n *yaml.Node, getenv func(string) string, changed map[*yaml.Node]string) {
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		v := envRE.ReplaceAllStringFunc(n.Value, func(m string) string {
			return getenv(m[2 : len(m)-1])
		})
		if v == n.Value && !envRE.MatchString(n.Value) {
			return
		}
		changed[n] = n.Value
		n.Value = v
		if v == "" {
			// Empty after expansion, quoted or not, counts as absent, so
			// the key's default applies.
			n.Style = 0
		}
		if n.Style == 0 {
			n.Tag = ""
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			expandEnv(n.Content[i], getenv, changed)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			expandEnv(c, getenv, changed)
		}
	}
	// Alias nodes are skipped: they point at a node expanded where it is
	// defined.
}

var (
	configType    = reflect.TypeFor[Config]()
	unmarshalType = reflect.TypeFor[yaml.Unmarshaler]()
	durationType  = reflect.TypeFor[Duration]()
)

// maxWalk bounds the nodes visited by a walk, so that aliases cannot make
// it explode.
const maxWalk = 100_000

// walker checks a YAML tree against the Go type it will be decoded into. It
// reports unknown and duplicate keys and values of the wrong kind, with
// their lines and key paths; records each path's line; and removes keys
// whose value is null, so that they count as absent.
type walker struct {
	ps      *problems
	src     *source
	fromEnv map[*yaml.Node]string
	visited int
	active  map[*yaml.Node]bool // anchors being walked through an alias
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	w.visited++
	if w.visited > maxWalk {
		if w.visited == maxWalk+1 {
			w.ps.add(n.Line, path, "the document is too large or uses too many aliases")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || w.active[n.Alias] {
			w.ps.add(n.Line, path, "an alias refers to the value that contains it")
			return
		}
		if w.active == nil {
			w.active = map[*yaml.Node]bool{}
		}
		w.active[n.Alias] = true
		w.walk(n.Alias, t, path)
		delete(w.active, n.Alias)
		return
	}
	if _, ok := w.src.lines[path]; !ok && path != "" {
		w.src.lines[path] = n.Line
	}
	if raw, ok := w.fromEnv[n]; ok {
		w.src.env[path] = raw
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // decodes to the zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		if !w.expect(n, yaml.ScalarNode, path, "a duration such as 10m") {
			return
		}
		if _, err := parseDuration(n.Value); err != nil {
			w.ps.add(n.Line, path, "invalid duration%s: %v", w.show(n), err)
		}
		return
	case reflect.PointerTo(t).Implements(unmarshalType):
		return // decoded by its own UnmarshalYAML
	}
	switch t.Kind() {
	case reflect.Struct:
		if w.expect(n, yaml.MappingNode, path, "a mapping") {
			w.mapping(n, path, func(key *yaml.Node) (reflect.Type, bool) {
				f, ok := fieldByYAMLName(t, key.Value)
				return f.Type, ok
			}, true)
		}
	case reflect.Map:
		if w.expect(n, yaml.MappingNode, path, "a mapping") {
			w.mapping(n, path, func(*yaml.Node) (reflect.Type, bool) { return t.Elem(), true }, false)
		}
	case reflect.Slice:
		if w.expect(n, yaml.SequenceNode, path, "a list") {
			for i, c := range n.Content {
				w.walk(c, t.Elem(), path+"["+strconv.Itoa(i)+"]")
			}
		}
	case reflect.String:
		w.expect(n, yaml.ScalarNode, path, "a single value")
	case reflect.Bool:
		if w.expect(n, yaml.ScalarNode, path, "true or false") {
			var b bool
			if n.Decode(&b) != nil {
				w.ps.add(n.Line, path, "expected true or false, found %s", w.describe(n))
			}
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if w.expect(n, yaml.ScalarNode, path, "a whole number") {
			var i int
			if n.Decode(&i) != nil {
				w.ps.add(n.Line, path, "expected a whole number, found %s", w.describe(n))
			}
		}
	}
}

// mapping walks the entries of the mapping node n. fieldType returns the Go
// type of a key's value, or false for an unknown key. In a struct, entries
// with a null value are removed.
func (w *walker) mapping(n *yaml.Node, path string, fieldType func(key *yaml.Node) (reflect.Type, bool), isStruct bool) {
	seen := map[string]int{}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge" {
			w.merge(val, fieldType, path, isStruct)
			kept = append(kept, key, val)
			continue
		}
		if key.Kind != yaml.ScalarNode {
			w.ps.add(key.Line, path, "a key must be a plain name")
			continue
		}
		if prev, dup := seen[key.Value]; dup {
			w.ps.add(key.Line, path, "key %q is repeated (first at line %d)", key.Value, prev)
			continue
		}
		seen[key.Value] = key.Line
		t, ok := fieldType(key)
		if !ok {
			w.ps.add(key.Line, path, "unknown key %q", key.Value)
			continue
		}
		sub := joinPath(path, key.Value)
		w.src.lines[sub] = key.Line
		w.walk(val, t, sub)
		if isStruct && val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null" {
			continue
		}
		kept = append(kept, key, val)
	}
	if isStruct {
		n.Content = kept
	}
}

// merge walks the value of a "<<" merge key: a mapping, an alias of one, or
// a list of those.
func (w *walker) merge(n *yaml.Node, fieldType func(*yaml.Node) (reflect.Type, bool), path string, isStruct bool) {
	switch {
	case n.Kind == yaml.AliasNode && n.Alias != nil && !w.active[n.Alias]:
		if w.active == nil {
			w.active = map[*yaml.Node]bool{}
		}
		w.active[n.Alias] = true
		w.merge(n.Alias, fieldType, path, isStruct)
		delete(w.active, n.Alias)
	case n.Kind == yaml.MappingNode:
		w.visited += len(n.Content)
		if w.visited <= maxWalk {
			w.mapping(n, path, fieldType, isStruct)
		}
	case n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			w.merge(c, fieldType, path, isStruct)
		}
	default:
		w.ps.add(n.Line, path, "a merge key (<<) needs a mapping")
	}
}

// expect reports a problem unless n has the given kind.
func (w *walker) expect(n *yaml.Node, kind yaml.Kind, path, want string) bool {
	if n.Kind == kind {
		return true
	}
	w.ps.add(n.Line, path, "expected %s, found %s", want, w.describe(n))
	return false
}

// describe names what n is, quoting a scalar only when it did not come from
// the environment.
func (w *walker) describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if raw, ok := w.fromEnv[n]; ok {
		return showEnv(raw)
	}
	return strconv.Quote(n.Value)
}

// show returns " <quoted value>", or the value's text before expansion when
// it came from the environment and so might be a secret.
func (w *walker) show(n *yaml.Node) string {
	if raw, ok := w.fromEnv[n]; ok {
		return " " + showEnv(raw)
	}
	return " " + strconv.Quote(n.Value)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldByYAMLName finds the field of struct type t whose yaml tag is name.
func fieldByYAMLName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
