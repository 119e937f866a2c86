package sig

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"

	"github.com/expertiza/expertiza/sync/wire"
)

// malformed is the error for a signature file that cannot be read as CMS.
// ru and en say what exactly is wrong; the advice to re-export the detached
// signature is the same for every case, because that is what fixes it.
func malformed(ru, en string) *wire.Error {
	return wire.E(wire.CodeInvalid, "signature",
		"файл подписи повреждён или не является CMS: "+ru+"; выгрузите открепленную подпись (.sig) заново",
		"the signature file is damaged or is not CMS: "+en+"; export the detached signature (.sig) again")
}

// maxDepth bounds ASN.1 nesting. Real CMS signatures nest about a dozen
// levels deep; the bound keeps a crafted file from exhausting the stack.
const maxDepth = 64

// decodeInput turns the uploaded bytes into DER. It accepts binary DER or
// BER (openssl -stream and some CryptoPro versions write indefinite
// lengths), PEM with any label, and bare base64 as CryptoPro saves it.
func decodeInput(in []byte) ([]byte, error) {
	in = bytes.TrimPrefix(in, []byte("\xef\xbb\xbf")) // UTF-8 BOM from Windows editors
	// Only text forms are trimmed: binary DER may well end in a byte that
	// happens to be 0x20 or 0x0a (the last byte of the signature value).
	text := bytes.TrimSpace(in)
	if len(text) == 0 {
		return nil, malformed("файл пуст", "the file is empty")
	}
	raw := in
	switch {
	case len(in) >= 2 && in[0] == 0x30 && in[1] >= 0x80 && in[1] <= 0x84:
		// Binary: a SEQUENCE with a long or indefinite length, which no
		// text starts with. Checked first so that an attached signature
		// whose content is a PEM file is not mistaken for PEM.
	case bytes.Contains(text, []byte("-----BEGIN")): // before base64: PEM armour is base64-alphabet text too
		block, _ := pem.Decode(text)
		if block == nil {
			return nil, malformed("блок PEM повреждён", "the PEM block is damaged")
		}
		raw = block.Bytes
	case isBase64Text(text):
		raw = decodeBase64(text)
		if raw == nil {
			return nil, malformed("текст base64 повреждён", "the base64 text is damaged")
		}
	}
	if len(raw) == 0 || raw[0] != 0x30 {
		return nil, malformed("файл не начинается со структуры ASN.1 SEQUENCE", "the file does not start with an ASN.1 SEQUENCE")
	}
	der, rest, err := normalize(raw, 0)
	if err != nil {
		return nil, err
	}
	// Tools pad files with newlines or zero bytes; anything else after the
	// signature means the file was glued together or damaged.
	if len(bytes.Trim(rest, "\x00\r\n\t ")) != 0 {
		return nil, malformed("после подписи есть посторонние данные", "there is extra data after the signature")
	}
	return der, nil
}

// isBase64Text reports whether in consists only of the base64 alphabet and
// line breaks. Binary DER always contains bytes outside that set (the
// length octets of a SEQUENCE holding a certificate are ≥ 0x80).
func isBase64Text(in []byte) bool {
	for _, c := range in {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '+', c == '/', c == '=', c == '-', c == '_',
			c == '\r', c == '\n', c == ' ', c == '\t':
		default:
			return false
		}
	}
	return true
}

// decodeBase64 decodes base64 with any line wrapping, padded or not, in the
// standard or URL alphabet. It returns nil when the text is not base64.
func decodeBase64(in []byte) []byte {
	compact := make([]byte, 0, len(in))
	for _, c := range in {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			compact = append(compact, c)
		}
	}
	s := string(bytes.TrimRight(compact, "="))
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if out, err := enc.DecodeString(s); err == nil {
			return out
		}
	}
	return nil
}

