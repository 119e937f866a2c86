package validate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/expertiza/expertiza/sync/wire"
)

// Caps of the XML check. No document of the expertise nests deeper than a
// few dozen levels or puts thousands of attributes on one element; the
// token cap bounds CPU (encoding/xml parses ~30 MB/s here).
const (
	xmlMaxDepth  = 256
	xmlMaxTokens = 50_000_000
	xmlMaxAttrs  = 10_000
)

// xmlProblem is why a document is not acceptable XML, in Russian and
// English, without the "what to do" part, which depends on where the XML
// came from (an .xml upload or a part of a DOCX).
type xmlProblem struct{ ru, en string }

func (p *xmlProblem) Error() string { return "xml: " + p.en }

func checkXMLFile(ctx context.Context, f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("validate: seek: %w", err)
	}
	err := wellFormedXML(ctx, bufio.NewReaderSize(f, 64<<10))
	var p *xmlProblem
	if errors.As(err, &p) {
		return refuse(wire.CodeInvalid,
			"XML-файл не принят: "+p.ru+". Исправьте файл или выгрузите его заново из программы, в которой он сформирован",
			"The XML file is not accepted: "+p.en+". Fix the file or export it again from the program that made it")
	}
	return err
}

// wellFormedXML reads one XML document from r and returns an *xmlProblem if
// it is not well-formed or exceeds the caps. Entities are never expanded:
// encoding/xml knows only the five predefined ones, and a DOCTYPE declaring
// entities is refused outright (billion laughs, external entities).
func wellFormedXML(ctx context.Context, r io.Reader) error {
	src := &errRecorder{r: r}
	br := bufio.NewReader(src)
	bom, _ := br.Peek(2)
	utf16 := bytes.Equal(bom, []byte{0xFF, 0xFE}) || bytes.Equal(bom, []byte{0xFE, 0xFF})
	// BOMOverride strips a UTF-8 BOM and turns UTF-16 with a BOM into
	// UTF-8; other input passes unchanged.
	in := transform.NewReader(br, unicode.BOMOverride(transform.Nop))
	guard := &attrGuard{r: ctxReader{ctx: ctx, r: in}, max: xmlMaxAttrs}

	var badCharset string
	d := xml.NewDecoder(guard)
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		l := strings.ToLower(strings.TrimSpace(label))
		if utf16 && (strings.HasPrefix(l, "utf-16") || l == "unicode") {
			return in, nil // already converted above
		}
		if l == "utf8" || l == "us-ascii" || l == "ascii" {
			return in, nil
		}
		enc, err := ianaindex.IANA.Encoding(label)
		if err != nil || enc == nil {
			enc, err = htmlindex.Get(label)
		}
		if err != nil || enc == nil || strings.HasPrefix(l, "utf-16") {
			badCharset = label
			return nil, fmt.Errorf("unsupported encoding %q", label)
		}
		return enc.NewDecoder().Reader(in), nil
	}

	depth, tokens := 0, 0
	root := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return xmlError(ctx, err, src.err, badCharset)
		}
		tokens++
		if tokens > xmlMaxTokens {
			return &xmlProblem{
				fmt.Sprintf("в нём больше %d элементов и фрагментов текста", xmlMaxTokens),
				fmt.Sprintf("it has more than %d elements and text nodes", xmlMaxTokens)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root {
					return &xmlProblem{"в нём больше одного корневого элемента", "it has more than one root element"}
				}
				root = true
			}
			depth++
			if depth > xmlMaxDepth {
				return &xmlProblem{
					fmt.Sprintf("элементы вложены глубже %d уровней", xmlMaxDepth),
					fmt.Sprintf("elements are nested deeper than %d levels", xmlMaxDepth)}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return &xmlProblem{"в нём есть текст вне корневого элемента", "it has text outside the root element"}
			}
		case xml.Directive:
			if bytes.Contains(t, []byte("<!ENTITY")) {
				return &xmlProblem{
					"он объявляет сущности (<!ENTITY> в DOCTYPE), раскрытие которых может занять неограниченную память, — такие файлы не принимаются; выгрузите XML без DTD",
					"it declares entities (<!ENTITY> in the DOCTYPE), whose expansion can take unbounded memory — such files are not accepted; export the XML without a DTD"}
			}
		}
	}
	if !root {
		return &xmlProblem{"в нём нет корневого элемента", "it has no root element"}
	}
	return nil
}

