package wire

// Status is the lifecycle state of an application (DESIGN.md §1).
type Status string

const (
	StatusDraft             Status = "draft"
	StatusSubmitted         Status = "submitted"
	StatusNeedsCorrection   Status = "needs_correction"
	StatusReturned          Status = "returned"
	StatusAwaitingContract  Status = "awaiting_contract"
	StatusAwaitingPayment   Status = "awaiting_payment"
	StatusInReview          Status = "in_review"
	StatusRemarksIssued     Status = "remarks_issued"
	StatusConclusion        Status = "conclusion"
	StatusCompletedPositive Status = "completed_positive"
	StatusCompletedNegative Status = "completed_negative"
	StatusWithdrawn         Status = "withdrawn"
	StatusArchived          Status = "archived"
)

// AllStatuses lists every status in lifecycle order.
var AllStatuses = []Status{
	StatusDraft, StatusSubmitted, StatusNeedsCorrection, StatusReturned,
	StatusAwaitingContract, StatusAwaitingPayment, StatusInReview,
	StatusRemarksIssued, StatusConclusion, StatusCompletedPositive,
	StatusCompletedNegative, StatusWithdrawn, StatusArchived,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range AllStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Label is the Russian label shown to users (DESIGN.md §1).
func (s Status) Label() string {
	switch s {
	case StatusDraft:
		return "Черновик"
	case StatusSubmitted:
		return "На проверке комплектности"
	case StatusNeedsCorrection:
		return "Требуется доработка"
	case StatusReturned:
		return "Возвращено без рассмотрения"
	case StatusAwaitingContract:
		return "Ожидает договора"
	case StatusAwaitingPayment:
		return "Ожидает оплаты"
	case StatusInReview:
		return "Проведение экспертизы"
	case StatusRemarksIssued:
		return "Направлены замечания"
	case StatusConclusion:
		return "Подготовка заключения"
	case StatusCompletedPositive:
		return "Положительное заключение"
	case StatusCompletedNegative:
		return "Отрицательное заключение"
	case StatusWithdrawn:
		return "Отозвано заявителем"
	case StatusArchived:
		return "В архиве"
	}
	return string(s)
}

// Terminal reports whether no workflow transition leaves s other than archiving.
func (s Status) Terminal() bool {
	switch s {
	case StatusReturned, StatusCompletedPositive, StatusCompletedNegative, StatusWithdrawn, StatusArchived:
		return true
	}
	return false
}

// Role is a user's role in the system (DESIGN.md §1 Roles).
type Role string

const (
	RoleApplicant Role = "applicant"
	RoleExpert    Role = "expert"
	RoleManager   Role = "manager"
	RoleAdmin     Role = "admin"
)

// AllRoles lists every role.
var AllRoles = []Role{RoleApplicant, RoleExpert, RoleManager, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleApplicant, RoleExpert, RoleManager, RoleAdmin:
		return true
	}
	return false
}

// Staff reports whether r belongs to the expertise office.
func (r Role) Staff() bool { return r == RoleExpert || r == RoleManager || r == RoleAdmin }

// RequiresTOTP reports whether two-factor authentication is mandatory for r.
func (r Role) RequiresTOTP() bool { return r.Staff() }

// ExpertiseKind is what is being reviewed; it selects the review term.
type ExpertiseKind string

const (
	KindProjectDocs          ExpertiseKind = "project_docs"         // проектная документация
	KindSurveys              ExpertiseKind = "surveys"              // результаты инженерных изысканий
	KindProjectDocsAndSurvey ExpertiseKind = "project_docs_surveys" // ПД и РИИ
	KindEstimate             ExpertiseKind = "estimate"             // проверка достоверности сметной стоимости
)

// Valid reports whether k is a known expertise kind.
func (k ExpertiseKind) Valid() bool {
	switch k {
	case KindProjectDocs, KindSurveys, KindProjectDocsAndSurvey, KindEstimate:
		return true
	}
	return false
}

// WorksKind is the kind of construction works.
type WorksKind string

const (
	WorksConstruction   WorksKind = "construction"   // строительство
	WorksReconstruction WorksKind = "reconstruction" // реконструкция
	WorksOverhaul       WorksKind = "overhaul"       // капитальный ремонт
)

// Valid reports whether w is a known works kind.
func (w WorksKind) Valid() bool {
	switch w {
	case WorksConstruction, WorksReconstruction, WorksOverhaul:
		return true
	}
	return false
}

// Financing is the source of financing of the object.
type Financing string

const (
	FinancingBudget    Financing = "budget"     // бюджетные средства
	FinancingNonBudget Financing = "non_budget" // внебюджетные средства
	FinancingMixed     Financing = "mixed"      // смешанное
)

// Valid reports whether f is a known financing source.
func (f Financing) Valid() bool {
	switch f {
	case FinancingBudget, FinancingNonBudget, FinancingMixed:
		return true
	}
	return false
}
