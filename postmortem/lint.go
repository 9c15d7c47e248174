package postmortem

import (
	"cmp"
	"html"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
)

// Lint reports blaming language in a postmortem written in Markdown: each
// Finding has the line and column where the phrase starts, the phrase as
// written, the rule and a neutral way to say it. Lint only reports; what to
// change is the author's call.
//
// It reads prose only: the text of paragraphs, headings, list items, table
// cells, link texts and image alt texts. Code blocks, inline code, raw HTML
// and URLs are skipped. A sentence may run over several lines of a
// paragraph; it never runs from one block into the next.
//
// The rules, by name:
//
//   - human-error: "human error", "operator error", "pilot error".
//   - judgement: careless, negligent, negligence, incompetent, sloppy, lazy,
//     reckless and their other forms ("lazy loading" and "sloppy quorum"
//     are technical and not reported).
//   - blame: blame, blamed, blames, blaming, "to blame"; not "blameless",
//     not "git blame", and not when the clause denies blame ("no one is to
//     blame", "we do not blame anyone", "we blame nobody").
//   - fault: "<person>'s fault", "his/her/their/my/your/our fault", "the fault
//     of <person>", "<person> was at fault"; not "the cache's fault" and not
//     when denied ("it was not her fault", "nobody's fault").
//   - should-have: a person + "should have" / "should've" / "should not
//     have"; not the passive "should have been paged".
//   - failed-to: a person + "failed to".
//   - broke, caused, forgot, missed, ignored: a person as the subject
//     ("Alice broke", "@bob has forgotten", "the on-call engineer missed");
//     "overlooked" counts as missed, "neglected" as forgot.
//   - didnt-check: a person + "didn't/did not/never/hadn't" + check, verify,
//     test, validate, confirm or review.
//
// A person is an @mention ("@alice", "<@U123>"), he, she, they, someone,
// somebody, I or you, a role ("the engineer", "the developer", "the
// operator", "on-call", "the reviewer", ...), or a capitalised name-like
// word that is not a known system or common word ("Alice", "Jean-Luc"; not
// "Redis", "Deploy", "The", "Monitoring"). "We" is not a person: "we should
// have had an alert" is the team speaking about its process. Lower-case
// names are not recognised, and a system whose capitalised name is not
// known may be taken for a person: the checker errs towards asking.
func Lint(markdown []byte) []Finding {
	l := linter{src: markdown, lines: newLineIndex(markdown), seen: map[lintKey]bool{}}
	l.block(parseMarkdown(markdown))
	slices.SortFunc(l.findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), strings.Compare(a.Rule, b.Rule))
	})
	return l.findings
}

// lintSuggestions holds each rule's suggestion.
var lintSuggestions = map[string]string{
	"human-error": "describe what the system allowed: which safeguard was missing?",
	"judgement":   "describe the conditions (tooling, time pressure, unclear docs), not the person",
	"blame":       "describe what happened and why it made sense at the time",
	"fault":       "describe the contributing factors instead of assigning fault",
	"should-have": "describe what would have helped (a check, an alert, a runbook step)",
	"failed-to":   "describe what the process or tooling did not provide",
	"broke":       "describe the change and what let it break things (a missing test, check or guard)",
	"caused":      "describe the sequence of events: which change or condition led to the effect?",
	"forgot":      "the process did not ensure that ... (a checklist, automation or reminder)",
	"missed":      "describe why the signal was easy to miss (noise, routing, wording)",
	"ignored":     "describe why the signal did not stand out (noise, fatigue, unclear severity)",
	"didnt-check": "describe which check was missing from the process or tooling",
}

type lintKey struct {
	start int
	rule  string
}

type linter struct {
	src      []byte
	lines    lineIndex
	findings []Finding
	seen     map[lintKey]bool
}