// xmlError turns a decoder error into an *xmlProblem, or passes through
// errors that are not the document's fault (ctx ended, the disk failed).
func xmlError(ctx context.Context, err, readErr error, badCharset string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("validate: xml: %w", ctx.Err())
	}
	if readErr != nil && errors.Is(err, readErr) {
		// The source failed (disk, or a ZIP entry's CRC or size check):
		// the caller knows what that means.
		return fmt.Errorf("read: %w", err)
	}
	if badCharset != "" {
		return &xmlProblem{
			fmt.Sprintf("кодировка «%s» не поддерживается — сохраните файл в UTF-8", badCharset),
			fmt.Sprintf("the encoding %q is not supported — save the file as UTF-8", badCharset)}
	}
	if errors.Is(err, errTooManyAttrs) {
		return &xmlProblem{
			fmt.Sprintf("у одного элемента больше %d атрибутов", xmlMaxAttrs),
			fmt.Sprintf("an element has more than %d attributes", xmlMaxAttrs)}
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &xmlProblem{
			fmt.Sprintf("он не является корректным XML (ошибка в строке %d)", se.Line),
			fmt.Sprintf("it is not well-formed XML (line %d: %s)", se.Line, se.Msg)}
	}
	// Remaining decoder errors (charset plumbing, transform errors on
	// invalid UTF-16) are still about the content.
	return &xmlProblem{"он не является корректным XML", "it is not well-formed XML (" + err.Error() + ")"}
}

var errTooManyAttrs = errors.New("too many attributes on one element")

// errRecorder remembers the error of the reader under the XML decoder, so a
// read failure is not mistaken for malformed XML.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// attrGuard counts attributes of each start tag in the raw byte stream
// before encoding/xml sees it: the decoder collects all attributes of an
// element into memory, so 10 million attributes in an 80 MB file would cost
// gigabytes before any check could run. It tracks just enough lexical state
// (comments, CDATA, processing instructions, declarations, quoted values)
// to know when a '=' belongs to a tag; a document that confuses it is
// malformed and the decoder refuses it anyway.
type attrGuard struct {
	r     io.Reader
	max   int
	state guardState
	quote byte
	attrs int
	depth int    // '[' nesting inside a declaration
	pre   []byte // bytes after '<' while deciding what kind of markup it is
	tail  [2]byte
}

type guardState uint8

const (
	gText guardState = iota
	gOpen            // just after '<'
	gBang            // "<!" — comment, CDATA or declaration
	gTag
	gQuoted
	gComment
	gCDATA
	gPI
	gDecl
	gDeclQuoted
)

func (g *attrGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for _, c := range p[:n] {
		if g.step(c) {
			return 0, errTooManyAttrs
		}
	}
	return n, err
}

// step advances the state by one byte; it reports whether the attribute
// cap was exceeded.
func (g *attrGuard) step(c byte) bool {
	prev := g.tail
	g.tail = [2]byte{g.tail[1], c}
	switch g.state {
	case gText:
		if c == '<' {
			g.state = gOpen
		}
	case gOpen:
		switch c {
		case '!':
			g.state, g.pre = gBang, append(g.pre[:0], '!')
		case '?':
			g.state = gPI
		default:
			g.state, g.attrs = gTag, 0
		}
	case gBang:
		g.pre = append(g.pre, c)
		switch s := string(g.pre); {
		case s == "!--":
			g.state = gComment
			g.tail = [2]byte{}
		case s == "![CDATA[":
			g.state = gCDATA
			g.tail = [2]byte{}
		case strings.HasPrefix("!--", s), strings.HasPrefix("![CDATA[", s):
		default:
			g.state, g.depth = gDecl, strings.Count(s, "[")
			if c == '>' && g.depth == 0 {
				g.state = gText
			}
		}
	case gTag:
		switch c {
		case '"', '\'':
			g.state, g.quote = gQuoted, c
		case '=':
			g.attrs++
			if g.attrs > g.max {
				return true
			}
		case '>':
			g.state = gText
		}
	case gQuoted:
		if c == g.quote {
			g.state = gTag
		}
	case gComment:
		if c == '>' && prev == [2]byte{'-', '-'} {
			g.state = gText
		}
	case gCDATA:
		if c == '>' && prev == [2]byte{']', ']'} {
			g.state = gText
		}
	case gPI:
		if c == '>' && prev[1] == '?' {
			g.state = gText
		}
	case gDecl:
		switch c {
		case '"', '\'':
			g.state, g.quote = gDeclQuoted, c
		case '[':
			g.depth++
		case ']':
			g.depth--
		case '>':
			if g.depth <= 0 {
				g.state = gText
			}
		}
	case gDeclQuoted:
		if c == g.quote {
			g.state = gDecl
		}
	}
	return false
}