// normalize re-encodes one BER element as DER: indefinite lengths become
// definite, long-form lengths become minimal and constructed OCTET STRINGs
// are joined into primitive ones. DER input comes out unchanged. It returns
// the element and the bytes after it. Every length is checked against the
// remaining input before it is used, so no input can make it read out of
// bounds; nesting is bounded by maxDepth.
func normalize(in []byte, depth int) (der, rest []byte, err error) {
	if depth > maxDepth {
		return nil, nil, malformed(fmt.Sprintf("вложенность ASN.1 глубже %d уровней", maxDepth),
			fmt.Sprintf("ASN.1 nesting deeper than %d levels", maxDepth))
	}
	if len(in) < 2 {
		return nil, nil, truncated()
	}
	tag := in[0]
	if tag&0x1f == 0x1f {
		// No CMS or X.509 structure uses tag numbers ≥ 31.
		return nil, nil, malformed("недопустимый тег ASN.1", "unsupported ASN.1 tag")
	}
	constructed := tag&0x20 != 0
	lenByte := in[1]
	in = in[2:]

	var content []byte
	switch {
	case lenByte == 0x80: // indefinite length: children up to an end-of-contents marker
		if !constructed {
			return nil, nil, malformed("неопределённая длина у простого элемента ASN.1", "indefinite length on a primitive ASN.1 element")
		}
		for {
			if len(in) >= 2 && in[0] == 0 && in[1] == 0 {
				in = in[2:]
				break
			}
			if len(in) == 0 {
				return nil, nil, truncated()
			}
			var child []byte
			if child, in, err = normalize(in, depth+1); err != nil {
				return nil, nil, err
			}
			content = append(content, child...)
		}
		rest = in
	default:
		n := uint64(lenByte)
		if lenByte&0x80 != 0 {
			k := int(lenByte & 0x7f)
			if k > 4 || len(in) < k {
				return nil, nil, truncated()
			}
			n = 0
			for _, b := range in[:k] {
				n = n<<8 | uint64(b)
			}
			in = in[k:]
		}
		if n > uint64(len(in)) {
			return nil, nil, truncated()
		}
		body := in[:n]
		rest = in[n:]
		if !constructed {
			content = body
			break
		}
		for len(body) > 0 {
			var child []byte
			if child, body, err = normalize(body, depth+1); err != nil {
				return nil, nil, err
			}
			content = append(content, child...)
		}
	}

	if uint64(len(content)) > 0xffffffff {
		return nil, nil, malformed("элемент ASN.1 больше 4 ГиБ", "an ASN.1 element is larger than 4 GiB")
	}
	if tag == 0x24 { // constructed OCTET STRING: DER requires the primitive form
		if content, err = joinOctetStrings(content); err != nil {
			return nil, nil, err
		}
		tag = 0x04
	}
	return appendElement(nil, tag, content), rest, nil
}

// joinOctetStrings concatenates the already normalised (hence primitive,
// definite-length) OCTET STRING segments of a constructed OCTET STRING.
func joinOctetStrings(segments []byte) ([]byte, error) {
	var out []byte
	for len(segments) > 0 {
		if segments[0] != 0x04 {
			return nil, malformed("составная OCTET STRING содержит чужой элемент", "a constructed OCTET STRING holds a foreign element")
		}
		body, rest, ok := splitDER(segments)
		if !ok {
			return nil, truncated()
		}
		out = append(out, body...)
		segments = rest
	}
	return out, nil
}

// splitDER reads the header of a DER element produced by appendElement and
// returns its content and the bytes after it.
func splitDER(in []byte) (content, rest []byte, ok bool) {
	if len(in) < 2 {
		return nil, nil, false
	}
	n, hdr := int(in[1]), 2
	if in[1]&0x80 != 0 {
		k := int(in[1] & 0x7f)
		if k > 4 || len(in) < 2+k {
			return nil, nil, false
		}
		n = 0
		for _, b := range in[2 : 2+k] {
			n = n<<8 | int(b)
		}
		hdr += k
	}
	if n < 0 || n > len(in)-hdr {
		return nil, nil, false
	}
	return in[hdr : hdr+n], in[hdr+n:], true
}

// appendElement appends tag, minimal DER length and content to dst.
func appendElement(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xff:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}

func truncated() *wire.Error {
	return malformed("файл обрезан или длина элемента ASN.1 выходит за его конец",
		"the file is truncated or an ASN.1 length runs past its end")
}