// block lints n's prose: a block with inline content is one unit of text, a
// container block is read child by child, code and HTML are skipped.
func (l *linter) block(n ast.Node) {
	switch n.Kind() {
	case ast.KindCodeBlock, ast.KindFencedCodeBlock, ast.KindHTMLBlock:
		return
	}
	if c := n.FirstChild(); c != nil && c.Type() == ast.TypeInline {
		var p lintProse
		p.inlines(n, l.src)
		l.unit(p.tokens())
		return
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		l.block(c)
	}
}

// lintProse is the text of one block as lint reads it: markup between text
// segments becomes a space, code and raw HTML a barrier, and every byte
// remembers where in the source it came from.
type lintProse struct {
	buf     []byte
	from    []int // source offset of the character buf[i] belongs to; -1 for added separators
	to      []int // source offset just after that character
	lastEnd int
}

func (p *lintProse) sep(c byte) {
	p.buf = append(p.buf, c)
	p.from = append(p.from, -1)
	p.to = append(p.to, -1)
	p.lastEnd = -1
}

// asciiPunct are the characters a backslash escapes in CommonMark.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

var entityRef = regexp.MustCompile(`^&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)

// segment appends src[start:stop], resolving backslash escapes and character
// references so that "Alice\'s" and "Alice&nbsp;forgot" read as written.
func (p *lintProse) segment(src []byte, start, stop int) {
	if len(p.buf) > 0 && start != p.lastEnd {
		p.sep(' ')
	}
	for i := start; i < stop; {
		c := src[i]
		switch {
		case c == '\\' && i+1 < stop && strings.IndexByte(asciiPunct, src[i+1]) >= 0:
			p.add(src[i+1:i+2], i, i+2)
			i += 2
			continue
		case c == '&':
			if m := entityRef.Find(src[i:stop]); m != nil {
				p.add([]byte(html.UnescapeString(string(m))), i, i+len(m))
				i += len(m)
				continue
			}
		}
		p.add(src[i:i+1], i, i+1)
		i++
	}
	p.lastEnd = stop
}

func (p *lintProse) add(b []byte, from, to int) {
	for _, c := range b {
		p.buf = append(p.buf, c)
		p.from = append(p.from, from)
		p.to = append(p.to, to)
	}
}

func (p *lintProse) inlines(n ast.Node, src []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			p.segment(src, c.Segment.Start, c.Segment.Stop)
		case *ast.String:
			p.sep(' ')
		case *ast.CodeSpan, *ast.RawHTML, *ast.AutoLink:
			p.sep(0) // a barrier: no sentence runs through code or a URL
		case *extast.TaskCheckBox:
			p.sep(' ')
		default:
			p.inlines(c, src)
		}
	}
}

// lintToken is a word of prose.
type lintToken struct {
	text       string // as read (escapes resolved)
	word       string // lower case, typographic apostrophes made plain
	start, end int    // source byte offsets, end exclusive
	joined     bool   // only white space lies between this token and the previous one
	mention    bool   // @alice, <@U123>
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || unicode.Is(unicode.Mn, r)
}

// tokens splits the prose into words and mentions. Apostrophes and hyphens
// inside a word belong to it ("didn't", "on-call", "Alice's"). A token never
// holds an added separator, so its start and end are source offsets.
func (p *lintProse) tokens() []lintToken {
	var toks []lintToken
	joined := false
	b := p.buf
	runeAt := func(i int) (rune, int) {
		if i >= len(b) {
			return utf8.RuneError, 0
		}
		return utf8.DecodeRune(b[i:])
	}
	// scanWord returns the end of a word starting at i; extra are connector
	// runes allowed inside it when a word rune follows.
	scanWord := func(i int, extra string) int {
		for i < len(b) {
			r, size := runeAt(i)
			if isWordRune(r) {
				i += size
				continue
			}
			if r == '\'' || r == '’' || r == '-' || strings.ContainsRune(extra, r) {
				if r2, _ := runeAt(i + size); isWordRune(r2) {
					i += size
					continue
				}
			}
			break
		}
		return i
	}
	emit := func(i, j int, mention bool) {
		txt := string(b[i:j])
		toks = append(toks, lintToken{
			text:    txt,
			word:    strings.ReplaceAll(strings.ToLower(txt), "’", "'"),
			start:   p.from[i],
			end:     p.to[j-1],
			joined:  joined,
			mention: mention,
		})
		joined = true
	}
	prev := rune(' ')
	for i := 0; i < len(b); {
		r, size := runeAt(i)
		switch {
		case r == '@' && !isWordRune(prev):
			if r2, _ := runeAt(i + 1); isWordRune(r2) {
				j := scanWord(i+1, ".")
				emit(i, j, true)
				prev, i = 'a', j
				continue
			}
		case r == '<' && i+2 < len(b) && b[i+1] == '@':
			j := i + 2
			for j < len(b) && j-i < 64 && b[j] != '>' && (isWordRune(rune(b[j])) || strings.IndexByte("|.-", b[j]) >= 0) {
				j++
			}
			if j < len(b) && b[j] == '>' && j > i+2 {
				emit(i, j+1, true)
				prev, i = '>', j+1
				continue
			}
		case isWordRune(r):
			j := scanWord(i, "")
			emit(i, j, false)
			r, _ = utf8.DecodeLastRune(b[i:j])
			prev, i = r, j
			continue
		case unicode.IsSpace(r):
			prev, i = r, i+size
			continue
		}
		joined = false // punctuation or a barrier
		prev, i = r, i+size
	}
	return toks
}

// unit applies every rule to the tokens of one block.
func (l *linter) unit(toks []lintToken) {
	for j := range toks {
		w := toks[j].word
		l.humanError(toks, j)
		if judgementWords[w] && !technicalJudgement(toks, j) {
			l.report(toks, j, j, "judgement")
		}
		if blameWords[w] {
			start := j
			if j > 0 && toks[j].joined && toks[j-1].word == "to" {
				start = j - 1
			}
			if !(j > 0 && toks[j].joined && toks[j-1].word == "git") && !negated(toks, start) && !blamesNoOne(toks, j) {
				l.report(toks, start, j, "blame")
			}
		}
		if w == "fault" {
			l.fault(toks, j)
		}
		if rule, end, perfect, ok := verbPhrase(toks, j); ok {
			if start, ok := subjectBefore(toks, j, perfect); ok {
				l.report(toks, start, end, rule)
			}
		}
	}
}

func (l *linter) report(toks []lintToken, first, last int, rule string) {
	start, end := toks[first].start, toks[last].end
	if start < 0 || end < start || end > len(l.src) {
		return
	}
	k := lintKey{start, rule}
	if l.seen[k] {
		return
	}
	l.seen[k] = true
	line, col := l.lines.position(start)
	l.findings = append(l.findings, Finding{
		Line:       line,
		Column:     col,
		Phrase:     string(l.src[start:end]),
		Rule:       rule,
		Suggestion: lintSuggestions[rule],
	})
}

// joinedNext returns the index of the token after j if it is joined to it.
func joinedNext(toks []lintToken, j int) (int, bool) {
	if j+1 < len(toks) && toks[j+1].joined {
		return j + 1, true
	}
	return 0, false
}

func (l *linter) humanError(toks []lintToken, j int) {
	switch toks[j].word {
	case "human-error", "human-errors":
		l.report(toks, j, j, "human-error")
	case "human", "operator", "pilot":
		if k, ok := joinedNext(toks, j); ok && (toks[k].word == "error" || toks[k].word == "errors") {
			l.report(toks, j, k, "human-error")
		}
	}
}

var judgementWords = lintWords(`careless carelessly carelessness negligent negligently negligence
	incompetent incompetently incompetence sloppy sloppily sloppiness lazy lazily laziness
	reckless recklessly recklessness`)

// technicalJudgement spots the technical senses: "lazy loading", "lazily
// initialised", "lazy evaluation", "sloppy quorum".
func technicalJudgement(toks []lintToken, j int) bool {
	k, ok := joinedNext(toks, j)
	if !ok {
		return false
	}
	w, nw := toks[j].word, toks[k].word
	switch w {
	case "lazy", "lazily":
		return lazyTechnical[nw] || strings.HasSuffix(nw, "ed") || strings.HasSuffix(nw, "ing") ||
			strings.HasSuffix(nw, "tion") || strings.HasSuffix(nw, "sion")
	case "sloppy":
		return nw == "quorum" || nw == "quorums"
	}
	return false
}

var lazyTechnical = lintWords(`load loads init initialise initialize evaluate fetch compute copy
	allocation sequence iterator iterators mode import imports val value values list
	deletion property properties singleton proxy binding bindings`)

var blameWords = lintWords(`blame blamed blames blaming`)

// negated reports whether the clause before token i denies what follows:
// "no one is to blame", "we do not blame", "it was not her fault".
func negated(toks []lintToken, i int) bool {
	for k := i - 1; k >= 0 && k >= i-4 && toks[k+1].joined; k-- {
		w := toks[k].word
		if negators[w] || strings.HasSuffix(w, "n't") {
			return true
		}
	}
	return false
}

// blamesNoOne spots "we blame no one", "blame nobody".
func blamesNoOne(toks []lintToken, j int) bool {
	k, ok := joinedNext(toks, j)
	return ok && (toks[k].word == "nobody" || toks[k].word == "noone" || toks[k].word == "no-one" ||
		toks[k].word == "no" && k+1 < len(toks) && toks[k+1].joined && toks[k+1].word == "one")
}

var negators = lintWords(`no not never nobody none neither nor without no-one noone nothing`)

func (l *linter) fault(toks []lintToken, j int) {
	// <person>'s fault, his fault
	if j > 0 && toks[j].joined {
		p := j - 1
		pw := toks[p].word
		if possessivePronouns[pw] {
			if !negated(toks, p) {
				l.report(toks, p, j, "fault")
			}
		} else if base, ok := cutPossessive(toks[p].text); ok {
			// Read "Alice's" as "Alice" for a moment.
			saved := toks[p]
			toks[p].text, toks[p].word = base, strings.ReplaceAll(strings.ToLower(base), "’", "'")
			start, ok := personEndingAt(toks, p)
			toks[p] = saved
			if ok && !negated(toks, start) {
				l.report(toks, start, j, "fault")
			}
		}
	}
	// the fault of <person>
	if k, ok := joinedNext(toks, j); ok && toks[k].word == "of" && k+1 < len(toks) && toks[k+1].joined {
		if end, ok := personStartingAt(toks, k+1); ok {
			start := j
			if j > 0 && toks[j].joined && toks[j-1].word == "the" {
				start = j - 1
			}
			if !negated(toks, start) {
				l.report(toks, start, end, "fault")
			}
		}
	}
	// <person> was at fault
	if j >= 2 && toks[j].joined && toks[j-1].word == "at" && toks[j-1].joined && beForms[toks[j-2].word] {
		if start, ok := subjectBefore(toks, j-2, false); ok && !negated(toks, j-1) {
			l.report(toks, start, j, "fault")
		}
	}
}

// cutPossessive returns "Alice" for "Alice's" or "Alice’s".
func cutPossessive(s string) (string, bool) {
	for _, suf := range []string{"'s", "’s", "'S", "’S"} {
		if base, ok := strings.CutSuffix(s, suf); ok && base != "" {
			return base, true
		}
	}
	return "", false
}

var possessivePronouns = lintWords(`my your his her their our`)

var beForms = lintWords(`is was were are be been`)

// verbPhrase recognises a blaming verb phrase starting at token j and
// returns its rule, its last token and whether it is a perfect form
// ("has broken").
func verbPhrase(toks []lintToken, j int) (rule string, end int, perfect bool, ok bool) {
	w := toks[j].word
	at := func(k int, word string) bool {
		return k < len(toks) && toks[k].joined && toks[k].word == word
	}
	switch w {
	case "should've":
		end, ok = j, true
	case "should":
		switch {
		case at(j+1, "have"):
			end, ok = j+1, true
		case at(j+1, "not") && at(j+2, "have"):
			end, ok = j+2, true
		}
	case "shouldn't":
		if at(j+1, "have") {
			end, ok = j+1, true
		}
	}
	if ok {
		// "they should have been paged" is about the process, "he should
		// have been more careful" is not.
		if at(end+1, "been") && end+2 < len(toks) && toks[end+2].joined && isParticiple(toks[end+2].word) {
			return "", 0, false, false
		}
		return "should-have", end, false, true
	}
	switch w {
	case "failed", "fails":
		if at(j+1, "to") {
			return "failed-to", j + 1, false, true
		}
	case "broke", "breaks":
		return "broke", j, false, true
	case "broken":
		return "broke", j, true, true
	case "caused", "causes":
		return "caused", j, false, true
	case "forgot", "forgets", "neglected":
		return "forgot", j, false, true
	case "forgotten":
		return "forgot", j, true, true
	case "missed", "misses", "overlooked":
		return "missed", j, false, true
	case "ignored", "ignores":
		return "ignored", j, false, true
	case "didn't", "hadn't", "never":
		if j+1 < len(toks) && toks[j+1].joined && checkVerbs[toks[j+1].word] {
			return "didnt-check", j + 1, false, true
		}
	case "did", "had":
		if at(j+1, "not") && j+2 < len(toks) && toks[j+2].joined && checkVerbs[toks[j+2].word] {
			return "didnt-check", j + 2, false, true
		}
	}
	return "", 0, false, false
}

var checkVerbs = lintWords(`check checked verify verified test tested validate validated
	confirm confirmed review reviewed double-check double-checked`)

var irregularParticiples = lintWords(`sent built caught kept taught made run set put held brought
	done seen known shown given taken written found told paid read said`)

func isParticiple(w string) bool {
	return irregularParticiples[w] || len(w) > 3 && (strings.HasSuffix(w, "ed") || strings.HasSuffix(w, "en"))
}

// subjectBefore finds a person as the subject of the verb phrase at token j,
// looking back over adverbs and auxiliaries ("Alice had accidentally",
// "@bob must have"). A broken or forgotten needs has, have or had.
func subjectBefore(toks []lintToken, j int, needPerfect bool) (int, bool) {
	k := j - 1
	sawPerfect := false
	for k >= 0 && toks[k+1].joined && subjectSkip[toks[k].word] {
		if perfectAux[toks[k].word] {
			sawPerfect = true
		}
		k--
	}
	if k < 0 || !toks[k+1].joined || needPerfect && !sawPerfect {
		return 0, false
	}
	return personEndingAt(toks, k)
}

var perfectAux = lintWords(`has had have 've`)

var subjectSkip = lintWords(`has had have 've must may might could would will did does do
	also then just simply only accidentally inadvertently mistakenly unintentionally apparently
	clearly obviously probably likely possibly again already still later subsequently initially
	originally previously completely totally entirely somehow evidently unfortunately really
	actually quickly immediately personally carelessly negligently sloppily lazily recklessly
	himself herself themselves myself yourself alone once twice`)

// personEndingAt reports whether a person's name, mention, pronoun or role
// ends at token k, and where it starts.
func personEndingAt(toks []lintToken, k int) (int, bool) {
	t := toks[k]
	switch {
	case t.mention:
		return withConjuncts(toks, k), true
	case subjectPronouns[t.word] || t.text == "I":
		return k, true
	case t.word == "else" && k > 0 && t.joined && (toks[k-1].word == "someone" || toks[k-1].word == "somebody"):
		return k - 1, true
	case isRole(t.word):
		start := k
		for m := k - 1; m >= 0 && m >= k-3 && toks[m+1].joined; m-- {
			if roleDeterminers[toks[m].word] {
				start = m
				break
			}
		}
		return start, true
	case nameLike(t.text) && !notPerson(t.word):
		if k > 0 && t.joined && roleDeterminers[toks[k-1].word] {
			return 0, false // "the Scheduler", "our Alice service"
		}
		return withConjuncts(toks, k), true
	case nameLike(t.text) && !notPersonWord(t.word) && k > 0 && t.joined &&
		nameLike(toks[k-1].text) && !notPerson(toks[k-1].word):
		// "Alice Manning": a surname may end like a common noun.
		return withConjuncts(toks, k-1), true
	}
	return 0, false
}

// withConjuncts extends a name back over "Alice Smith" and "Alice and Bob".
func withConjuncts(toks []lintToken, k int) int {
	for k > 0 && toks[k].joined {
		p := toks[k-1]
		switch {
		case nameLike(p.text) && !notPerson(p.word) && !toks[k].mention:
			k--
		case (p.word == "and" || p.word == "or") && k > 1 && p.joined &&
			(toks[k-2].mention || nameLike(toks[k-2].text) && !notPerson(toks[k-2].word)):
			k -= 2
		default:
			return k
		}
	}
	return k
}

// personStartingAt reports whether a person starts at token k ("of Alice",
// "of the on-call engineer", "of someone") and where it ends.
func personStartingAt(toks []lintToken, k int) (int, bool) {
	t := toks[k]
	switch {
	case t.mention, objectPronouns[t.word]:
		return k, true
	case roleDeterminers[t.word]:
		for m := k + 1; m < len(toks) && m <= k+3 && toks[m].joined; m++ {
			if isRole(toks[m].word) {
				// "the on-call engineer": take the last role word
				for m+1 < len(toks) && toks[m+1].joined && isRole(toks[m+1].word) {
					m++
				}
				return m, true
			}
		}
	case isRole(t.word):
		return k, true
	case nameLike(t.text) && !notPerson(t.word):
		end := k
		for end+1 < len(toks) && toks[end+1].joined && nameLike(toks[end+1].text) {
			end++
		}
		return end, true
	}
	return 0, false
}

var subjectPronouns = lintWords(`he she they someone somebody you`)

var objectPronouns = lintWords(`him her them someone somebody me you`)

var roleDeterminers = lintWords(`the a an our their his her my your this that another one each every some`)

var roleWords = lintWords(`engineer developer dev operator on-call oncall on-caller oncaller
	responder reviewer author admin administrator sre intern contractor deployer committer
	maintainer employee teammate colleague coworker co-worker person human individual`)

// isRole reports whether w names a person by role, in the singular or plural.
func isRole(w string) bool {
	return roleWords[w] || strings.HasSuffix(w, "s") && roleWords[strings.TrimSuffix(w, "s")]
}

// nameLike reports whether s looks like a name: a capital letter, then
// lower-case letters, with capitals only after an apostrophe or a hyphen
// or after Mc/Mac ("O'Brien", "Jean-Luc", "McDonald"). "DNS", "GitHub",
// "X" and "R2D2" are not names.
func nameLike(s string) bool {
	rs := []rune(s)
	if len(rs) < 2 || !unicode.IsUpper(rs[0]) {
		return false
	}
	lower := false
	for i := 1; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsLower(r):
			lower = true
		case r == '\'' || r == '’' || r == '-':
		case unicode.IsUpper(r):
			p := rs[i-1]
			if p != '\'' && p != '’' && p != '-' && string(rs[:i]) != "Mc" && string(rs[:i]) != "Mac" {
				return false
			}
		case unicode.Is(unicode.Mn, r):
		default:
			return false
		}
	}
	return lower
}

