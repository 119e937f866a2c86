package wire

import "strings"

// ValidEmail checks the shape of an e-mail address (a mailbox proves
// itself only by receiving mail).
func ValidEmail(field, email string) error {
	at := strings.IndexByte(email, '@')
	if at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n") || len(email) > 254 {
		return E(CodeInvalid, field, "Укажите адрес электронной почты вида name@example.ru", "Enter an e-mail address like name@example.ru")
	}
	return nil
}

// ApplicationInputErrors lists what is wrong with an application form,
// one error per field in the form's order, so a client can mark every bad
// field at once and the server refuses with the first. When create is
// true every required field must be present; otherwise only the fields
// being changed are checked.
func ApplicationInputErrors(in ApplicationInput, create bool) []*Error {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	var errs []*Error
	add := func(err error) {
		if e, ok := AsError(err); ok {
			errs = append(errs, e)
		}
	}
	if (create || in.ObjectName != nil) && str(in.ObjectName) == "" {
		add(E(CodeInvalid, "object_name", "Укажите наименование объекта капитального строительства", "Enter the name of the construction object"))
	}
	if (create || in.ObjectAddress != nil) && str(in.ObjectAddress) == "" {
		add(E(CodeInvalid, "object_address", "Укажите адрес (местоположение) объекта", "Enter the object's address"))
	}
	if (create || in.WorksKind != nil) && (in.WorksKind == nil || !in.WorksKind.Valid()) {
		add(E(CodeInvalid, "works_kind", "Выберите вид работ: строительство, реконструкция или капитальный ремонт", "Choose the kind of works: construction, reconstruction or overhaul"))
	}
	if (create || in.ExpertiseKind != nil) && (in.ExpertiseKind == nil || !in.ExpertiseKind.Valid()) {
		add(E(CodeInvalid, "expertise_kind", "Выберите предмет экспертизы", "Choose what the expertise covers"))
	}
	if (create || in.Financing != nil) && (in.Financing == nil || !in.Financing.Valid()) {
		add(E(CodeInvalid, "financing", "Выберите источник финансирования", "Choose the source of financing"))
	}
	if in.ApplicantEmail != nil && str(in.ApplicantEmail) != "" {
		add(ValidEmail("applicant_email", str(in.ApplicantEmail)))
	}
	return errs
}
