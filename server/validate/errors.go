package validate

import (
	"fmt"
	"strings"

	"github.com/expertiza/expertiza/sync/wire"
)

// Every refusal names the field "file" and says, in Russian and English,
// what is wrong and what the user can do about it. Technical details that
// help support (a parser's message, an offset) go into the English text and
// the log only.

func refuse(code wire.Code, ru, en string) *wire.Error {
	return wire.E(code, "file", ru, en)
}

func refuseExtension(ext string) *wire.Error {
	if ext == "" || ext == "." {
		return refuse(wire.CodeInvalid,
			"У файла нет расширения, поэтому его тип неизвестен: добавьте к имени расширение по формату файла (допускаются "+allowedExts+")",
			"The file has no extension, so its type is unknown: add the extension of its format to the name (allowed: "+allowedExts+")")
	}
	return refuse(wire.CodeInvalid,
		fmt.Sprintf("Файлы %s не принимаются: сохраните документ в одном из допустимых форматов (%s)", ext, allowedExts),
		fmt.Sprintf("%s files are not accepted: save the document in one of the allowed formats (%s)", ext, allowedExts))
}

func refuseEmpty() *wire.Error {
	return refuse(wire.CodeInvalid,
		"Файл пустой (0 байт): загрузите его заново — возможно, он не успел сохраниться",
		"The file is empty (0 bytes): upload it again — it may not have been saved completely")
}

// mb formats a byte count for people: KB below a megabyte, GB from a
// gigabyte, one decimal where it matters; Russian uses a decimal comma.
func mb(n int64) (ru, en string) {
	units := []struct {
		size   float64
		ru, en string
	}{{1 << 30, "ГБ", "GB"}, {1 << 20, "МБ", "MB"}, {1 << 10, "КБ", "KB"}}
	u := units[len(units)-1]
	for _, c := range units {
		if float64(n) >= c.size {
			u = c
			break
		}
	}
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/u.size), ".0")
	return strings.Replace(s, ".", ",", 1) + " " + u.ru, s + " " + u.en
}

func refuseSize(k Kind, size, limit int64) *wire.Error {
	sr, se := mb(size)
	lr, le := mb(limit)
	if k.isScan() {
		return refuse(wire.CodeTooLarge,
			fmt.Sprintf("Файл весит %s, а для сканов (JPEG, PNG) допускается не более %s: отсканируйте с разрешением 300 dpi или сохраните скан в PDF", sr, lr),
			fmt.Sprintf("The file is %s, and scans (JPEG, PNG) may be at most %s: scan at 300 dpi or save the scan as PDF", se, le))
	}
	return refuse(wire.CodeTooLarge,
		fmt.Sprintf("Файл весит %s, а для документации допускается не более %s: разделите документ на части или уменьшите его (например, сожмите изображения)", sr, lr),
		fmt.Sprintf("The file is %s, and documentation files may be at most %s: split the document or make it smaller (for example, compress its images)", se, le))
}

// advice says how to produce a file of kind k, for mismatch refusals.
func advice(k Kind, ext string) (ru, en string) {
	up := strings.ToUpper(strings.TrimPrefix(ext, "."))
	switch k {
	case KindPDF:
		return "сохраните документ в PDF (Файл → Сохранить как → PDF) или исправьте расширение",
			"save the document as PDF (File → Save As → PDF) or correct the extension"
	case KindXML:
		return "загрузите XML-файл, выгруженный из программы, или исправьте расширение",
			"upload the XML file exported by your program or correct the extension"
	case KindXLS, KindXLSX, KindODS:
		return fmt.Sprintf("сохраните таблицу в формате %s (Файл → Сохранить как) или исправьте расширение", up),
			fmt.Sprintf("save the spreadsheet as %s (File → Save As) or correct the extension", up)
	case KindDOCX:
		return "сохраните документ в формате DOCX (Файл → Сохранить как) или исправьте расширение",
			"save the document as DOCX (File → Save As) or correct the extension"
	case KindJPEG:
		return "сохраните изображение в формате JPEG или исправьте расширение",
			"save the image as JPEG or correct the extension"
	case KindPNG:
		return "сохраните изображение в формате PNG или исправьте расширение",
			"save the image as PNG or correct the extension"
	case KindSig:
		return "загрузите файл отсоединённой электронной подписи (CMS/PKCS#7), созданный программой подписи (например, КриптоАРМ)",
			"upload the detached electronic signature file (CMS/PKCS#7) made by your signing program (for example, CryptoARM)"
	}
	return "исправьте расширение", "correct the extension"
}

func refuseMismatch(ext string, k Kind, got format) *wire.Error {
	ar, ae := advice(k, ext)
	switch got {
	case fmtOfficeEncrypted:
		return refuse(wire.CodeInvalid,
			fmt.Sprintf("Файл %s защищён паролем, и его содержимое нельзя проверить: откройте его, снимите пароль (Файл → Сведения → Защита) и загрузите снова", ext),
			fmt.Sprintf("The %s file is protected with a password, so its content cannot be checked: open it, remove the password (File → Info → Protect) and upload it again", ext))
	case fmtUnknown:
		return refuse(wire.CodeInvalid,
			fmt.Sprintf("Файл называется %s, но его содержимое не похоже ни на один известный формат — возможно, файл повреждён: %s", ext, ar),
			fmt.Sprintf("The file is named %s, but its content matches no known format — it may be damaged: %s", ext, ae))
	}
	n := formatName[got]
	return refuse(wire.CodeInvalid,
		fmt.Sprintf("Файл называется %s, но по содержимому это %s: %s", ext, n[0], ar),
		fmt.Sprintf("The file is named %s, but its content is %s: %s", ext, n[1], ae))
}

// refuseCorrupt is the refusal for a file of the right type that does not
// parse; detail (English, technical) goes to the English text only.
func refuseCorrupt(ext, detail string) *wire.Error {
	up := strings.ToUpper(strings.TrimPrefix(ext, "."))
	return refuse(wire.CodeInvalid,
		fmt.Sprintf("Файл %s повреждён или сохранён не полностью и не читается: пересохраните его в формате %s в исходной программе и загрузите снова", ext, up),
		fmt.Sprintf("The %s file is damaged or incomplete and cannot be read (%s): re-save it as %s in the program that made it and upload it again", ext, detail, up))
}