// notPerson reports whether a capitalised w is a known common or system
// word, or ends like a common noun ("Latency", "Monitoring", "Deployment").
func notPerson(w string) bool {
	if notPersonWord(w) {
		return true
	}
	for _, suf := range nounSuffixes {
		if strings.HasSuffix(w, suf) && len(w) > len(suf)+1 {
			return true
		}
	}
	return false
}

// notPersonWord reports whether w, or its singular, is a known word.
func notPersonWord(w string) bool {
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'")
	if knownWords[w] {
		return true
	}
	if s, ok := strings.CutSuffix(w, "ies"); ok && knownWords[s+"y"] {
		return true
	}
	if s, ok := strings.CutSuffix(w, "es"); ok && knownWords[s] {
		return true
	}
	s, ok := strings.CutSuffix(w, "s")
	return ok && knownWords[s]
}

var nounSuffixes = strings.Fields(`tion tions sion sions ment ments ness ity ities ency ancy ing ings ics ism isms ure ures ware ogy ies`)

// knownWords are capitalised words that are not people: function words that
// start sentences, calendar words, groups, and the nouns and product names
// of systems.
var knownWords = lintWords(`
	a an the this that these those it its we us our ours their theirs there here what which who
	whom whose whatever whoever whichever nothing something everything anything nobody everyone
	everybody anyone anybody none one each every some any all both either neither another other
	others such no yes and but or nor so yet then after before during when whenever while once
	since because as if unless until although though also however meanwhile finally eventually
	first second third next last later initially again still only just even unfortunately
	fortunately luckily previously earlier today yesterday tomorrow tonight overnight ultimately
	instead additionally thus therefore hence why how where note per via with without from to in
	on at by for of about over under between into through within across around up down out off
	same many most more less few several much half twice please see
	monday tuesday wednesday thursday friday saturday sunday weekend
	january february march july september october november december
	team people staff management leadership company customer user support ops security sales
	engineering product infra marketing finance legal vendor partner
	deploy deployment release rollout rollback revert config configuration change changeset
	migration script job cron cronjob build pipeline test suite alert alerting monitoring monitor
	dashboard traffic load spike request query cache database db server service microservice
	node cluster pod container host vm instance disk volume network dns certificate cert tls ssl
	queue worker scheduler proxy balancer loadbalancer gateway api endpoint client backend
	frontend app application system process runbook check healthcheck probe timeout retry
	failover replica replication primary secondary leader follower upgrade patch update bug
	regression error exception crash outage incident memory cpu code commit pr merge branch
	feature flag toggle library dependency package version binary image schema index table row
	lock deadlock transaction connection pool socket thread goroutine handler middleware
	controller cdn firewall router switch link provider region zone datacenter upstream
	downstream storage bucket backup restore snapshot storm surge latency throughput bot webhook
	integration sdk cli tool tooling automation autoscaler autoscaling limit quota rate limiter
	buffer heap gc leak kernel driver firmware hardware software platform infrastructure
	traffic terraform kubernetes helm docker postgres postgresql mysql redis kafka rabbitmq nginx
	envoy istio haproxy consul vault nomad ansible chef puppet jenkins github gitlab bitbucket
	jira slack pagerduty opsgenie grafana prometheus alertmanager datadog sentry splunk
	elasticsearch kibana logstash cassandra memcached mongodb mongo dynamodb aws gcp azure google
	amazon microsoft cloudflare akamai fastly heroku vercel netlify stripe twilio okta linux
	windows ubuntu debian chrome firefox safari java python rust ruby rails django celery
	sidekiq lambda argo argocd spinnaker buildkite travis circleci dependabot renovate warroom
	etcd zookeeper coredns ingress egress iptables systemd ceph git npm yarn pip maven gradle
	bazel make go golang`)

func lintWords(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
