package validate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/expertiza/expertiza/sync/wire"
)

// A detached signature is a CMS SignedData (RFC 5652), written as DER (BER
// with indefinite lengths from some CryptoPro versions), as PEM, or as bare
// base64. We check that it is a SignedData and that it is whole: the outer
// length must be covered by the file. Verifying the signature is the
// signature checker's job (it needs the signed document).

func checkSig(ctx context.Context, f *os.File, size int64, ext string, got format) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("validate: seek: %w", err)
	}
	br := bufio.NewReaderSize(ctxReader{ctx: ctx, r: f}, 64<<10)
	var (
		der   io.Reader = br
		label string
	)
	if got == fmtCMSPEM || got == fmtCMSBase64 {
		if err := skipBOMAndSpace(br); err != nil {
			return sigReadError(ctx, err)
		}
		if got == fmtCMSPEM {
			line, err := br.ReadSlice('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return sigReadError(ctx, err)
			}
			line = bytes.TrimSpace(line)
			label = string(bytes.TrimSuffix(bytes.TrimPrefix(line, []byte("-----BEGIN ")), []byte("-----")))
		}
		der = base64.NewDecoder(base64.StdEncoding, &base64Body{r: br})
	}

	head := make([]byte, 32)
	n, err := io.ReadFull(der, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return sigReadError(ctx, err)
	}
	head = head[:n]
	if inner := classifyDER(head); inner != fmtCMS {
		if inner == fmtUnknown && got != fmtCMS {
			return refuseSigDamaged("the base64 content is not an ASN.1 structure")
		}
		return refuseMismatch(ext, KindSig, inner)
	}
	_, outer, hdr, _ := derHeader(head)
	rest, err := io.Copy(io.Discard, der)
	if err != nil {
		return sigReadError(ctx, err)
	}
	total := int64(n) + rest
	if outer >= 0 && total < int64(hdr)+outer {
		return refuseSigDamaged(fmt.Sprintf("the signature declares %d bytes but the file holds %d", int64(hdr)+outer, total))
	}
	if outer < 0 && got == fmtCMS {
		// Indefinite length: the content ends with an end-of-contents
		// marker (two zero bytes); a cut-off file loses it.
		tail := make([]byte, 2)
		if _, err := f.ReadAt(tail, size-2); err != nil {
			return fmt.Errorf("validate: read: %w", err)
		}
		if tail[0] != 0 || tail[1] != 0 {
			return refuseSigDamaged("indefinite-length signature without its end-of-contents marker")
		}
	}
	if got == fmtCMSPEM {
		end, err := br.Peek(len("-----END ") + len(label) + len("-----"))
		if err != nil || string(end) != "-----END "+label+"-----" {
			return refuseSigDamaged("PEM without its END line")
		}
	}
	return nil
}

func refuseSigDamaged(detail string) *wire.Error {
	return refuse(wire.CodeInvalid,
		"Файл подписи повреждён или обрезан: сохраните подпись заново в программе электронной подписи и загрузите снова",
		fmt.Sprintf("The signature file is damaged or cut off (%s): save the signature again in your signing program and upload it again", detail))
}

func sigReadError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("validate: signature: %w", ctx.Err())
	}
	var ce base64.CorruptInputError
	if errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF) {
		return refuseSigDamaged(err.Error())
	}
	return fmt.Errorf("validate: read signature: %w", err)
}

func skipBOMAndSpace(br *bufio.Reader) error {
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		if _, err := br.Discard(3); err != nil {
			return err
		}
	}
	for {
		c, err := br.ReadByte()
		if err != nil {
			return err
		}
		if !isXMLSpace(c) {
			return br.UnreadByte()
		}
	}
}

// base64Body yields the base64 characters of a PEM body or bare base64
// file, dropping line breaks, and stops before a "-----END" line.
type base64Body struct {
	r    *bufio.Reader
	done bool
}

func (b *base64Body) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && !b.done {
		c, err := b.r.ReadByte()
		if err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
		case '-':
			b.done = true
			if err := b.r.UnreadByte(); err != nil {
				return n, err
			}
		default:
			p[n] = c
			n++
		}
	}
	if n == 0 && b.done {
		return 0, io.EOF
	}
	return n, nil
}
